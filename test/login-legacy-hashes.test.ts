/**
 * Issue 9, item 5: password migration. A user record that holds a hash the plugin did not make
 * (bcrypt here, made by bcryptjs) is verified by the app's `verifyLegacyPassword` and, on a match,
 * upgraded to argon2id through `onPasswordRehash`; with the same limiter and timing rules as every
 * login. Without the option: 401 as before, plus a warning naming the user id only.
 *
 * Timing is asserted by counting argon2 verifies (one per login attempt, whatever the path), not
 * by the clock: the dummy verify is what makes an unknown user cost what a known one does.
 */
import t, { type Test } from 'tap'
import argon2 from 'argon2'
import bcrypt from 'bcryptjs'
import { buildApp, type BuildOptions, type TestUser } from './helpers/build-app.js'
import type { RefreshSessionsOptions } from '../src/index.js'

const PASSWORD = 'carol-legacy-password-1'
// A low cost keeps the test quick; one case below uses bcrypt's common cost 10.
const BCRYPT_HASH = bcrypt.hashSync(PASSWORD, 4)
const CAROL: TestUser = { id: 'u-carol-legacy', username: 'carol-legacy-9d2f', password: PASSWORD, roles: ['user'], passwordHash: BCRYPT_HASH }

/** Every argon2.verify call made while the plugin works (the plugin calls it through the module object). */
const argon2Verifies = (() => {
  let count = 0
  const original = argon2.verify
  argon2.verify = async (...args: Parameters<typeof original>) => { count++; return original(...args) }
  t.teardown(() => { argon2.verify = original })
  return () => count
})()

async function legacyApp (t: Test, options: Partial<RefreshSessionsOptions> = {}, build: BuildOptions = {}) {
  const rehashed: Array<{ userId: string, passwordHash: string }> = []
  const built = await buildApp(t, {
    users: [{ ...CAROL }],
    captureLogs: true,
    ...build,
    options: {
      loginLimits: false,
      onPasswordRehash: ({ userId, passwordHash }) => {
        rehashed.push({ userId, passwordHash })
        for (const user of built.users.values()) if (user.id === userId) user.passwordHash = passwordHash
      },
      ...options,
      ...build.options
    }
  })
  const loginAs = (password: string, username = CAROL.username) => built.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } })
  return { ...built, rehashed, loginAs }
}

/** No log line may hold the hash (or a recognisable part of it), the password or the username. */
function assertNoSecrets (t: Test, logs: string[], hash: string, password: string): void {
  const all = logs.join('\n')
  t.notOk(all.includes(hash), 'no hash in the logs')
  t.notOk(all.includes(hash.slice(7, 29)), 'not even its salt')
  t.notOk(all.includes(hash.slice(29)), 'nor its digest')
  t.notOk(all.includes(password), 'no password in the logs')
  t.notOk(all.includes(CAROL.username), 'no username in the logs')
}

const INVALID = { statusCode: 401, code: 'AUTH_INVALID_CREDENTIALS', error: 'Unauthorized', message: 'Invalid username or password' }

t.test('without verifyLegacyPassword: a bcrypt hash is 401, with one warning naming the user id only', async (t) => {
  const { loginAs, logs, events, rehashed } = await legacyApp(t)
  const before = argon2Verifies()
  const response = await loginAs(PASSWORD)
  t.equal(response.statusCode, 401)
  t.same(response.json(), INVALID, 'the same answer as a wrong password')
  t.equal(argon2Verifies() - before, 1, 'it paid the dummy argon2 verify, as an unknown user does')

  // Request-bound warnings: the start-up one about the memory store is not this login's.
  const warnings = logs.map((line) => JSON.parse(line)).filter((line) => line.level === 40 && line.reqId !== undefined)
  t.equal(warnings.length, 1, 'one warning')
  t.same(Object.keys(warnings[0]).filter((key) => !['level', 'time', 'pid', 'hostname', 'reqId', 'msg'].includes(key)), ['userId'], 'its only field is the user id')
  t.equal(warnings[0].userId, CAROL.id)
  t.equal(warnings[0].msg, 'fastify-refresh-sessions: the stored password hash is in an unsupported format (not argon2), so the login is refused: set option verifyLegacyPassword to verify and upgrade such hashes')
  assertNoSecrets(t, logs, BCRYPT_HASH, PASSWORD)
  t.match(events.onLoginFailed, [{ username: CAROL.username, reason: 'wrong-password' }])
  t.same(rehashed, [], 'nothing to upgrade')
})

t.test('with verifyLegacyPassword: the right password logs in and the hash is upgraded to argon2id', async (t) => {
  const calls: Array<[string, string]> = []
  const { loginAs, rehashed, users, logs } = await legacyApp(t, {
    verifyLegacyPassword: (hash, password) => { calls.push([hash, password]); return bcrypt.compare(password, hash) }
  })

  const wrong = await loginAs('not-the-password')
  t.equal(wrong.statusCode, 401)
  t.same(wrong.json(), INVALID)
  t.same(calls, [[BCRYPT_HASH, 'not-the-password']], 'the app verified its hash')
  t.same(rehashed, [], 'no upgrade on a wrong password')

  const right = await loginAs(PASSWORD)
  t.equal(right.statusCode, 200)
  t.match(right.json(), { tokenType: 'Bearer', accessToken: String })
  t.equal(calls.length, 2)
  t.equal(rehashed.length, 1, 'onPasswordRehash got the upgrade')
  t.equal(rehashed[0]!.userId, CAROL.id)
  t.match(rehashed[0]!.passwordHash, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/, "argon2id with the plugin's parameters")
  t.equal(await argon2.verify(rehashed[0]!.passwordHash, PASSWORD), true, 'of the same password')
  t.equal(users.get(CAROL.username)!.passwordHash, rehashed[0]!.passwordHash, 'the app stored it')

  const upgraded = await loginAs(PASSWORD)
  t.equal(upgraded.statusCode, 200, 'the next login runs on the argon2id hash')
  t.equal(calls.length, 2, 'without the legacy verifier')
  t.equal(rehashed.length, 1, 'and needs no further upgrade')
  t.equal((await loginAs('not-the-password')).statusCode, 401)
  t.equal(calls.length, 2, 'argon2 hashes never reach the legacy verifier')
  assertNoSecrets(t, logs, BCRYPT_HASH, PASSWORD)
})

t.test('a bcrypt hash of cost 10, as most apps store them, with a synchronous verifier', async (t) => {
  const hash = bcrypt.hashSync(PASSWORD, 10)
  const { loginAs, rehashed } = await legacyApp(t, { verifyLegacyPassword: (stored, password) => bcrypt.compareSync(password, stored) }, { users: [{ ...CAROL, passwordHash: hash }] })
  t.equal((await loginAs('not-the-password')).statusCode, 401)
  t.equal((await loginAs(PASSWORD)).statusCode, 200)
  t.equal(rehashed.length, 1)
})

t.test('only true is a match: a truthy non-boolean is a failed login', async (t) => {
  for (const answer of [1, 'true', {}, undefined, null]) {
    const { loginAs, rehashed } = await legacyApp(t, { verifyLegacyPassword: (() => answer) as unknown as RefreshSessionsOptions['verifyLegacyPassword'] })
    const response = await loginAs(PASSWORD)
    t.equal(response.statusCode, 401, `${JSON.stringify(answer) ?? 'undefined'}`)
    t.same(rehashed, [])
  }
})

t.test('a throwing verifier is a failed login (401), logged with the user id and without secrets', async (t) => {
  const throwers: Array<[string, NonNullable<RefreshSessionsOptions['verifyLegacyPassword']>]> = [
    ['throws', (hash, password) => { throw new Error(`bad salt in ${hash} for ${password}`) }],
    ['rejects', async (hash, password) => { throw new TypeError(`cannot verify ${password} against ${hash}`) }]
  ]
  for (const [name, verifyLegacyPassword] of throwers) {
    const { loginAs, logs, rehashed, events } = await legacyApp(t, { verifyLegacyPassword })
    const response = await loginAs(PASSWORD)
    t.equal(response.statusCode, 401, `${name}: 401, not 500`)
    t.same(response.json(), INVALID)
    const errors = logs.map((line) => JSON.parse(line)).filter((line) => line.level === 50)
    t.equal(errors.length, 1, `${name}: one error line`)
    t.equal(errors[0].msg, 'fastify-refresh-sessions: verifyLegacyPassword failed, so the login is refused')
    t.equal(errors[0].userId, CAROL.id)
    t.match(errors[0].err.message, /\[redacted\]/, 'the message is kept, its secrets cut out')
    assertNoSecrets(t, logs, BCRYPT_HASH, PASSWORD)
    t.same(rehashed, [])
    t.match(events.onLoginFailed, [{ reason: 'wrong-password' }])
  }
})

t.test('timing: every path costs one argon2 verify; a legacy verify runs alongside the dummy one', async (t) => {
  const overlaps: boolean[] = []
  const { loginAs } = await legacyApp(t, {
    verifyLegacyPassword: async (hash, password) => {
      // Run alongside, the dummy argon2 verify starts while this one is still pending; run after
      // it, it would never start here. Counted in event-loop turns, not time.
      const before = argon2Verifies()
      let turns = 0
      while (argon2Verifies() === before && turns++ < 1000) await new Promise((resolve) => setImmediate(resolve))
      overlaps.push(argon2Verifies() > before)
      return bcrypt.compare(password, hash)
    }
  })
  const cases: Array<[string, () => Promise<{ statusCode: number }>, number]> = [
    ['unknown user', () => loginAs('whatever-password', 'nobody-here'), 401],
    ['legacy hash, wrong password', () => loginAs('not-the-password'), 401],
    ['legacy hash, right password', () => loginAs(PASSWORD), 200],
    ['argon2 hash (now upgraded), wrong password', () => loginAs('not-the-password'), 401]
  ]
  for (const [name, attempt, status] of cases) {
    const before = argon2Verifies()
    t.equal((await attempt()).statusCode, status, name)
    t.equal(argon2Verifies() - before, 1, `${name}: one argon2 verify`)
  }
  t.same(overlaps, [true, true], 'both legacy verifies overlapped the dummy argon2 verify')
})

t.test('limiter: legacy attempts are reserved and counted like any other; a success gives its attempt back', async (t) => {
  let calls = 0
  const { loginAs } = await legacyApp(t, {
    loginLimits: { perUserIp: { max: 2, window: '15m' }, perIp: { max: 100, window: '15m' } },
    verifyLegacyPassword: async (hash, password) => { calls++; return bcrypt.compare(password, hash) }
  })
  t.equal((await loginAs('wrong-1')).statusCode, 401)
  t.equal((await loginAs(PASSWORD)).statusCode, 200, 'admitted: 1 failure + this reservation = 2')
  t.equal((await loginAs('wrong-2')).statusCode, 401, 'the success gave back only its own attempt: wrong-1 and wrong-2 now count')
  const limited = await loginAs(PASSWORD)
  t.equal(limited.statusCode, 429, 'at the max of 2 failures, refused before any verify: a success never clears failures')
  t.equal(limited.json().code, 'AUTH_TOO_MANY_ATTEMPTS')
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.equal(calls, 2, 'the verifier ran for the wrong-1 and the right password only: the rest were argon2 or refused')
})

t.test('option verifyLegacyPassword must be a function', async (t) => {
  await t.rejects(buildApp(t, { options: { verifyLegacyPassword: 'bcrypt' as never } }), { message: 'fastify-refresh-sessions: option verifyLegacyPassword must be a function (passwordHash, password) => boolean' })
})
