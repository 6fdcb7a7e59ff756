/**
 * The one LoginLimiter contract, run against MemoryLoginLimiter, RedisLoginLimiter on a
 * standalone Redis and on a 3-master Cluster, so the limiters cannot drift apart.
 *
 * Window-expiry tests use real short windows (300 ms): Redis expires keys on its own clock, so
 * there is nothing to fake; margins are generous because CI machines are noisy.
 */
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoginLimiter, LoginLimits } from '../../src/login-limiter.js'

/** `count` limiters that share one state (Redis: separate connections, like app instances). */
export type MakeLimiters = (limits: LoginLimits, count?: number) => Promise<LoginLimiter[]>

const MINUTE = 60_000
const limitsOf = (perUserIp: number, perIp: number, windowMs = MINUTE): LoginLimits =>
  ({ perUserIp: { max: perUserIp, windowMs }, perIp: { max: perIp, windowMs } })

let counter = 0
/** A fresh ip per test (documentation ranges), so tests sharing a prefix never share counters. */
const newIp = (): string => `198.51.${Math.floor(++counter / 250)}.${counter % 250}`
const times = async (n: number, fn: () => Promise<void>): Promise<void> => { for (let i = 0; i < n; i++) await fn() }

export function loginLimiterContract (t: Test, makeLimiters: MakeLimiters): void {
  const one = async (limits: LoginLimits): Promise<LoginLimiter> => (await makeLimiters(limits, 1))[0]!

  t.test('under the limit, attempts proceed', async (t) => {
    const limiter = await one(limitsOf(3, 100))
    const ip = newIp()
    t.equal(await limiter.check('alice', ip), 0, 'no failures yet')
    await times(2, () => limiter.fail('alice', ip))
    t.equal(await limiter.check('alice', ip), 0, 'max - 1 failures')
  })

  t.test('the max-th failure blocks, for about the window', async (t) => {
    const limiter = await one(limitsOf(3, 100))
    const ip = newIp()
    await times(3, () => limiter.fail('alice', ip))
    const wait = await limiter.check('alice', ip)
    t.ok(wait > MINUTE - 5_000 && wait <= MINUTE, `retry in ${wait} ms`)
    t.equal(await limiter.check('bob', ip), 0, 'another username from the same ip is not blocked by it')
  })

  t.test('a success forgets the username+ip failures, not the ip ones', async (t) => {
    const limiter = await one(limitsOf(3, 5))
    const ip = newIp()
    await times(2, () => limiter.fail('alice', ip))
    await limiter.succeed('alice', ip)
    await times(2, () => limiter.fail('alice', ip))
    t.equal(await limiter.check('alice', ip), 0, '2 failures since the success (4 in all) are under 3')
    await limiter.fail('carol', ip)
    t.ok(await limiter.check('dave', ip) > 0, 'the ip counted all 5, the success did not reset it')
    await limiter.succeed('nobody-failed', ip)
    t.ok(await limiter.check('dave', ip) > 0, 'a success never resets the ip counter')
  })

  t.test('the per-ip limit blocks every username from that ip, and only that ip', async (t) => {
    const limiter = await one(limitsOf(100, 5))
    const ip = newIp()
    for (let i = 0; i < 5; i++) await limiter.fail(`user${i}`, ip)
    t.ok(await limiter.check('someone-new', ip) > 0, 'a username never tried is blocked')
    t.equal(await limiter.check('someone-new', newIp()), 0, 'another ip is not')
  })

  t.test('different ips are independent', async (t) => {
    const limiter = await one(limitsOf(2, 100))
    const [ip1, ip2] = [newIp(), newIp()]
    await times(2, () => limiter.fail('alice', ip1))
    t.ok(await limiter.check('alice', ip1) > 0)
    t.equal(await limiter.check('alice', ip2), 0)
    await limiter.fail('alice', ip2)
    t.equal(await limiter.check('alice', ip2), 0, 'ip2 has its own count')
  })

  t.test('a window ends by itself, and the next failure starts a new one', async (t) => {
    const limiter = await one(limitsOf(2, 3, 300)) // real 300 ms windows: nothing to fake
    const ip = newIp()
    await times(3, () => limiter.fail('alice', ip))
    const wait = await limiter.check('alice', ip)
    t.ok(wait > 0 && wait <= 300, `blocked for ${wait} ms`)
    await sleep(wait + 100)
    t.equal(await limiter.check('alice', ip), 0, 'unblocked when the window ends')
    await limiter.fail('alice', ip)
    t.equal(await limiter.check('alice', ip), 0, 'a fresh window counts from 1')
  })

  t.test('parallel failures, from several instances, are each counted exactly once', async (t) => {
    const limiters = await makeLimiters(limitsOf(20, 1000), 4)
    const ip = newIp()
    const fail = (username: string, n: number): Promise<void[]> => Promise.all(Array.from({ length: n }, (_, i) => limiters[i % limiters.length]!.fail(username, ip)))
    await fail('alice', 19)
    t.equal(await limiters[0]!.check('alice', ip), 0, '19 parallel failures stay under 20')
    await limiters[1]!.fail('alice', ip)
    t.ok(await limiters[2]!.check('alice', ip) > 0, 'the 20th blocks')
    await fail('bob', 20)
    t.ok(await limiters[3]!.check('bob', ip) > 0, '20 parallel failures block')
  })

  t.test('usernames differing only by case or compatibility form share a counter', async (t) => {
    const limiter = await one(limitsOf(3, 100))
    const ip = newIp()
    await limiter.fail('Alice', ip)
    await limiter.fail('ALICE', ip)
    await limiter.fail('ａｌｉｃｅ', ip) // fullwidth: NFKC makes it `alice`
    t.ok(await limiter.check('alice', ip) > 0)
    await limiter.succeed('aLiCe', ip)
    t.equal(await limiter.check('ALICE', ip), 0, 'a success under any spelling clears it')
  })

  t.test('any username and ip content works and stays apart', async (t) => {
    const limiter = await one(limitsOf(1, 100))
    const long = 'x'.repeat(5000)
    const odd = ['{brace}', 'new\nline', '✓ ünïcödé 🔑', '\ud800 lone surrogate', '', long, long + 'y']
    const ip = newIp()
    for (const username of odd) await limiter.fail(username, ip)
    for (const username of odd) t.ok(await limiter.check(username, ip) > 0, `blocked: ${JSON.stringify(username.slice(0, 20))}`)
    t.equal(await limiter.check('other', ip), 0, 'no collision with an untried username')
    for (const weirdIp of ['{a}b', '::ffff:203.0.113.7', 'f'.repeat(500), '']) {
      await limiter.fail('zed', weirdIp)
      t.ok(await limiter.check('zed', weirdIp) > 0, `ip ${JSON.stringify(weirdIp.slice(0, 20))}`)
    }
    t.equal(await limiter.check('zed', 'f'.repeat(501)), 0, 'long ips are told apart')
  })
}
