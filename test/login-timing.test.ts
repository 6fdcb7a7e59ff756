/**
 * SPEC 5: an unknown user costs the same time as a wrong password (a dummy argon2id verify with
 * the same parameters). Through the route, with the DEFAULT (OWASP) argon2 parameters: alternating
 * requests after a warm-up, medians within 2x of each other. Small sample and generous bound: the
 * machine is shared; a missing dummy verify would be ~100x apart, not 2x.
 */
import t from 'tap'
import { median } from '../support/stats.js'
import { ALICE, buildApp, hashFor } from './helpers/build-app.js'

const OWASP = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const ROUNDS = 15

t.test('unknown user and wrong password take the same time with the default argon2 parameters', async (t) => {
  const alice = { ...ALICE, passwordHash: await hashFor(ALICE.password, OWASP) }
  // argon2: undefined -> the plugin's defaults (build-app otherwise passes cheap test parameters).
  const { app } = await buildApp(t, { users: [alice], options: { argon2: undefined, loginLimits: false } })
  t.match(await app.refreshSessions.hashPassword('x'), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'the app runs the OWASP defaults')

  const timed = async (username: string): Promise<number> => {
    const start = process.hrtime.bigint()
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'not-the-password' } })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (response.statusCode !== 401) t.fail(`${username}: ${response.statusCode}`)
    return ms
  }

  // Warm-up: the dummy hash is made on the first unknown user; JIT and argon2's thread pool settle.
  for (let i = 0; i < 3; i++) {
    await timed('nobody-warm-up')
    await timed('alice')
  }

  const unknown: number[] = []
  const wrong: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which goes first, so that neither always follows the other.
    if (i % 2 === 0) {
      unknown.push(await timed(`nobody-${i}`))
      wrong.push(await timed('alice'))
    } else {
      wrong.push(await timed('alice'))
      unknown.push(await timed(`nobody-${i}`))
    }
  }
  const [u, w] = [median(unknown), median(wrong)]
  t.comment(`median unknown user ${u.toFixed(1)} ms, wrong password ${w.toFixed(1)} ms (${ROUNDS} each), ratio ${(Math.max(u, w) / Math.min(u, w)).toFixed(2)}`)
  t.ok(w > 5, `a wrong password costs a real argon2id verify (${w.toFixed(1)} ms)`)
  t.ok(Math.max(u, w) <= 2 * Math.min(u, w), 'medians within 2x of each other')
})
