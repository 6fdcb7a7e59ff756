/**
 * The DBSC store on memory, Redis and a Redis Cluster: a challenge is taken once however many
 * take it at the same time, expires by itself, and is at rest only as its digest; a session key
 * is kept and read back. A Redis that is down answers 503 at the DBSC routes, never a 500.
 */
import t, { type Test } from 'tap'
import { issueChallenge, redeemChallenge } from '../src/binding/dbsc/challenges.js'
import { MemoryDbscStore } from '../src/binding/dbsc/memory-store.js'
import { RedisDbscStore } from '../src/binding/dbsc/redis-store.js'
import type { DbscStore } from '../src/binding/dbsc/store.js'
import { redisClusterForTest, redisForTest } from '../support/redis-harness.js'
import { buildApp } from './helpers/build-app.js'
import { connectCluster, connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { dbscProof, generateDbscKey, sfParam } from './helpers/dbsc-client.js'

const SUBJECT = { purpose: 'register', userId: 'u-1', sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' } as const

async function contract (t: Test, store: DbscStore, atRest?: () => Promise<string[]>): Promise<void> {
  const challenge = await issueChallenge(store, 60_000, SUBJECT)
  t.match(challenge, /^[A-Za-z0-9_-]{43}$/)
  if (atRest !== undefined) {
    const stored = (await atRest()).join('\n')
    t.notOk(stored.includes(challenge), 'the challenge itself is not at rest')
    t.ok(stored.includes('u-1'), 'what it was issued for is')
  }
  const takers = await Promise.all(Array.from({ length: 8 }, async () => await redeemChallenge(store, challenge)))
  t.same(takers.filter((taken) => taken !== null), [SUBJECT], 'taken exactly once by 8 concurrent takers')

  // A 50 ms TTL, read 120 ms later (Redis expires a key on read once its time has passed).
  const short = await issueChallenge(store, 50, SUBJECT)
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal(await redeemChallenge(store, short), null, 'expired')

  t.equal(await store.getSessionKey(SUBJECT.sessionId), null)
  await store.putSessionKey(SUBJECT.sessionId, '["u-1",{"kty":"EC"}]', 60_000)
  t.equal(await store.getSessionKey(SUBJECT.sessionId), '["u-1",{"kty":"EC"}]')
  t.equal(await redeemChallenge(store, { not: 'a string' }), null)
}

t.test('memory', async (t) => {
  const store = new MemoryDbscStore()
  await contract(t, store)
  // A challenge never redeemed (a browser without DBSC) does not stay: swept on a later write.
  await issueChallenge(store, 1, SUBJECT)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const before = store.size
  await issueChallenge(store, 60_000, SUBJECT)
  t.equal(store.size, before, 'the expired entry was swept as the new one was written')
})

t.test('redis', async (t) => {
  const server = await redisForTest(t)
  const redis = await connectRedis(t, server)
  const prefix = uniquePrefix('dbsc')
  await contract(t, new RedisDbscStore({ redis, prefix, commandTimeoutMs: 1000 }), async () => {
    const keys = await redis.keys(`${prefix}*`)
    t.ok(keys.every((key) => /:dbsc:[ck]:[A-Za-z0-9_-]+$/.test(key)), 'keys by digest or session id')
    t.ok(await Promise.all(keys.map(async (key) => await redis.pttl(key))).then((ttls) => ttls.every((ttl) => ttl > 0)), 'every key expires')
    return [...keys, ...await Promise.all(keys.map(async (key) => await redis.get(key) ?? ''))]
  })
})

t.test('redis cluster', async (t) => {
  const cluster = await redisClusterForTest(t)
  const redis = await connectCluster(t, cluster)
  await contract(t, new RedisDbscStore({ redis, prefix: uniquePrefix('dbsc'), commandTimeoutMs: 1000 }))
})

t.test('Redis down: 503 AUTH_STORE_UNAVAILABLE at every DBSC step, never a 500', async (t) => {
  const server = await redisForTest(t)
  const redis = await connectRedis(t, server)
  const { app } = await buildApp(t, { options: { redis, prefix: uniquePrefix('dbsc'), dbsc: { enabled: true }, commandTimeout: '200ms' } })
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })
  const challenge = sfParam(login.headers['secure-session-registration'] as string, 'challenge')!
  const { sessionId } = login.json()
  const key = await generateDbscKey()
  await server.stop()
  const answers = [
    await app.inject({ method: 'POST', url: '/auth/dbsc/register', headers: { 'secure-session-response': await dbscProof(key, challenge, { withKey: true }) } }),
    await app.inject({ method: 'POST', url: '/auth/dbsc/refresh', headers: { 'sec-secure-session-id': sessionId } })
  ]
  for (const answer of answers) {
    t.equal(answer.statusCode, 503)
    t.equal(answer.json().code, 'AUTH_STORE_UNAVAILABLE')
  }
})

t.test('a challenge that cannot be stored costs the offer, not the login', async (t) => {
  const server = await redisForTest(t)
  const redis = await connectRedis(t, server)
  const { app, logs } = await buildApp(t, { captureLogs: true, options: { redis, prefix: uniquePrefix('dbsc'), dbsc: { enabled: true } } })
  // The session scripts run (EVALSHA); only the plain SET of the challenge fails.
  redis.set = (async () => { throw new Error('SET refused') }) as unknown as typeof redis.set
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })
  t.equal(login.statusCode, 200)
  t.notOk(login.headers['secure-session-registration'], 'no offer')
  t.ok(logs.some((line) => line.includes('DBSC registration not offered') && line.includes('AUTH_STORE_UNAVAILABLE')), 'a warning says why')
})
