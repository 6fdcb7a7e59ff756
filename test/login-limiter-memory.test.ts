import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_LOGIN_LIMITS } from '../src/login-limiter/limiter.js'
import { MemoryLoginLimiter } from '../src/login-limiter/memory-limiter.js'
import { loginLimiterContract } from './helpers/login-limiter-contract.js'

loginLimiterContract(t, async (limits, count = 1) => {
  const limiter = new MemoryLoginLimiter({ limits })
  t.teardown(() => limiter.close())
  return Array.from({ length: count }, () => limiter)
})

t.test('defaults: 10 per 15 min per username+ip, 100 per 15 min per ip', async (t) => {
  t.same(DEFAULT_LOGIN_LIMITS, { perUserIp: { max: 10, windowMs: 900_000 }, perIp: { max: 100, windowMs: 900_000 } })
  const limiter = new MemoryLoginLimiter()
  t.teardown(() => limiter.close())
  for (let i = 0; i < 10; i++) t.equal(await limiter.reserve('alice', '203.0.113.1'), 0, `attempt ${i + 1} admitted`)
  t.ok(await limiter.reserve('alice', '203.0.113.1') > 890_000, 'the 11th is refused for about 15 min')
  for (let i = 0; i < 90; i++) await limiter.reserve(`user${i}`, '203.0.113.1')
  t.ok(await limiter.reserve('someone', '203.0.113.1') > 890_000, '100 attempts from the ip: the 101st is refused')
})

t.test('a spray of usernames cannot grow memory past the cap; the oldest go first', async (t) => {
  const limiter = new MemoryLoginLimiter({ maxEntries: 100, limits: { perUserIp: { max: 1, windowMs: 60_000 }, perIp: { max: 1000, windowMs: 60_000 } } })
  t.teardown(() => limiter.close())
  for (let i = 0; i < 1000; i++) await limiter.reserve(`user${i}`, `203.0.113.${i % 200}`)
  t.ok(limiter.size <= 100, `${limiter.size} entries`)
  t.ok(await limiter.reserve('user999', '203.0.113.199') > 0, 'the newest counters are kept')
  t.equal(await limiter.reserve('user0', '203.0.113.0'), 0, 'the oldest were dropped')
})

t.test('expired windows are swept even if never looked at again', async (t) => {
  const limiter = new MemoryLoginLimiter({ sweepIntervalMs: 50, limits: { perUserIp: { max: 5, windowMs: 100 }, perIp: { max: 5, windowMs: 100 } } })
  t.teardown(() => limiter.close())
  for (let i = 0; i < 50; i++) await limiter.reserve(`user${i}`, `203.0.113.${i}`)
  t.equal(limiter.size, 100)
  await sleep(250)
  t.equal(limiter.size, 0)
})

t.test('a release drops the ip counter at 0, so successes leave nothing behind', async (t) => {
  const limiter = new MemoryLoginLimiter()
  t.teardown(() => limiter.close())
  for (let i = 0; i < 20; i++) {
    t.equal(await limiter.reserve(`user${i}`, '203.0.113.20'), 0)
    await limiter.release(`user${i}`, '203.0.113.20')
  }
  t.equal(limiter.size, 0, 'no counters left')
})

t.test('limits are checked at construction', async (t) => {
  t.throws(() => new MemoryLoginLimiter({ limits: { perUserIp: { max: 0, windowMs: 1000 }, perIp: { max: 1, windowMs: 1000 } } }), /perUserIp\.max/)
  t.throws(() => new MemoryLoginLimiter({ limits: { perUserIp: { max: 1, windowMs: 1000 }, perIp: { max: 1, windowMs: 1.5 } } }), /perIp\.windowMs/)
  t.throws(() => new MemoryLoginLimiter({ limits: {} as never }), /perUserIp/)
})
