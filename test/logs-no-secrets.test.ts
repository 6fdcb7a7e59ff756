/**
 * SPEC 6: no token, password or secret ever appears in a log line. Every flow runs with every log
 * line captured at level trace; then no line, and no error body, may contain an access token, a
 * refresh token, the secret part of one, a password (right or wrong), a password hash or the
 * HS256 secret.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { ADMIN, ALICE, BOB, HS256_SECRET, buildApp, login, refreshCookie, type TestUser } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const WRONG_PASSWORD = 'wrong-password-7d1f0c'
const DISABLED: TestUser = { id: 'u-dora', username: 'dora', password: 'dora-password-1', roles: ['user'], disabled: true }
const USERS = [ALICE, ADMIN, BOB, DISABLED]

/** Everything that must stay out of logs, with a label for the failure message. */
class Secrets {
  readonly #all = new Map<string, string>()

  add (label: string, value: unknown): void {
    if (typeof value !== 'string' || value.length < 8) return
    this.#all.set(value, label)
    // JSON-escaped too, as it would appear inside a log line.
    this.#all.set(JSON.stringify(value).slice(1, -1), label)
  }

  addTokens (body: { accessToken?: unknown, refreshToken?: unknown }): void {
    this.add('access token', body.accessToken)
    this.addRefresh(body.refreshToken)
  }

  addRefresh (token: unknown): void {
    if (typeof token !== 'string') return
    this.add('refresh token', token)
    this.add('refresh secret part', token.split('.')[2])
  }

  /** Records the tokens a response hands out (body and cookie). */
  fromResponse (response: LightMyRequestResponse): void {
    if (response.statusCode === 200 && response.headers['content-type']?.toString().startsWith('application/json') === true) this.addTokens(response.json())
    this.addRefresh(refreshCookie(response)?.value)
  }

  leaks (lines: readonly string[]): string[] {
    const found: string[] = []
    for (const line of lines) {
      for (const [value, label] of this.#all) if (line.includes(value)) found.push(`${label} in: ${line.slice(0, 300)}`)
    }
    return found
  }

  get size (): number {
    return this.#all.size
  }
}

function baseSecrets (users: Map<string, TestUser>): Secrets {
  const secrets = new Secrets()
  secrets.add('HS256 secret', HS256_SECRET)
  secrets.add('wrong password', WRONG_PASSWORD)
  for (const user of users.values()) {
    secrets.add(`password of ${user.username}`, user.password)
    secrets.add(`password hash of ${user.username}`, user.passwordHash)
    secrets.add(`password hash digest of ${user.username}`, user.passwordHash?.split('$').at(-1))
  }
  return secrets
}

/** Runs requests and keeps every error body, to check those too. */
function recorder (app: FastifyInstance, secrets: Secrets) {
  const errorBodies: string[] = []
  const send = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const response = await app.inject(options)
    secrets.fromResponse(response)
    if (response.statusCode >= 400) errorBodies.push(`${response.statusCode} ${response.body}`)
    return response
  }
  return { send, errorBodies }
}

const loginBody = (user: TestUser, password = user.password) => ({ method: 'POST' as const, url: '/auth/login', payload: { username: user.username, password } })
const withCookie = (url: string, token: string, extra: Record<string, string> = {}) => ({ method: 'POST' as const, url, headers: { cookie: `refresh_token=${token}`, ...extra } })
const bearer = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string) => ({ method, url, headers: { authorization: `Bearer ${token}` } })

/** Flips one character in the middle of a string: same shape, wrong value. */
const tamper = (value: string, at = Math.floor(value.length / 2)): string => value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1)

t.test('memory store: every flow, no secret in any log line or error body', async (t) => {
  const hookErrors: string[] = []
  const { app, users, logs, events } = await buildApp(t, {
    captureLogs: true,
    users: USERS,
    options: {
      transport: 'both',
      // Short grace so that a replay after it is reuse; a real wait of 400 ms below.
      refreshToken: { reuseGrace: '300ms' },
      loginLimits: { perUserIp: { max: 3, window: '1m' }, perIp: { max: 50, window: '1m' } },
      // A hook that throws: logged, never breaks the request.
      onRefresh: () => { hookErrors.push('onRefresh'); throw new Error('audit log is down') }
    }
  })
  const secrets = baseSecrets(users)
  const { send, errorBodies } = recorder(app, secrets)

  // Login: ok, wrong password, unknown user, disabled user, rate-limited.
  const ok = await send(loginBody(ALICE))
  t.equal(ok.statusCode, 200, 'login ok')
  t.equal((await send(loginBody(ALICE, WRONG_PASSWORD))).statusCode, 401, 'wrong password')
  t.equal((await send({ ...loginBody(ALICE), payload: { username: 'nobody-here', password: WRONG_PASSWORD } })).statusCode, 401, 'unknown user')
  t.equal((await send(loginBody(DISABLED))).statusCode, 401, 'disabled user')
  for (let i = 0; i < 3; i++) await send({ ...loginBody(BOB, WRONG_PASSWORD), remoteAddress: '192.0.2.10' })
  const limited = await send({ ...loginBody(BOB), remoteAddress: '192.0.2.10' })
  t.equal(limited.statusCode, 429, 'rate-limited, even with the right password')

  // Refresh, grace replay, reuse.
  const first = ok.json().refreshToken as string
  const rotated = await send(withCookie('/auth/refresh', first))
  t.equal(rotated.statusCode, 200, 'refresh')
  const replay = await send(withCookie('/auth/refresh', first))
  t.equal(replay.statusCode, 200, 'grace replay')
  await sleep(400)
  const reused = await send(withCookie('/auth/refresh', first))
  t.equal(reused.json().code, 'AUTH_REFRESH_REUSED', 'reuse after the grace window')
  t.equal(events.onReuseDetected?.length, 1, 'reuse detected')
  t.ok(hookErrors.length >= 2, 'the throwing hook ran')

  // Body transport, logout, logout-all, sessions.
  const bob = await login(app, BOB)
  secrets.addTokens(bob)
  const viaBody = await send({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: bob.refreshToken } })
  t.equal(viaBody.statusCode, 200, 'refresh with the body transport')
  const admin = await login(app, ADMIN)
  secrets.addTokens(admin)
  t.equal((await send(bearer('GET', '/auth/sessions', admin.accessToken))).statusCode, 200, 'sessions')
  t.equal((await send(bearer('DELETE', '/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA', admin.accessToken))).statusCode, 404, 'delete a missing session')
  t.equal((await send(withCookie('/auth/logout', admin.refreshToken))).statusCode, 204, 'logout')
  t.equal((await send(withCookie('/auth/refresh', admin.refreshToken))).statusCode, 401, 'refresh after logout')
  const admin2 = await login(app, ADMIN)
  secrets.addTokens(admin2)
  t.equal((await send(bearer('POST', '/auth/logout-all', admin2.accessToken))).statusCode, 204, 'logout-all')
  t.equal((await send(bearer('GET', '/me/strict', admin2.accessToken))).statusCode, 401, 'revoked session refused')

  // Bad tokens: tampered, cross-site, garbage.
  const current = viaBody.json() as { accessToken: string, refreshToken: string }
  const badAccess = [tamper(current.accessToken), current.accessToken.split('.').slice(0, 2).join('.') + '.', current.accessToken + 'x', 'eyJhbGciOiJub25lIn0.' + current.accessToken.split('.')[1] + '.']
  for (const token of badAccess) {
    t.equal((await send(bearer('GET', '/me', token))).statusCode, 401, 'tampered access token')
    t.equal((await send(bearer('GET', '/admin', token))).statusCode, 401, 'tampered access token on a role route')
  }
  t.equal((await send(bearer('GET', '/admin', current.accessToken))).statusCode, 403, 'missing role')
  const badRefresh = [tamper(current.refreshToken, current.refreshToken.length - 5), current.refreshToken.replace(/\.[^.]+$/, '.' + 'A'.repeat(43)), current.refreshToken + '.x']
  for (const token of badRefresh) {
    secrets.addRefresh(token)
    t.equal((await send(withCookie('/auth/refresh', token))).statusCode, 401, 'tampered refresh token')
    t.equal((await send({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: token } })).statusCode, 401, 'tampered refresh token in the body')
  }
  t.equal((await send(withCookie('/auth/refresh', current.refreshToken, { origin: 'https://evil.example' }))).statusCode, 403, 'cross-site refresh')
  t.equal((await send(withCookie('/auth/logout', current.refreshToken, { origin: 'https://evil.example' }))).statusCode, 403, 'cross-site logout')
  t.equal((await send({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: `{"username":"alice","password":"${ALICE.password}"` })).statusCode, 400, 'malformed JSON with the password in it')
  t.equal((await send({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: { value: ALICE.password } } })).statusCode, 400, 'password of the wrong type')
  t.equal((await send({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: ALICE.password.repeat(100) } })).statusCode, 400, 'password too long')
  secrets.add('long password', ALICE.password.repeat(100))

  t.ok(secrets.size > 30, `${secrets.size} secrets to look for`)
  t.ok(logs.length > 50, `${logs.length} log lines captured`)
  t.ok(logs.some((line) => line.includes('onRefresh hook failed')), 'the hook failure was logged')
  t.same(secrets.leaks(logs), [], 'no secret in any log line')
  t.same(secrets.leaks(errorBodies), [], 'no secret in any error body')
})

t.test('callbacks that throw with secrets in their messages: logged without them', async (t) => {
  const { app, users, logs } = await buildApp(t, {
    captureLogs: true,
    options: {
      // An app that puts what it knows into its errors: the password, in the message, the cause and a property.
      findUser: (username: string) => {
        const user = USERS.find((u) => u.username === username)
        throw Object.assign(new Error(`lookup of ${username} failed (password ${user?.password ?? WRONG_PASSWORD})`, {
          cause: new Error(`connection string postgres://app:${user?.password ?? WRONG_PASSWORD}@db`)
        }), { detail: `password=${user?.password ?? ''}` })
      }
    }
  })
  const secrets = baseSecrets(users)
  const { send, errorBodies } = recorder(app, secrets)
  const failed = await send(loginBody(ALICE))
  t.same(failed.json(), { statusCode: 500, code: 'AUTH_INTERNAL_ERROR', error: 'Internal Server Error', message: 'Internal server error' })
  await send(loginBody(BOB))
  await send({ ...loginBody(ALICE), payload: { username: 'nobody', password: WRONG_PASSWORD } })
  t.ok(logs.some((line) => line.includes('request failed') && line.includes('"level":50')), 'the failure was logged at error level')
  t.ok(logs.some((line) => line.includes('lookup of alice failed')), 'with the rest of its message')
  t.same(secrets.leaks(logs), [], 'no password in any log line')
  t.same(secrets.leaks(errorBodies), [], 'nor in the error bodies')
})

t.test('a hook that throws with the request in its message: logged without its secrets', async (t) => {
  const { app, users, logs } = await buildApp(t, {
    captureLogs: true,
    options: {
      onLoginFailed: (_event, request) => { throw new Error(`audit write failed for ${JSON.stringify(request.body)}`) },
      onLogin: (_event, request) => { throw new Error(`audit write failed for ${JSON.stringify(request.body)}`) }
    }
  })
  const secrets = baseSecrets(users)
  const { send } = recorder(app, secrets)
  t.equal((await send(loginBody(ALICE, WRONG_PASSWORD))).statusCode, 401, 'a failing hook does not change the answer')
  t.equal((await send(loginBody(ALICE))).statusCode, 200)
  t.ok(logs.some((line) => line.includes('hook failed')), 'the hook failures were logged')
  t.same(secrets.leaks(logs), [], 'no password in any log line')
})

t.test('a hook that quotes the request headers: the DPoP and DBSC proofs are cut out with the cookie', async (t) => {
  const { app, users, logs } = await buildApp(t, {
    captureLogs: true,
    options: { onLogout: (_event, request) => { throw new Error(`audit write failed for ${JSON.stringify(request.headers)}`) } }
  })
  const secrets = baseSecrets(users)
  const { send } = recorder(app, secrets)
  const { refreshToken } = await login(app, ALICE)
  secrets.addRefresh(refreshToken)
  // Shaped like proofs (a JWT each); what matters is that a header carrying one is never logged.
  const dpopProof = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiJkcG9wLXByb29mLWZvci10aGlzIn0.c2lnbmF0dXJlLW9mLXRoZS1kcG9wLXByb29m'
  const dbscProof = 'eyJ0eXAiOiJkYnNjK2p3dCJ9.eyJqdGkiOiJkYnNjLXByb29mLWZvci10aGlzIn0.c2lnbmF0dXJlLW9mLXRoZS1kYnNjLXByb29m'
  secrets.add('DPoP proof', dpopProof)
  secrets.add('DBSC proof', dbscProof)
  const loggedOut = await send(withCookie('/auth/logout', refreshToken, { dpop: dpopProof, 'secure-session-response': `"${dbscProof}"` }))
  t.equal(loggedOut.statusCode, 204, 'a failing onLogout does not change the answer')
  t.ok(logs.some((line) => line.includes('audit write failed for') && line.includes('[redacted]')), 'the failure was logged, with what it quoted cut')
  t.same(secrets.leaks(logs), [], 'no proof, cookie or token in any log line')
})

t.test('Redis store stopped: 503s and their logs carry no secret', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  redis.on('error', () => {}) // reconnect noise while the server is down
  const { app, users, logs } = await buildApp(t, {
    captureLogs: true,
    options: { redis, prefix: uniquePrefix('logs'), commandTimeout: '300ms', transport: 'both' }
  })
  const secrets = baseSecrets(users)
  const { send, errorBodies } = recorder(app, secrets)
  const alice = await send(loginBody(ALICE))
  t.equal(alice.statusCode, 200, 'login while Redis is up')
  const { accessToken, refreshToken } = alice.json() as { accessToken: string, refreshToken: string }
  await server.stop()

  const down = [
    await send(withCookie('/auth/refresh', refreshToken)),
    await send({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } }),
    await send(withCookie('/auth/logout', refreshToken)),
    await send(loginBody(ALICE)),
    await send(loginBody(ALICE, WRONG_PASSWORD)),
    await send(bearer('GET', '/auth/sessions', accessToken)),
    await send(bearer('POST', '/auth/logout-all', accessToken)),
    await send(bearer('GET', '/me/strict', accessToken))
  ]
  t.same(down.map((r) => [r.statusCode, r.json().code]), Array(down.length).fill([503, 'AUTH_STORE_UNAVAILABLE']), 'every store call answers 503')
  t.ok(logs.some((line) => line.includes('session store unavailable')), 'the outage was logged')
  t.same(secrets.leaks(logs), [], 'no secret in any log line')
  t.same(secrets.leaks(errorBodies), [], 'no secret in any error body')
})
