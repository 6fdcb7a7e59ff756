/**
 * What survives a lost index (Redis evicting a user's session index under a maxmemory policy the
 * app accepted with allowRedisEviction): revoke-all leaves a mark that the rotate script checks,
 * so the sessions the index no longer lists cannot refresh after a logout-all. The loss is
 * simulated by deleting the index key, as an eviction would.
 */
import t from 'tap'
import { RedisStore } from '../src/redis/redis-store.js'
import { sessionKeys } from '../src/redis/keys.js'
import { SessionCore } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const LIMITS = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 1_000, maxSessionsPerUser: 10 }
const server = await redisForTest(t)
const redis = await connectRedis(t, server)

t.test('logout-all after the index was evicted: no session it lost refreshes again, and none comes back in the list', async (t) => {
  const prefix = uniquePrefix('lost')
  // A controlled clock: the mark covers sessions made before the revoke-all's millisecond (one
  // made in that same millisecond, and lost by an eviction, is not covered: see the README).
  let now = Date.now() + 86_400_000
  const sessions = new SessionCore(new RedisStore({ redis, prefix, ...LIMITS, clock: () => now }))
  const a = await sessions.create('lost-index')
  const b = await sessions.create('lost-index')
  now += 1
  await redis.del(sessionKeys(prefix, 'lost-index').index) // what an eviction does
  t.equal(await sessions.revokeAll('lost-index'), 0, 'revoke-all cannot see them...')
  for (const [name, token] of [['a', a.token], ['b', b.token]] as const) {
    t.equal((await sessions.rotate(token)).outcome, 'missing', `...yet session ${name} no longer refreshes`)
  }
  t.equal(await sessions.bind('lost-index', a.session.id, { kind: 'dbsc', thumbprint: 'A'.repeat(43) }), 'missing', 'it cannot be bound')
  t.equal(await sessions.setAuthentication('lost-index', b.session.id, 'pwd'), false, 'nor re-authenticated')
  t.same(await sessions.list('lost-index'), [], 'and no rotation put it back in the list')
  const after = await sessions.create('lost-index')
  t.equal((await sessions.rotate(after.token)).outcome, 'rotated', 'a session made after the logout-all works')
})

t.test('the session that revoke-all kept survives its mark', async (t) => {
  const prefix = uniquePrefix('kept')
  let now = Date.now() + 86_400_000
  const sessions = new SessionCore(new RedisStore({ redis, prefix, ...LIMITS, clock: () => now }))
  const kept = await sessions.create('kept-index')
  const other = await sessions.create('kept-index')
  now += 1
  await redis.del(sessionKeys(prefix, 'kept-index').index)
  await sessions.revokeAll('kept-index', { except: kept.session.id })
  t.equal(await sessions.setAuthentication('kept-index', kept.session.id, 'pwd'), true, 'the kept session can be re-authenticated')
  t.equal((await sessions.rotate(kept.token)).outcome, 'rotated', 'the kept session refreshes')
  t.equal((await sessions.rotate(other.token)).outcome, 'missing', 'the other does not')
})

t.test('without eviction the mark changes nothing: sessions made in the same millisecond as a revoke-all after it live', async (t) => {
  const prefix = uniquePrefix('same-ms')
  let now = Date.now() + 86_400_000
  const sessions = new SessionCore(new RedisStore({ redis, prefix, ...LIMITS, clock: () => now }))
  await sessions.create('same-ms')
  await sessions.revokeAll('same-ms')
  const created = await sessions.create('same-ms') // same clock reading as the mark
  now += 1
  t.equal((await sessions.rotate(created.token)).outcome, 'rotated')
})
