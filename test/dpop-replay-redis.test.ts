/**
 * The DPoP jti replay check on Redis: a proof used on one app instance is refused by another on
 * the same Redis; each proof is one `SET NX PX` (no other command, no second round trip) under a
 * key that holds neither the jti nor the thumbprint, with a TTL of twice the iat window + 1 s.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { ALICE, buildApp } from './helpers/build-app.js'
import { proof, testKey } from './helpers/dpop.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { networkCommands } from './helpers/commandstats.js'

const server = await redisForTest(t, { allowExternal: false })
const key = await testKey()
const LOGIN_URL = 'http://localhost/auth/login'

t.test('a proof is used once across two app instances on one Redis', async (t) => {
  const prefix = uniquePrefix('dpop')
  const a = await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, transport: 'body' } })
  const b = await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, transport: 'body' } })
  const loginWith = async (app: typeof a.app, dpop: string): Promise<import('light-my-request').Response> =>
    await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password }, headers: { dpop } })

  const jti = 'a-jti-that-must-never-be-stored-as-sent'
  const once = await proof(key, { htu: LOGIN_URL, jti })
  t.equal((await loginWith(a.app, once)).statusCode, 200, 'instance A')
  const replayed = await loginWith(b.app, once)
  t.equal(replayed.statusCode, 401, 'instance B')
  t.equal(replayed.json().code, 'AUTH_DPOP_PROOF_INVALID')
  t.match(b.events.onProofRefused, [{ reason: 'replay' }])
  t.equal((await loginWith(a.app, once)).statusCode, 401, 'and A again')

  const token = (await loginWith(a.app, await proof(key, { htu: LOGIN_URL }))).json().accessToken as string
  const call = await proof(key, { htm: 'GET', htu: 'http://localhost/me', accessToken: token })
  const me = async (app: typeof a.app): Promise<number> => (await app.inject({ url: '/me', headers: { authorization: `DPoP ${token}`, dpop: call } })).statusCode
  t.equal(await me(b.app), 200, 'an API call on B')
  t.equal(await me(a.app), 401, 'its proof replayed on A')

  const admin = new Redis(server.url)
  t.teardown(() => admin.disconnect())
  const keys = await admin.keys(`${prefix}dpop:*`)
  t.equal(keys.length, 3, 'one key per proof accepted (refused ones claim nothing)')
  for (const stored of keys) {
    t.match(stored, new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}dpop:jti:[A-Za-z0-9_-]{22}$`))
    t.notOk(stored.includes(jti) || stored.includes(key.thumbprint), 'neither jti nor thumbprint in the key')
    t.equal(await admin.get(stored), '1', 'nor in the value')
    const ttl = await admin.pttl(stored)
    t.ok(ttl > 55_000 && ttl <= 61_000, `kept 2 x 30 s + 1 s (${ttl} ms left)`)
  }
})

t.test('one SET per proof, nothing else: a refresh is the jti claim and the rotation script', async (t) => {
  const prefix = uniquePrefix('dpop-cost')
  const redis = await connectRedis(t, server)
  const { app } = await buildApp(t, { options: { redis, prefix, transport: 'body' } })
  let refreshToken = (await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password }, headers: { dpop: await proof(key, { htu: LOGIN_URL }) } })).json().refreshToken as string
  // Once first, so that the rotation script is loaded (EVALSHA from then on).
  refreshToken = (await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken }, headers: { dpop: await proof(key) } })).json().refreshToken
  const admin = new Redis(server.url)
  t.teardown(() => admin.disconnect())
  let token = ''
  const sent = await networkCommands(admin, redis, async () => {
    const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken }, headers: { dpop: await proof(key) } })
    t.equal(refreshed.statusCode, 200)
    token = refreshed.json().accessToken
  })
  t.same(sent.sort(), ['evalsha', 'set'], 'refresh: the jti claim and the rotation, nothing else')
  const apiSent = await networkCommands(admin, redis, async () => {
    const me = await app.inject({ url: '/me', headers: { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: 'http://localhost/me', accessToken: token }) } })
    t.equal(me.statusCode, 200)
  })
  t.same(apiSent, ['set'], 'authenticate with DPoP: one SET')
})

t.test('Redis down: the jti cannot be checked, so the proof is refused with 503, never accepted', async (t) => {
  const prefix = uniquePrefix('dpop-down')
  const redis = await connectRedis(t, server)
  const { app } = await buildApp(t, { options: { redis, prefix, transport: 'body' } })
  redis.disconnect()
  const response = await app.inject({ url: '/me', headers: { authorization: 'DPoP x.y.z' } })
  t.equal(response.statusCode, 401, 'a bad token is refused before any Redis call')
  const down = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password }, headers: { dpop: await proof(key, { htu: LOGIN_URL }) } })
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'AUTH_STORE_UNAVAILABLE')
})
