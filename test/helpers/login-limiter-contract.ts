/**
 * The one LoginLimiter contract, run against MemoryLoginLimiter, RedisLoginLimiter on a
 * standalone Redis and on a 3-master Cluster, so the limiters cannot drift apart.
 *
 * The limiter reserves: `reserve` admits an attempt and counts it in one atomic step (it stays
 * counted, as a failure, unless `release` gives it back after a success), or refuses it and
 * counts nothing. A refused reserve is therefore also a side-effect-free "is it blocked?".
 *
 * Window-expiry tests use real short windows (300 ms): Redis expires keys on its own clock, so
 * there is nothing to fake; margins are generous because CI machines are noisy.
 */
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoginLimiter, LoginLimits } from '../../src/login-limiter/limiter.js'

/** `count` limiters that share one state (Redis: separate connections, like app instances). */
export type MakeLimiters = (limits: LoginLimits, count?: number) => Promise<LoginLimiter[]>

const MINUTE = 60_000
const limitsOf = (perUserIp: number, perIp: number, windowMs = MINUTE): LoginLimits =>
  ({ perUserIp: { max: perUserIp, windowMs }, perIp: { max: perIp, windowMs } })

let counter = 0
/** A fresh ip per test (documentation ranges), so tests sharing a prefix never share counters. */
const newIp = (): string => `198.51.${Math.floor(++counter / 250)}.${counter % 250}`
/** `n` attempts in sequence, each of which must be admitted (and so counts until released). */
async function admit (t: Test, limiter: LoginLimiter, n: number, username: string, ip: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const wait = await limiter.reserve(username, ip)
    if (wait !== 0) t.fail(`attempt ${i + 1} of ${n} for ${JSON.stringify(username.slice(0, 20))}: refused for ${wait} ms`)
  }
}

export function loginLimiterContract (t: Test, makeLimiters: MakeLimiters): void {
  const one = async (limits: LoginLimits): Promise<LoginLimiter> => (await makeLimiters(limits, 1))[0]!

  t.test('under the limit, attempts are admitted', async (t) => {
    const limiter = await one(limitsOf(3, 100))
    const ip = newIp()
    t.equal(await limiter.reserve('alice', ip), 0, '1st attempt')
    t.equal(await limiter.reserve('alice', ip), 0, '2nd attempt')
    t.equal(await limiter.reserve('alice', ip), 0, 'the max-th attempt is admitted')
  })

  t.test('after max unreleased attempts, the next is refused for about the window, and a refusal counts nothing', async (t) => {
    const limiter = await one(limitsOf(3, 100))
    const ip = newIp()
    await admit(t, limiter, 3, 'alice', ip)
    const wait = await limiter.reserve('alice', ip)
    t.ok(wait > MINUTE - 5_000 && wait <= MINUTE, `retry in ${wait} ms`)
    for (let i = 0; i < 5; i++) t.ok(await limiter.reserve('alice', ip) > 0, `refused again (${i + 1})`)
    await admit(t, limiter, 1, 'bob', ip)
    t.pass('another username from the same ip is not blocked by it')
    // Refusals count nothing: with a per-ip max, the releases below admit exactly one more each.
    const ipLimited = await one(limitsOf(100, 5))
    const ip2 = newIp()
    await admit(t, ipLimited, 4, 'alice', ip2)
    t.equal(await ipLimited.reserve('carol', ip2), 0, 'the 5th attempt from the ip')
    t.ok(await ipLimited.reserve('dave', ip2) > 0, 'the 6th is refused')
    for (let i = 0; i < 5; i++) await ipLimited.reserve('erin', ip2)
    await ipLimited.release('carol', ip2)
    t.equal(await ipLimited.reserve('frank', ip2), 0, 'one released: exactly one more is admitted, refusals counted nothing')
    t.ok(await ipLimited.reserve('grace', ip2) > 0)
  })

  t.test('a release (a success) gives back its own attempt to both counts, and nothing more', async (t) => {
    const limiter = await one(limitsOf(3, 5))
    const ip = newIp()
    await admit(t, limiter, 2, 'alice', ip) // 2 failures
    await admit(t, limiter, 1, 'alice', ip) // the success...
    await limiter.release('alice', ip) // ...gives its attempt back: alice counts 2, the ip 2
    t.equal(await limiter.reserve('alice', ip), 0, 'the two failures stay counted: one more is admitted (alice: 3)')
    t.ok(await limiter.reserve('alice', ip) > 0, 'and then alice is at her max: the success did not clear her failures')
    await admit(t, limiter, 2, 'dave', ip) // the ip: 5
    t.ok(await limiter.reserve('erin', ip) > 0, 'the ip counted 5: the success gave back only its own attempt')
  })

  t.test('a release never takes the ip count below 0 and never lets in more than max', async (t) => {
    const limiter = await one(limitsOf(10, 3))
    const ip = newIp()
    for (let i = 0; i < 5; i++) await limiter.release(`nobody${i}`, ip)
    await admit(t, limiter, 3, 'alice', ip)
    t.ok(await limiter.reserve('alice', ip) > 0, 'releases without reservations gave no credit')
    await limiter.release('alice', ip)
    await limiter.release('alice', ip)
    await limiter.release('alice', ip)
    await limiter.release('alice', ip) // one more than reserved
    await admit(t, limiter, 3, 'bob', ip)
    t.ok(await limiter.reserve('carol', ip) > 0, 'the ip count stopped at 0: 3 admitted, not 4')
  })

  t.test('the per-ip limit blocks every username from that ip, and only that ip', async (t) => {
    const limiter = await one(limitsOf(100, 5))
    const ip = newIp()
    for (let i = 0; i < 5; i++) await admit(t, limiter, 1, `user${i}`, ip)
    t.ok(await limiter.reserve('someone-new', ip) > 0, 'a username never tried is blocked')
    t.equal(await limiter.reserve('someone-new', newIp()), 0, 'another ip is not')
  })

  t.test('different ips are independent', async (t) => {
    const limiter = await one(limitsOf(2, 100))
    const [ip1, ip2] = [newIp(), newIp()]
    await admit(t, limiter, 2, 'alice', ip1)
    t.ok(await limiter.reserve('alice', ip1) > 0)
    t.equal(await limiter.reserve('alice', ip2), 0)
    t.equal(await limiter.reserve('alice', ip2), 0, 'ip2 has its own count')
    t.ok(await limiter.reserve('alice', ip2) > 0)
  })

  t.test('a window ends by itself, and the next attempt starts a new one', async (t) => {
    const limiter = await one(limitsOf(2, 3, 300)) // real 300 ms windows: nothing to fake
    const ip = newIp()
    await admit(t, limiter, 2, 'alice', ip)
    await admit(t, limiter, 1, 'bob', ip)
    const wait = await limiter.reserve('alice', ip)
    t.ok(wait > 0 && wait <= 300, `blocked for ${wait} ms`)
    await sleep(wait + 100)
    t.equal(await limiter.reserve('alice', ip), 0, 'admitted when the window ends')
    t.equal(await limiter.reserve('alice', ip), 0, 'a fresh window counts from 1')
    t.ok(await limiter.reserve('alice', ip) > 0, 'and to its max')
  })

  t.test('parallel attempts, from several instances, are each counted exactly once', async (t) => {
    const limiters = await makeLimiters(limitsOf(20, 1000), 4)
    const ip = newIp()
    const attempt = (username: string, n: number): Promise<number[]> => Promise.all(Array.from({ length: n }, (_, i) => limiters[i % limiters.length]!.reserve(username, ip)))
    t.same(await attempt('alice', 19), Array(19).fill(0), '19 parallel attempts are admitted')
    t.equal(await limiters[1]!.reserve('alice', ip), 0, 'the 20th too')
    t.ok(await limiters[2]!.reserve('alice', ip) > 0, 'the 21st is refused')
    await attempt('bob', 20)
    t.ok(await limiters[3]!.reserve('bob', ip) > 0, '20 parallel attempts fill the window')
  })

  t.test('the race: 30 attempts at the same instant, across instances, against max 10: exactly 10 admitted', async (t) => {
    const limiters = await makeLimiters(limitsOf(10, 1000), 3)
    const ip = newIp()
    const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => limiters[i % limiters.length]!.reserve('alice', ip)))
    t.equal(waits.filter((w) => w === 0).length, 10, '10 admitted')
    t.equal(waits.filter((w) => w > 0).length, 20, '20 refused')
    // And the per-ip limit the same way, across usernames.
    const ip2 = newIp()
    const ipLimited = await makeLimiters(limitsOf(100, 7), 3)
    const ipWaits = await Promise.all(Array.from({ length: 30 }, (_, i) => ipLimited[i % ipLimited.length]!.reserve(`user${i}`, ip2)))
    t.equal(ipWaits.filter((w) => w === 0).length, 7, 'per ip: 7 admitted of 30 usernames')
  })

  t.test('parallel successes and failures: the releases give back exactly their own attempts', async (t) => {
    const limiters = await makeLimiters(limitsOf(100, 10), 2)
    const ip = newIp()
    // 6 successes and 4 failures at once: the ip ends at 4 whatever the interleaving.
    await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const limiter = limiters[i % 2]!
      t.equal(await limiter.reserve(`user${i}`, ip), 0)
      if (i < 6) await limiter.release(`user${i}`, ip)
    }))
    await admit(t, limiters[0]!, 6, 'zed', ip)
    t.ok(await limiters[1]!.reserve('zed', ip) > 0, 'the ip counted exactly the 4 failures (+6)')
  })

  t.test('usernames differing only by case or compatibility form share a counter', async (t) => {
    const limiter = await one(limitsOf(3, 100))
    const ip = newIp()
    await admit(t, limiter, 1, 'Alice', ip)
    await admit(t, limiter, 1, 'ALICE', ip)
    await admit(t, limiter, 1, 'ａｌｉｃｅ', ip) // fullwidth: NFKC makes it `alice`
    t.ok(await limiter.reserve('alice', ip) > 0)
  })

  t.test("no account's success resets the failures counted against another spelling of its name", async (t) => {
    // The attack: register `ALICE` in a case-sensitive directory, guess `alice`, log in as
    // `ALICE` to reset the counter, repeat. Each success gives back only its own attempt.
    const limiter = await one(limitsOf(10, 1000))
    const ip = newIp()
    let guesses = 0
    for (let round = 0; round < 20; round++) {
      for (const spelling of ['ALICE', 'ａｌｉｃｅ', 'Alice']) {
        if (await limiter.reserve(spelling, ip) !== 0) continue
        await limiter.release(spelling, ip) // the attacker's own account logs in
      }
      while (await limiter.reserve('alice', ip) === 0) guesses++
    }
    t.equal(guesses, 10, 'exactly max guesses against alice in the window, however many successes of other spellings')
  })

  t.test('any username and ip content works and stays apart', async (t) => {
    const limiter = await one(limitsOf(1, 100))
    const long = 'x'.repeat(5000)
    const odd = ['{brace}', 'new\nline', '✓ ünïcödé 🔑', '\ud800 lone surrogate', '', long, long + 'y']
    const ip = newIp()
    for (const username of odd) await admit(t, limiter, 1, username, ip)
    for (const username of odd) t.ok(await limiter.reserve(username, ip) > 0, `blocked: ${JSON.stringify(username.slice(0, 20))}`)
    t.equal(await limiter.reserve('other', ip), 0, 'no collision with an untried username')
    for (const weirdIp of ['{a}b', '::ffff:203.0.113.7', 'f'.repeat(500), '']) {
      await admit(t, limiter, 1, 'zed', weirdIp)
      t.ok(await limiter.reserve('zed', weirdIp) > 0, `ip ${JSON.stringify(weirdIp.slice(0, 20))}`)
    }
    t.equal(await limiter.reserve('zed', 'f'.repeat(501)), 0, 'long ips are told apart')
  })
}
