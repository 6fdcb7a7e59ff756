/**
 * Issue 6, item 5: timing. What an attacker can measure must not tell them whether a username
 * exists, or whether a session id is real:
 *
 * (a) POST /auth/login with an unknown user vs a wrong password, with the DEFAULT (OWASP) argon2
 *     parameters: the unknown user pays a dummy verify of the same cost.
 * (b) POST /auth/refresh with a wrong secret for a real session vs an unknown session id, on the
 *     Redis store: both one script, both 401 AUTH_REFRESH_INVALID.
 *
 * Samples are interleaved (the order within each pair is random) after a warm-up, so that load on
 * the shared machine hits both sides alike. Reported: medians, quartiles and a Mann-Whitney U test
 * (support/stats.ts). Asserted: the medians are close (2x for login, 1.5x + 0.5 ms for refresh)
 * and the test does not reject equality at a very strict level (p > 0.001). A missing dummy verify
 * would be ~100x apart with p ~ 1e-11; a failure of the p-value alone on a busy machine is worth a
 * rerun before a hunt (the comment lines say how far apart the medians were).
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { formatRefreshToken, mintSecret, mintSessionId } from '../src/session/refresh-token.js'
import { ALICE, buildApp, hashFor, login } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { describeComparison, erfc, mannWhitney, median } from '../support/stats.js'

const OWASP = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const LOGIN_SAMPLES = 30
const REFRESH_SAMPLES = 200
const P_MIN = 0.001

/** Interleaved pairs: each round runs both, in a random order. */
async function interleaved (rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  const as: number[] = []
  const bs: number[] = []
  for (let i = 0; i < rounds; i++) {
    if (Math.random() < 0.5) {
      as.push(await a())
      bs.push(await b())
    } else {
      bs.push(await b())
      as.push(await a())
    }
  }
  return [as, bs]
}

t.test('stats: Mann-Whitney U agrees with scipy.stats.mannwhitneyu (asymptotic, continuity)', async (t) => {
  // Reference values from scipy 1.17: mannwhitneyu(a, b, method='asymptotic', use_continuity=True).
  const small = mannWhitney([1.1, 2.2, 3.3, 4.4, 5.5, 5.5, 7], [3, 3.3, 6, 8, 9, 10, 11, 12])
  t.equal(small.u, 10.5)
  t.ok(Math.abs(small.p - 0.04873642407567255) < 1e-6, `p ${small.p}`)
  const a = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 10 + 50)
  const b = Array.from({ length: 200 }, (_, i) => Math.cos(i * 1.3) * 10 + 51)
  const large = mannWhitney(a, b)
  t.equal(large.u, 17720)
  t.ok(Math.abs(large.p - 0.04865050115110646) < 1e-6, `p ${large.p}`)
  t.ok(Math.abs(erfc(3) - 2.2090496998585445e-05) < 1e-11)
  const same = mannWhitney([1, 2, 3, 4], [1, 2, 3, 4])
  t.equal(same.p, 1, 'identical samples: p = 1')
  const apart = mannWhitney(Array.from({ length: 30 }, (_, i) => 100 + i), Array.from({ length: 30 }, (_, i) => i))
  t.ok(apart.p < 1e-9, `disjoint samples of 30: p = ${apart.p.toPrecision(3)}`)
})

t.test('login: unknown user vs wrong password, default argon2 parameters, through the route', async (t) => {
  const alice = { ...ALICE, passwordHash: await hashFor(ALICE.password, OWASP) }
  // loginLimits off: 30+ failures for one username would otherwise be answered 429 (no verify at all).
  const { app } = await buildApp(t, { users: [alice], options: { argon2: OWASP, loginLimits: false } })
  t.match(await app.refreshSessions.hashPassword('x'), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'the app runs the OWASP defaults')

  let n = 0
  const timed = async (username: string): Promise<number> => {
    const payload = { username, password: `not-the-password-${n++}` }
    const start = process.hrtime.bigint()
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (response.statusCode !== 401 || response.json().code !== 'AUTH_INVALID_CREDENTIALS') t.fail(`${username}: ${response.statusCode} ${response.body}`)
    return ms
  }
  // Warm-up: the dummy hash is made on the first unknown user; JIT and argon2's thread pool settle.
  for (let i = 0; i < 4; i++) {
    await timed(`nobody-warm-up-${i}`)
    await timed('alice')
  }
  const [unknown, wrong] = await interleaved(LOGIN_SAMPLES, () => timed(`nobody-${n}`), () => timed('alice'))
  const [u, w] = [median(unknown), median(wrong)]
  const test = mannWhitney(unknown, wrong)
  t.comment(`login (argon2id m=19456 t=2 p=1): ${describeComparison('unknown user', unknown, 'wrong password', wrong, 'ms', 2)}`)
  t.ok(w > 5, `a wrong password costs a real argon2id verify (${w.toFixed(1)} ms)`)
  t.ok(Math.max(u, w) <= 2 * Math.min(u, w), `medians within 2x (${u.toFixed(2)} vs ${w.toFixed(2)} ms, ratio ${(Math.max(u, w) / Math.min(u, w)).toFixed(2)})`)
  t.ok(test.p > P_MIN, `Mann-Whitney does not reject equal distributions at p <= ${P_MIN} (p = ${test.p.toPrecision(3)})`)
})

t.test('refresh on Redis: wrong secret for a real session vs an unknown session id', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const { app } = await buildApp(t, { options: { redis, prefix: uniquePrefix('timing'), loginLimits: false } })
  const { refreshToken, sessionId } = await login(app, ALICE)

  const refresh = async (a: FastifyInstance, token: string): Promise<number> => {
    const start = process.hrtime.bigint()
    const response = await a.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: `refresh_token=${token}` } })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (response.statusCode !== 401 || response.json().code !== 'AUTH_REFRESH_INVALID') t.fail(`${response.statusCode} ${response.body}`)
    return ms
  }
  // A fresh random token each time, as an attacker would send: same lengths, same format.
  const wrongSecret = (): Promise<number> => refresh(app, formatRefreshToken({ userId: ALICE.id, sessionId, secret: mintSecret() }))
  const unknownSession = (): Promise<number> => refresh(app, formatRefreshToken({ userId: ALICE.id, sessionId: mintSessionId(), secret: mintSecret() }))

  for (let i = 0; i < 30; i++) {
    await wrongSecret()
    await unknownSession()
  }
  const [wrong, unknown] = await interleaved(REFRESH_SAMPLES, wrongSecret, unknownSession)
  const [w, u] = [median(wrong), median(unknown)]
  const test = mannWhitney(wrong, unknown)
  t.comment(`refresh (Redis): ${describeComparison('wrong secret', wrong, 'unknown session', unknown, 'ms', 3)}`)
  t.ok(Math.max(u, w) <= 1.5 * Math.min(u, w) + 0.5, `medians within 1.5x + 0.5 ms (${w.toFixed(3)} vs ${u.toFixed(3)} ms)`)
  t.ok(test.p > P_MIN, `Mann-Whitney does not reject equal distributions at p <= ${P_MIN} (p = ${test.p.toPrecision(3)})`)

  // The probes did not hurt the real session.
  const still = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: `refresh_token=${refreshToken}` } })
  t.equal(still.statusCode, 200, 'the real session still refreshes with its own token')
})
