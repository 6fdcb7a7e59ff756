import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import type { RotateResult } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const limits = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }
const TIMEOUT_MS = 1_000
const unavailable = { code: 'AUTH_STORE_UNAVAILABLE', statusCode: 503 }
// Upper bounds a loaded 2-core runner keeps (3x the timeout and a second); lower bounds are exact,
// since timers never fire early: a 503 before the timeout would be another path than the timeout.
const slack = (timeoutMs: number): number => 3 * timeoutMs + 1000

async function eventually<T> (fn: () => Promise<T>, withinMs: number): Promise<{ value: T, afterMs: number }> {
  const started = Date.now()
  for (;;) {
    try {
      return { value: await fn(), afterMs: Date.now() - started }
    } catch (error) {
      if (Date.now() - started > withinMs) throw error
      await sleep(50)
    }
  }
}

t.test('Redis stopped: every operation fails fast with StoreUnavailable; restarted: the same store works again', async (t) => {
  const server = await redisForTest(t, { allowExternal: false, appendonly: true })
  const store = new SessionCore(new RedisStore({ redis: await connectRedis(t, server), prefix: uniquePrefix(), ...limits, commandTimeoutMs: TIMEOUT_MS }))
  const { token } = await store.create('frank')

  await server.stop()
  const operations: Array<[string, () => Promise<unknown>]> = [
    ['create', () => store.create('frank')],
    ['rotate', () => store.rotate(token)],
    ['revokeByToken', () => store.revokeByToken(token)],
    ['revoke', () => store.revoke('frank', 'AAAAAAAAAAAAAAAAAAAAAA')],
    ['revokeAll', () => store.revokeAll('frank')],
    ['list', () => store.list('frank')],
    ['isLive', () => store.isLive('frank', 'AAAAAAAAAAAAAAAAAAAAAA')]
  ]
  for (const [name, operation] of operations) {
    const started = Date.now()
    await t.rejects(operation(), unavailable, `${name} rejects with AUTH_STORE_UNAVAILABLE`)
    t.ok(Date.now() - started <= slack(TIMEOUT_MS), `${name} answered fast, without waiting for Redis (${Date.now() - started} ms)`)
  }

  await server.start()
  const { value, afterMs } = await eventually(() => store.rotate(token), 5_000)
  t.equal((value as RotateResult).outcome, 'rotated', 'a session created before the outage still refreshes (appendonly)')
  t.ok(afterMs < 5_000, `service came back by itself after ${afterMs} ms`)
})

t.test('Redis hung (SIGSTOP): calls give up after the command timeout, then recover on SIGCONT', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const store = new SessionCore(new RedisStore({ redis: await connectRedis(t, server), prefix: uniquePrefix(), ...limits, commandTimeoutMs: TIMEOUT_MS }))
  const { token } = await store.create('grace')
  process.kill(server.pid!, 'SIGSTOP')
  t.teardown(() => { try { process.kill(server.pid!, 'SIGCONT') } catch {} })
  const started = Date.now()
  await t.rejects(store.rotate(token), unavailable)
  const elapsed = Date.now() - started
  t.ok(elapsed >= TIMEOUT_MS - 5 && elapsed <= slack(TIMEOUT_MS), `gave up at the timeout (${elapsed} ms)`)
  process.kill(server.pid!, 'SIGCONT')
  // The hung command ran once Redis woke up, past its deadline: it wrote nothing, so the client
  // that got 503 retries with the same token and rotates (see store-redis-late-writes).
  const { value } = await eventually(() => store.rotate(token), 5_000)
  t.equal(value.outcome, 'rotated', 'the retry rotates: the 503 changed nothing')
})

t.test('a custom command timeout is honoured', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const store = new SessionCore(new RedisStore({ redis: await connectRedis(t, server), prefix: uniquePrefix(), ...limits, commandTimeoutMs: 300 }))
  process.kill(server.pid!, 'SIGSTOP')
  t.teardown(() => { try { process.kill(server.pid!, 'SIGCONT') } catch {} })
  const started = Date.now()
  await t.rejects(store.list('heidi'), unavailable)
  const elapsed = Date.now() - started
  t.ok(elapsed >= 295 && elapsed <= slack(300), `gave up after ${elapsed} ms`)
  process.kill(server.pid!, 'SIGCONT')
})
