/**
 * A user with one session keeps it in the index key itself (src/redis/lua/record.lua): one key
 * instead of two. What the store contract checks for every user holds for these too; here, the
 * moves between the two layouts: a second login, a cap of 1, an end, a lost index.
 */
import t, { type Test } from 'tap'
import { sessionKeys } from '../src/redis/keys.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const LIMITS = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 1_000, maxSessionsPerUser: 3 }
const DBSC = { kind: 'dbsc' as const, thumbprint: Buffer.alloc(32, 0xc3).toString('base64url') }
const server = await redisForTest(t)
const redis = await connectRedis(t, server)

function setup (t: Test, maxSessionsPerUser = LIMITS.maxSessionsPerUser): { core: SessionCore, prefix: string, clock: { now: number } } {
  const prefix = uniquePrefix('solo')
  const clock = { now: Date.now() + 86_400_000 }
  const store = new RedisStore({ redis, prefix, ...LIMITS, maxSessionsPerUser, clock: () => clock.now })
  t.teardown(async () => { await store.close() })
  return { core: new SessionCore(store), prefix, clock }
}

const keysOf = async (prefix: string): Promise<string[]> => (await redis.keys(`${prefix}*`)).sort()

t.test("a user's only session is one key, and every operation works on it", async (t) => {
  const { core, prefix, clock } = setup(t)
  const keys = sessionKeys(prefix, 'ann')
  const { token, session } = await core.create('ann', { userAgent: 'UA', ip: '192.0.2.1', authentication: 'lz0abc pwd' })
  t.same(await keysOf(prefix), [keys.index], 'the index key holds it')
  t.equal(await redis.type(keys.index), 'string')
  t.ok(await redis.pttl(keys.index) > LIMITS.idleTtlMs, 'living as long as the session, and the linger')
  clock.now += 1_000
  const rotated = await core.rotate(token)
  t.equal(rotated.outcome, 'rotated')
  if (rotated.outcome !== 'rotated') return
  t.same(await keysOf(prefix), [keys.index], 'still one key')
  t.equal(await core.store.isLive('ann', session.id), true)
  t.equal(await core.bind('ann', session.id, DBSC), 'bound')
  t.equal(await core.setAuthentication('ann', session.id, 'lz0abd pwd'), true)
  t.match(await core.list('ann'), [{ id: session.id, lastUsedAt: clock.now, userAgent: 'UA', authentication: 'lz0abd pwd', binding: `dbsc:${DBSC.thumbprint}` }])
  clock.now += 100
  t.equal((await core.rotate(token, { binding: DBSC })).outcome, 'grace', 'its retired token within the window')
  t.equal((await core.revokeByToken(rotated.token)).outcome, 'revoked')
  t.same(await keysOf(prefix), [], 'and it is gone, key and all')
  t.equal(await core.store.isLive('ann', session.id), false)
})

t.test('a second login moves the first session to a key of its own, whole', async (t) => {
  const { core, prefix, clock } = setup(t)
  const keys = sessionKeys(prefix, 'bob')
  const first = await core.create('bob', { userAgent: 'first' })
  clock.now += 1_000
  const rotated = await core.rotate(first.token)
  if (rotated.outcome !== 'rotated') throw new Error(rotated.outcome)
  clock.now += 100
  const second = await core.create('bob', { userAgent: 'second' })
  t.same(second.evicted, [])
  t.equal(await redis.type(keys.index), 'zset', 'the index is a sorted set again')
  t.same(await keysOf(prefix), [keys.index, keys.sessionBase + first.session.id, keys.sessionBase + second.session.id].sort())
  t.ok(await redis.pttl(keys.index) > LIMITS.idleTtlMs)
  t.equal((await core.rotate(first.token)).outcome, 'grace', 'the moved session keeps its history')
  t.same((await core.list('bob')).map((s) => s.userAgent), ['second', 'first'])
  clock.now += 2_000
  const reuse = await core.rotate(first.token)
  t.equal(reuse.outcome === 'reused' && reuse.reuse, 'predecessor', 'and its reuse detection')
  t.equal((await core.rotate(second.token)).outcome, 'rotated')
})

t.test('under a cap of 1, a second login evicts the first, announced', async (t) => {
  const { core, prefix } = setup(t, 1)
  const revoked: string[] = []
  await new Promise<void>((resolve) => {
    const stop = core.store.watchRevocations!({ revoked: (ids) => revoked.push(...ids), ready: resolve, down: () => {} })
    t.teardown(stop)
  })
  const first = await core.create('cat')
  const second = await core.create('cat')
  t.same(second.evicted, [first.session.id])
  t.same(await keysOf(prefix), [sessionKeys(prefix, 'cat').index], 'the new one is kept solo')
  t.equal((await core.rotate(first.token)).outcome, 'missing')
  t.equal((await core.rotate(second.token)).outcome, 'rotated')
  for (let i = 0; i < 100 && revoked.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(revoked, [first.session.id])
})

t.test('at its end: expired while the key lingers, missing once it is dropped; a new login is solo again', async (t) => {
  const { core, prefix, clock } = setup(t)
  const first = await core.create('dan')
  clock.now += LIMITS.idleTtlMs
  t.same(await core.list('dan'), [], 'not listed...')
  t.equal((await core.rotate(first.token)).outcome, 'missing', '...and dropped by the list, as its index entry is')
  const second = await core.create('dan')
  clock.now += LIMITS.idleTtlMs + 1
  t.equal((await core.rotate(second.token)).outcome, 'expired')
  t.equal((await core.rotate(second.token)).outcome, 'missing')
  const third = await core.create('dan')
  t.same(third.evicted, [])
  t.same(await keysOf(prefix), [sessionKeys(prefix, 'dan').index])
})

t.test('revoke-all reaches the solo session, and keeps it when asked', async (t) => {
  const { core, clock } = setup(t)
  const kept = await core.create('eve')
  t.equal(await core.revokeAll('eve', { except: kept.session.id }), 0)
  clock.now += 10
  t.equal((await core.rotate(kept.token)).outcome, 'rotated')
  const gone = await core.create('fay')
  clock.now += 10
  t.equal(await core.revokeAll('fay'), 1)
  t.equal((await core.rotate(gone.token)).outcome, 'missing')
})

t.test('an index lost (evicted) and then kept solo by another login: the lost sessions still refresh, and all are listed', async (t) => {
  const { core, prefix, clock } = setup(t)
  const keys = sessionKeys(prefix, 'gus')
  const a = await core.create('gus')
  const b = await core.create('gus')
  await redis.del(keys.index) // what an eviction does
  const c = await core.create('gus')
  t.equal(await redis.type(keys.index), 'string', 'the new login is kept solo')
  clock.now += 10
  const rotated = await core.rotate(a.token)
  t.equal(rotated.outcome, 'rotated', 'a lost session refreshes: the solo one moves out of the way')
  t.equal(await redis.type(keys.index), 'zset')
  t.same((await core.list('gus')).map((s) => s.id).sort(), [a.session.id, c.session.id].sort(), 'the refreshed one is back in the index')
  t.equal((await core.rotate(c.token)).outcome, 'rotated')
  t.equal(await core.revoke('gus', b.session.id), true, 'the other lost one can be revoked')
})
