/**
 * Commands sent in one event-loop turn leave in one socket write (write-batch.ts): concurrent
 * refreshes cost one system call between them, not one each. Counted on the client's socket.
 */
import t from 'tap'
import type { Redis } from 'ioredis'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const limits = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }

/** Counts the writes that reach the socket's handle: one per `_write`, one per `_writev` (however many chunks). */
function countSocketWrites (redis: Redis): { writes: number, chunks: number } {
  const counts = { writes: 0, chunks: 0 }
  const stream = redis.stream as unknown as { _write: (...args: unknown[]) => void, _writev: (chunks: unknown[], ...rest: unknown[]) => void }
  const write = stream._write.bind(stream)
  const writev = stream._writev.bind(stream)
  stream._write = (...args) => { counts.writes++; counts.chunks++; write(...args) }
  stream._writev = (chunks, ...rest) => { counts.writes++; counts.chunks += chunks.length; writev(chunks, ...rest) }
  return counts
}

t.test('19 rotations started in one turn: one socket write, 19 commands, every one rotated', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const sessions = new SessionCore(new RedisStore({ redis, prefix: uniquePrefix(), ...limits }))
  const created = await Promise.all(Array.from({ length: 20 }, async (_, i) => await sessions.create(`user-${i}`)))
  await sessions.rotate(created[0]!.token) // the first call may pay EVALSHA -> NOSCRIPT -> EVAL
  const tokens = created.slice(1).map((c) => c.token)

  const counts = countSocketWrites(redis)
  const results = await Promise.all(tokens.map(async (token) => await sessions.rotate(token)))
  t.strictSame(results.map((r) => r.outcome), Array(19).fill('rotated'))
  t.equal(counts.chunks, 19, 'one command each')
  t.equal(counts.writes, 1, 'all in one write')

  // Turn after turn, each turn's command goes out at the end of its own turn: nothing waits for more.
  const next = results.map((r) => r.outcome === 'rotated' ? r.token : '')
  for (const token of next.slice(0, 3)) t.equal((await sessions.rotate(token)).outcome, 'rotated')
  t.equal(counts.writes, 4, 'one more write per sequential rotation')
})
