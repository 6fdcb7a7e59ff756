/**
 * Operators are told before eviction bites: a Redis whose maxmemory-policy can evict the store's
 * keys fails `register` (unless the app opts in with allowRedisEviction, and then it warns), on a
 * standalone Redis and on any master of a Cluster; a policy changed later is reported at the
 * next reconnect.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp } from './helpers/build-app.js'
import { redisClusterForTest, redisForTest } from '../support/redis-harness.js'
import { connectCluster, connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const server = await redisForTest(t, { allowExternal: false })
const admin = await connectRedis(t, server)

const warnings = (logs: string[], level: number): string[] => logs.map((line) => JSON.parse(line) as { level: number, msg: string }).filter((line) => line.level === level && /maxmemory-policy/.test(line.msg)).map((line) => line.msg)

t.test('noeviction: register succeeds and says nothing', async (t) => {
  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  const { logs } = await buildApp(t, { captureLogs: true, options: { redis: await connectRedis(t, server), prefix: uniquePrefix() } })
  t.same(warnings(logs, 40), [])
  t.same(warnings(logs, 50), [])
})

for (const policy of ['allkeys-lru', 'volatile-ttl', 'allkeys-random']) {
  t.test(`${policy}: register fails with a message that says why and names the option`, async (t) => {
    await admin.config('SET', 'maxmemory-policy', policy)
    t.teardown(() => admin.config('SET', 'maxmemory-policy', 'noeviction'))
    await t.rejects(buildApp(t, { options: { redis: await connectRedis(t, server), prefix: uniquePrefix() } }), {
      code: 'AUTH_REDIS_EVICTION_POLICY',
      message: new RegExp(`maxmemory-policy is ${policy}: .*evict a user's session index.*noeviction.*allowRedisEviction: true`)
    })
  })
}

t.test('allowRedisEviction: register succeeds with one warning', async (t) => {
  await admin.config('SET', 'maxmemory-policy', 'volatile-lru')
  t.teardown(() => admin.config('SET', 'maxmemory-policy', 'noeviction'))
  const { app, logs } = await buildApp(t, { captureLogs: true, options: { redis: await connectRedis(t, server), prefix: uniquePrefix(), allowRedisEviction: true } })
  t.equal(warnings(logs, 40).length, 1, 'one warning')
  t.match(warnings(logs, 40)[0], /volatile-lru/)
  t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })).statusCode, 200, 'and the plugin works')
})

t.test('a policy changed while running is reported at the next reconnect', async (t) => {
  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  const redis = await connectRedis(t, server)
  const { logs } = await buildApp(t, { captureLogs: true, options: { redis, prefix: uniquePrefix() } })
  t.same(warnings(logs, 50), [])
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lfu')
  t.teardown(() => admin.config('SET', 'maxmemory-policy', 'noeviction'))
  await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
  for (let i = 0; i < 200 && warnings(logs, 50).length === 0; i++) await sleep(25)
  t.equal(warnings(logs, 50).length, 1, 'an error line after the reconnect')
  t.match(warnings(logs, 50)[0], /allkeys-lfu/)
})

t.test('Cluster: one master that can evict is enough to refuse', async (t) => {
  const cluster = await redisClusterForTest(t, { masters: 3 })
  const one = await connectRedis(t, { url: `redis://${cluster.nodes[1]!.host}:${cluster.nodes[1]!.port}` })
  await one.config('SET', 'maxmemory-policy', 'allkeys-lru')
  await t.rejects(buildApp(t, { options: { redis: await connectCluster(t, cluster), prefix: uniquePrefix() } }), { code: 'AUTH_REDIS_EVICTION_POLICY', message: /allkeys-lru/ })
  await one.config('SET', 'maxmemory-policy', 'noeviction')
  await buildApp(t, { options: { redis: await connectCluster(t, cluster), prefix: uniquePrefix() } })
  t.pass('all masters noeviction: registered')
})
