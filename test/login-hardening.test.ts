/**
 * Login hardening (SPEC 5): argon2id with OWASP parameters and a rehash of weaker hashes on
 * success; failed attempts limited per username+ip and per ip (in Redis when Redis is the store);
 * onLoginFailed says why. Windows of 2 s keep the waits short; the waits are real.
 */
import t, { type Test } from 'tap'
import argon2 from 'argon2'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, BOB, buildApp, hashFor, type TestUser } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const OWASP = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const LIMITS = { perUserIp: { max: 3, window: '2s' }, perIp: { max: 5, window: '2s' } }

const attempt = (app: FastifyInstance, username: string, password: string, remoteAddress = '127.0.0.1'): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/auth/login', remoteAddress, headers: { 'user-agent': 'hardening-test' }, payload: { username, password } })

/** A 429 as SPEC says: Retry-After in whole seconds within the window, and the exact body. */
function assertLimited (t: Test, response: LightMyRequestResponse, label: string, windowSeconds = 2): void {
  t.equal(response.statusCode, 429, `${label}: 429`)
  const header = String(response.headers['retry-after'])
  t.match(header, /^\d+$/, `${label}: Retry-After is whole seconds (${header})`)
  const seconds = Number(header)
  t.ok(seconds >= 1 && seconds <= windowSeconds, `${label}: Retry-After ${seconds} within 1..${windowSeconds}`)
  t.same(response.json(), {
    statusCode: 429,
    code: 'AUTH_TOO_MANY_ATTEMPTS',
    error: 'Too Many Requests',
    message: `Too many failed login attempts, retry in ${seconds} seconds`
  }, `${label}: body`)
}

t.test('argon2id: a hash weaker than the OWASP parameters is re-hashed on success', async (t) => {
  const weak: TestUser = { id: 'u-weak', username: 'weak', password: 'weak-password-1', roles: ['user'], passwordHash: await hashFor('weak-password-1', { memoryCost: 4096, timeCost: 1, parallelism: 1 }) }
  const current: TestUser = { id: 'u-current', username: 'current', password: 'current-password-1', roles: ['user'], passwordHash: await hashFor('current-password-1', OWASP) }
  const stronger: TestUser = { id: 'u-strong', username: 'strong', password: 'strong-password-1', roles: ['user'], passwordHash: await hashFor('strong-password-1', { ...OWASP, timeCost: 3 }) }
  const argon2i: TestUser = { id: 'u-argon2i', username: 'old-variant', password: 'variant-password-1', roles: ['user'], passwordHash: await argon2.hash('variant-password-1', { type: argon2.argon2i, ...OWASP }) }
  t.match(weak.passwordHash, /^\$argon2id\$v=19\$m=4096,(t=1,p=1|p=1,t=1)\$/, 'the weak hash: m=4096,t=1 (node-argon2 writes p before t)')
  const { app, events } = await buildApp(t, { users: [weak, current, stronger, argon2i], options: { argon2: OWASP } })

  t.equal((await attempt(app, 'weak', 'not-the-password')).statusCode, 401, 'a wrong password')
  t.equal(events.onPasswordRehash, undefined, 'is no reason to rehash')

  t.equal((await attempt(app, 'weak', weak.password)).statusCode, 200, 'the weak hash logs in')
  const rehashes = events.onPasswordRehash as Array<{ userId: string, passwordHash: string }>
  t.equal(rehashes.length, 1, 'onPasswordRehash fired once')
  t.same(Object.keys(rehashes[0]!).sort(), ['passwordHash', 'userId'], 'with { userId, passwordHash }')
  t.equal(rehashes[0]!.userId, 'u-weak')
  t.match(rehashes[0]!.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/, 'a $argon2id$v=19$m=19456,t=2,p=1$ hash')
  t.ok(await argon2.verify(rehashes[0]!.passwordHash, weak.password), 'that verifies the password')
  t.notOk(await argon2.verify(rehashes[0]!.passwordHash, 'not-the-password'), 'and only the password')

  t.equal((await attempt(app, 'current', current.password)).statusCode, 200)
  t.equal((await attempt(app, 'strong', stronger.password)).statusCode, 200)
  t.equal(rehashes.length, 1, 'no rehash when the parameters match, nor for a stronger hash')

  t.equal((await attempt(app, 'old-variant', argon2i.password)).statusCode, 200, 'an argon2i hash logs in')
  t.equal(rehashes.length, 2, 'and is re-hashed')
  t.match(rehashes[1], { userId: 'u-argon2i', passwordHash: /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/ }, 'to argon2id')
})

t.test('unknown user and wrong password: the same answer', async (t) => {
  const { app } = await buildApp(t, { options: { loginLimits: false } })
  const unknown = await attempt(app, 'nobody', 'whatever-password')
  const wrong = await attempt(app, 'alice', 'whatever-password')
  t.equal(unknown.statusCode, 401)
  t.same(unknown.json(), wrong.json(), 'same body')
  t.same(unknown.json(), { statusCode: 401, code: 'AUTH_INVALID_CREDENTIALS', error: 'Unauthorized', message: 'Invalid username or password' })
  t.equal(unknown.headers['retry-after'], undefined, 'no Retry-After on a plain failure')
})

t.test('failed-login limits (memory store)', async (t) => {
  const { app, events } = await buildApp(t, { options: { loginLimits: LIMITS } })

  t.test('the 4th failure for alice from one ip is 429; even the right password; not from another ip', async (t) => {
    const ip = '198.51.100.1'
    for (let i = 1; i <= 3; i++) t.equal((await attempt(app, 'alice', 'wrong', ip)).statusCode, 401, `failure ${i}: 401`)
    assertLimited(t, await attempt(app, 'alice', 'wrong', ip), '4th failure')
    assertLimited(t, await attempt(app, 'alice', ALICE.password, ip), 'the right password while limited')
    t.equal((await attempt(app, 'alice', ALICE.password, '198.51.100.2')).statusCode, 200, 'another ip is not limited')
    t.equal((await attempt(app, 'bob', BOB.password, ip)).statusCode, 200, 'another username from the limited ip is not limited')
  })

  t.test('case and Unicode spellings of a username share one counter', async (t) => {
    const ip = '198.51.100.3'
    for (const spelling of ['alice', 'Alice', 'ＡＬＩＣＥ']) t.equal((await attempt(app, spelling, 'wrong', ip)).statusCode, 401, spelling)
    assertLimited(t, await attempt(app, 'ALICE', 'wrong', ip), 'a 4th spelling')
  })

  t.test('per ip: 5 failures across usernames, then every username is refused', async (t) => {
    const ip = '198.51.100.4'
    for (const username of ['u1', 'u2', 'u3', 'alice', 'bob']) t.equal((await attempt(app, username, 'wrong', ip)).statusCode, 401, `${username}: 401`)
    assertLimited(t, await attempt(app, 'u6', 'wrong', ip), 'a 6th username')
    assertLimited(t, await attempt(app, 'bob', BOB.password, ip), 'bob with the right password')
  })

  t.test('a successful login gives back only its own attempt: failures stay counted until their window ends', async (t) => {
    const ip = '198.51.100.5'
    t.equal((await attempt(app, 'alice', 'wrong', ip)).statusCode, 401)
    t.equal((await attempt(app, 'alice', 'wrong', ip)).statusCode, 401)
    t.equal((await attempt(app, 'alice', ALICE.password, ip)).statusCode, 200, 'success after 2 failures')
    t.equal((await attempt(app, 'alice', 'wrong', ip)).statusCode, 401, 'the 3rd failure of alice (the success did not clear the first two)')
    assertLimited(t, await attempt(app, 'alice', ALICE.password, ip), 'alice is at her max of 3, right password or not')
    t.equal((await attempt(app, 'bob', 'wrong', ip)).statusCode, 401, 'the 4th failure from the ip')
    t.equal((await attempt(app, 'bob', BOB.password, ip)).statusCode, 200, 'the ip has 4 failures of 5: bob still gets in')
    t.equal((await attempt(app, 'bob', 'wrong', ip)).statusCode, 401, 'the 5th failure from the ip')
    assertLimited(t, await attempt(app, 'bob', BOB.password, ip), 'the ip count was not reset by the successes')
  })

  t.test('after the window, logins work again', async (t) => {
    const ip = '198.51.100.6'
    for (let i = 0; i < 3; i++) await attempt(app, 'bob', 'wrong', ip)
    const limited = await attempt(app, 'bob', BOB.password, ip)
    assertLimited(t, limited, 'limited')
    await sleep(2100)
    t.equal((await attempt(app, 'bob', BOB.password, ip)).statusCode, 200, 'allowed after the 2 s window')
  })

  t.test('onLoginFailed says why', async (t) => {
    const { app, events } = await buildApp(t, {
      users: [ALICE, { id: 'u-dora', username: 'dora', password: 'dora-password-1', roles: ['user'], disabled: true }],
      options: { loginLimits: { perUserIp: { max: 3, window: '1m' }, perIp: { max: 100, window: '1m' } } }
    })
    const ip = '198.51.100.7'
    await attempt(app, 'nobody', 'whatever', ip)
    await attempt(app, 'alice', 'wrong', ip)
    const disabled = await attempt(app, 'dora', 'dora-password-1', ip)
    t.same(disabled.json().code, 'AUTH_INVALID_CREDENTIALS', 'a disabled user gets the same answer')
    await attempt(app, 'alice', 'wrong', ip)
    await attempt(app, 'alice', 'wrong', ip)
    await attempt(app, 'alice', ALICE.password, ip)
    t.same(events.onLoginFailed, [
      { username: 'nobody', ip, userAgent: 'hardening-test', reason: 'unknown-user' },
      { username: 'alice', ip, userAgent: 'hardening-test', reason: 'wrong-password' },
      { username: 'dora', ip, userAgent: 'hardening-test', reason: 'disabled' },
      { username: 'alice', ip, userAgent: 'hardening-test', reason: 'wrong-password' },
      { username: 'alice', ip, userAgent: 'hardening-test', reason: 'wrong-password' },
      { username: 'alice', ip, userAgent: 'hardening-test', reason: 'rate-limited' }
    ], 'unknown-user, wrong-password, disabled, rate-limited; never the password')
    t.equal(events.onLogin, undefined, 'no login')
  })

  t.test('the memory app recorded its own failures too', async (t) => {
    t.ok((events.onLoginFailed?.length ?? 0) > 10)
  })
})

t.test('loginLimits: false disables the limits', async (t) => {
  const { app, events } = await buildApp(t, { options: { loginLimits: false } })
  for (let i = 0; i < 20; i++) {
    const response = await attempt(app, 'alice', 'wrong')
    if (response.statusCode !== 401) t.fail(`failure ${i + 1}: ${response.statusCode}`)
  }
  t.equal((await attempt(app, 'alice', ALICE.password)).statusCode, 200, 'the right password after 20 failures')
  t.notOk((events.onLoginFailed as Array<{ reason: string }>).some((event) => event.reason === 'rate-limited'), 'never rate-limited')
})

t.test('with redis: the counters live in Redis and two app instances share them', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const prefix = uniquePrefix('hardening')
  const one = await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, loginLimits: LIMITS } })
  const two = await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, loginLimits: LIMITS } })
  const redis = await connectRedis(t, server)
  const ip = '203.0.113.9'

  t.equal((await attempt(one.app, 'alice', 'wrong', ip)).statusCode, 401)
  const keys = await redis.keys(`${prefix}login:*`) // a private server and a unique prefix: KEYS is fine here
  t.equal(keys.length, 2, `an ip and a username+ip counter under the prefix: ${keys.join(', ')}`)
  for (const key of keys) {
    t.equal(await redis.get(key), '1', `${key} counts 1`)
    const ttl = await redis.pttl(key)
    t.ok(ttl > 0 && ttl <= 2000, `${key} expires with the window (${ttl} ms)`)
    t.notOk(key.includes('alice') || key.includes(ip), 'no plain username or ip in the key')
  }

  t.equal((await attempt(two.app, 'alice', 'wrong', ip)).statusCode, 401, '2nd failure, on the other instance')
  t.equal((await attempt(one.app, 'alice', 'wrong', ip)).statusCode, 401, '3rd failure')
  assertLimited(t, await attempt(two.app, 'alice', ALICE.password, ip), 'the other instance refuses the 4th attempt')
  assertLimited(t, await attempt(one.app, 'alice', ALICE.password, ip), 'and so does the first')
  t.equal((await attempt(two.app, 'alice', ALICE.password, '203.0.113.10')).statusCode, 200, 'another ip is not limited')

  const other = '203.0.113.11'
  t.equal((await attempt(one.app, 'bob', 'wrong', other)).statusCode, 401)
  const tag = `{${Buffer.from(other).toString('base64url')}}`
  t.equal((await redis.keys(`${prefix}login:${tag}:*`)).length, 2, 'a failure: two counters')
  t.equal((await attempt(two.app, 'bob', BOB.password, other)).statusCode, 200, 'a success on the other instance')
  const counts = await Promise.all((await redis.keys(`${prefix}login:${tag}:*`)).sort().map(async (key) => [key.slice(key.lastIndexOf('}:') + 2, key.lastIndexOf('}:') + 4), await redis.get(key)]))
  t.same(counts, [['ip', '1'], ['u:', '1']], 'the success gave back its own attempt on both counters; the failure stays counted on both')

  await sleep(2100)
  t.equal((await attempt(one.app, 'alice', ALICE.password, ip)).statusCode, 200, 'after the window')
  t.same(await redis.keys(`${prefix}login:*`), [], 'every counter expired with its window')
})
