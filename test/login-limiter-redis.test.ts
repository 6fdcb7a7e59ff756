import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisLoginLimiter } from '../src/login-limiter/redis-limiter.js'
import type { LoginLimits } from '../src/login-limiter/limiter.js'
import { networkCommands } from './helpers/commandstats.js'
import { loginLimiterContract } from './helpers/login-limiter-contract.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const server = await redisForTest(t)
const LIMITS: LoginLimits = { perUserIp: { max: 3, windowMs: 60_000 }, perIp: { max: 100, windowMs: 60_000 } }
const unavailable = { code: 'AUTH_STORE_UNAVAILABLE', statusCode: 503 }

loginLimiterContract(t, async (limits, count = 1) => {
  const prefix = uniquePrefix('login')
  const clients = await Promise.all(Array.from({ length: count }, () => connectRedis(t, server)))
  return clients.map((redis) => new RedisLoginLimiter({ redis, prefix, limits }))
})

t.test('Redis holds neither usernames nor ips in plain text, and every key has a TTL', async (t) => {
  const redis = await connectRedis(t, server)
  const prefix = uniquePrefix('login')
  const limiter = new RedisLoginLimiter({ redis, prefix, limits: LIMITS })
  const attempts = [['Alice.Liddell@example.com', '203.0.113.77'], ['bob', '2001:db8::1234'], ['carol', '192.0.2.200']] as const
  for (const [username, ip] of attempts) {
    await limiter.reserve(username, ip)
    await limiter.reserve(username, ip)
  }
  const keys = await redis.keys(`${prefix}*`) // a throw-away server with a unique prefix: KEYS is fine here
  t.equal(keys.length, 6, 'one ip and one username+ip counter per attempt')
  const stored = [...keys, ...await redis.mget(keys) as string[]].join('\n')
  for (const [username, ip] of attempts) {
    for (const plain of [username, username.toLowerCase(), ip]) t.notOk(stored.includes(plain), `${plain} is not in Redis`)
  }
  for (const key of keys) {
    t.match(key, /^rs-login-[0-9a-f]+:login:\{~?[A-Za-z0-9_-]+\}:(ip|u:[A-Za-z0-9_-]{22})$/, key)
    const ttl = await redis.pttl(key)
    t.ok(ttl > 0 && ttl <= 60_000, `${key} expires in ${ttl} ms`)
  }
})

t.test('reserve and release are one round trip each', async (t) => {
  const redis = await connectRedis(t, server)
  const limiter = new RedisLoginLimiter({ redis, prefix: uniquePrefix('login'), limits: LIMITS })
  await limiter.reserve('warm', '192.0.2.1') // scripts get loaded on first use (EVALSHA, then EVAL on NOSCRIPT)
  await limiter.release('warm', '192.0.2.1')
  const sent = await networkCommands(await connectRedis(t, server), redis, async () => {
    await limiter.reserve('alice', '192.0.2.1')
    await limiter.release('alice', '192.0.2.1')
  })
  t.same(sent, ['evalsha', 'evalsha'])
})

t.test('a success leaves no counter behind; a refused attempt writes nothing; a counter without TTL gets one', async (t) => {
  const redis = await connectRedis(t, server)
  const prefix = uniquePrefix('login')
  const limiter = new RedisLoginLimiter({ redis, prefix, limits: LIMITS })
  t.equal(await limiter.reserve('alice', '192.0.2.30'), 0)
  t.equal((await redis.keys(`${prefix}*`)).length, 2, 'an admitted attempt counts on both keys')
  await limiter.release('alice', '192.0.2.30')
  t.same(await redis.keys(`${prefix}*`), [], 'released: both counters gone (the ip one reached 0)')

  for (let i = 0; i < 3; i++) await limiter.reserve('bob', '192.0.2.31')
  const keys = (await redis.keys(`${prefix}*`)).sort()
  const before = await redis.mget(keys)
  t.ok(await limiter.reserve('bob', '192.0.2.31') > 0, 'refused')
  t.same(await redis.mget(keys), before, 'the refusal changed no count')
  const userKey = keys.find((key) => key.includes(':u:'))!
  await redis.persist(userKey)
  const wait = await limiter.reserve('bob', '192.0.2.31')
  t.ok(wait > 0 && wait <= 60_000, `refused for ${wait} ms`)
  const ttl = await redis.pttl(userKey)
  t.ok(ttl > 0 && ttl <= 60_000, `a counter found without a TTL got its window back (${ttl} ms)`)
})

t.test('Redis stopped: every call fails fast with StoreUnavailable; started again: it works again', async (t) => {
  const own = await redisForTest(t, { allowExternal: false })
  const limiter = new RedisLoginLimiter({ redis: await connectRedis(t, own), prefix: uniquePrefix('login'), limits: LIMITS, commandTimeoutMs: 500 })
  await limiter.reserve('alice', '192.0.2.9')
  await own.stop()
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['reserve', () => limiter.reserve('alice', '192.0.2.9')],
    ['release', () => limiter.release('alice', '192.0.2.9')]
  ]
  for (const [name, call] of calls) {
    const started = Date.now()
    await t.rejects(call(), unavailable, `${name} rejects with AUTH_STORE_UNAVAILABLE`)
    // A stopped Redis refuses the connection: the rejection is immediate, and at the latest comes
    // at the 500 ms timeout. Three timeouts plus a second is the slack a loaded 2-core runner
    // needs; a call that waited for Redis to come back would never answer before start() below.
    t.ok(Date.now() - started <= 3 * 500 + 1000, `${name} answered in ${Date.now() - started} ms`)
  }
  await own.start()
  const started = Date.now()
  for (;;) {
    try {
      t.equal(await limiter.reserve('alice', '192.0.2.9'), 0)
      break
    } catch (error) {
      if (Date.now() - started > 5_000) throw error
      await sleep(50)
    }
  }
  t.comment(`back after ${Date.now() - started} ms`)
})

t.test('Redis hung (SIGSTOP): reserve gives up at the command timeout', async (t) => {
  const own = await redisForTest(t, { allowExternal: false })
  const limiter = new RedisLoginLimiter({ redis: await connectRedis(t, own), prefix: uniquePrefix('login'), limits: LIMITS, commandTimeoutMs: 300 })
  await limiter.reserve('warm', '192.0.2.1')
  process.kill(own.pid!, 'SIGSTOP')
  t.teardown(() => { try { process.kill(own.pid!, 'SIGCONT') } catch {} })
  const started = Date.now()
  await t.rejects(limiter.reserve('alice', '192.0.2.1'), unavailable)
  const elapsed = Date.now() - started
  // Lower bound: timers never fire early, so it was the 300 ms timeout that ended the call, not an
  // error. Upper bound: three timeouts plus a second for a loaded 2-core runner; a hung Redis
  // answers nothing until SIGCONT, so without the timeout the call would never end.
  t.ok(elapsed >= 300 - 5 && elapsed <= 3 * 300 + 1000, `gave up after ${elapsed} ms`)
  process.kill(own.pid!, 'SIGCONT')
})

t.test('options are checked at construction', async (t) => {
  const redis = await connectRedis(t, server)
  t.throws(() => new RedisLoginLimiter({ redis, prefix: 'a{b}' }), /prefix/)
  t.throws(() => new RedisLoginLimiter({ redis, commandTimeoutMs: 0 }), /commandTimeoutMs/)
  t.throws(() => new RedisLoginLimiter({ redis, limits: { perUserIp: { max: 1, windowMs: 0 }, perIp: { max: 1, windowMs: 1 } } }), /perUserIp\.windowMs/)
})
