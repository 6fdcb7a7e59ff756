/**
 * The app-facing preHandlers: authenticate (header or cookie), requireRoles, and
 * authenticateSession, which alone refuses an access token whose session has been revoked.
 *
 * Decided by the code, asserted here: when an Authorization header is present it is the only
 * credential looked at; a cookie is read only when there is no Authorization header at all.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ADMIN, ALICE, BOB, buildApp, HS256_SECRET, login, refreshCookie, type TestUser } from './helpers/build-app.js'
import { decodeJwt } from './helpers/jwt.js'

const INVALID = { statusCode: 401, code: 'AUTH_TOKEN_INVALID', error: 'Unauthorized', message: 'The access token is invalid' }
const MISSING = { statusCode: 401, code: 'AUTH_TOKEN_MISSING', error: 'Unauthorized', message: 'No access token was sent' }
const REVOKED = { statusCode: 401, code: 'AUTH_SESSION_REVOKED', error: 'Unauthorized', message: 'The session of this access token has been revoked' }
const FORBIDDEN = { statusCode: 403, code: 'AUTH_FORBIDDEN', error: 'Forbidden', message: 'Missing a required role' }
const ROOT: TestUser = { id: 'u-root', username: 'root', password: 'root-password-1', roles: ['admin'] }

function get (app: FastifyInstance, url: string, token?: string, cookies?: Record<string, string>): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, ...(cookies !== undefined && { cookies }) })
}

function expect (t: Test, response: LightMyRequestResponse, statusCode: number, body: unknown, challenge?: string): void {
  t.equal(response.statusCode, statusCode, 'status')
  const actual = response.json()
  // auth_time is the sign-in's second (session-authentication.test.ts checks it exactly).
  if (statusCode === 200 && 'authTime' in actual) {
    t.ok(Math.abs(actual.authTime - Math.floor(Date.now() / 1000)) <= 60, 'authTime: when the user signed in, epoch seconds')
    delete actual.authTime
  }
  t.strictSame(actual, body, 'body')
  t.equal(response.headers['www-authenticate'], challenge, 'challenge')
}

const userOf = (user: TestUser, sessionId: string, claims: Record<string, unknown> = user.claims ?? {}): unknown => ({ id: user.id, sessionId, roles: user.roles, claims, amr: ['pwd'] })

t.test('authenticate: the access token from a cookie, when accessToken.cookieName is set', async (t) => {
  const { app } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, cookieName: 'access_token' } } })
  const alice = await login(app)
  const bob = await login(app, BOB)

  expect(t, await get(app, '/me', undefined, { access_token: alice.accessToken }), 200, userOf(ALICE, alice.sessionId))
  expect(t, await get(app, '/me', bob.accessToken, { access_token: alice.accessToken }), 200, userOf(BOB, bob.sessionId), undefined)
  expect(t, await get(app, '/me', 'not-a-jwt', { access_token: alice.accessToken }), 401, INVALID, 'Bearer error="invalid_token"')
  expect(t, await get(app, '/me', undefined, { access_token: 'not-a-jwt' }), 401, INVALID, 'Bearer error="invalid_token"')
  expect(t, await get(app, '/me', undefined, { access_token: '' }), 401, MISSING, 'Bearer')
  expect(t, await get(app, '/me', undefined, { other: alice.accessToken }), 401, MISSING, 'Bearer')
  const basic = await app.inject({ method: 'GET', url: '/me', headers: { authorization: 'Basic YTpi' }, cookies: { access_token: alice.accessToken } })
  expect(t, basic, 401, MISSING, 'Bearer')
  expect(t, await get(app, '/admin', undefined, { access_token: alice.accessToken }), 403, FORBIDDEN)
})

t.test('authenticate: cookies are ignored when accessToken.cookieName is not set', async (t) => {
  const { app } = await buildApp(t)
  const alice = await login(app)
  for (const name of ['access_token', 'accessToken', 'token', 'refresh_token', 'authorization']) {
    expect(t, await get(app, '/me', undefined, { [name]: alice.accessToken }), 401, MISSING, 'Bearer')
  }
  expect(t, await get(app, '/me', alice.accessToken), 200, userOf(ALICE, alice.sessionId))
})

t.test('requireRoles: every listed role, after authenticate', async (t) => {
  const { app } = await buildApp(t, {
    users: [ALICE, ADMIN, ROOT],
    routes: (app) => {
      app.get('/both', { preHandler: [app.authenticate, app.requireRoles('user', 'admin')] }, async () => ({ ok: true }))
      app.get('/no-authenticate', { preHandler: app.requireRoles('user') }, async () => ({ ok: true }))
    }
  })
  const alice = await login(app, ALICE)
  const admin = await login(app, ADMIN)
  const root = await login(app, ROOT)

  expect(t, await get(app, '/admin', alice.accessToken), 403, FORBIDDEN)
  expect(t, await get(app, '/admin', admin.accessToken), 200, { ok: true })
  expect(t, await get(app, '/admin', root.accessToken), 200, { ok: true })
  expect(t, await get(app, '/admin'), 401, MISSING, 'Bearer')
  expect(t, await get(app, '/both', admin.accessToken), 200, { ok: true })
  expect(t, await get(app, '/both', alice.accessToken), 403, FORBIDDEN)
  expect(t, await get(app, '/both', root.accessToken), 403, FORBIDDEN, undefined)
  expect(t, await get(app, '/no-authenticate', admin.accessToken), 401, MISSING, 'Bearer')
  expect(t, await get(app, '/no-authenticate'), 401, MISSING, 'Bearer')

  t.throws(() => app.requireRoles(), TypeError)
  t.throws(() => app.requireRoles(42 as unknown as string), TypeError)
})

t.test('authenticateSession: 200 while the session lives, AUTH_SESSION_REVOKED after each kind of revocation', async (t) => {
  // reuseGrace 0: a retired refresh token is reuse at once, without waiting out the default 10 s.
  const { app } = await buildApp(t, { options: { refreshToken: { reuseGrace: '0s' } } })
  const refresh = (token: string): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: token } })

  async function revokedButStillSigned (t: Test, session: { accessToken: string, sessionId: string }): Promise<void> {
    expect(t, await get(app, '/me/strict', session.accessToken), 401, REVOKED, 'Bearer error="invalid_token"')
    // The documented difference: plain authenticate keeps accepting the token until it expires.
    expect(t, await get(app, '/me', session.accessToken), 200, userOf(ALICE, session.sessionId))
  }

  t.test('the live session', async (t) => {
    const session = await login(app)
    expect(t, await get(app, '/me/strict', session.accessToken), 200, userOf(ALICE, session.sessionId))
    expect(t, await get(app, '/me/strict'), 401, MISSING, 'Bearer')
    expect(t, await get(app, '/me/strict', 'x.y.z'), 401, INVALID, 'Bearer error="invalid_token"')
  })

  t.test('after logout', async (t) => {
    const session = await login(app)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', cookies: { refresh_token: session.refreshToken } })
    t.equal(response.statusCode, 204)
    await revokedButStillSigned(t, session)
  })

  t.test('after DELETE /auth/sessions/:id from another session', async (t) => {
    const session = await login(app)
    const other = await login(app)
    const response = await app.inject({ method: 'DELETE', url: `/auth/sessions/${session.sessionId}`, headers: { authorization: `Bearer ${other.accessToken}` } })
    t.equal(response.statusCode, 204)
    await revokedButStillSigned(t, session)
    expect(t, await get(app, '/me/strict', other.accessToken), 200, userOf(ALICE, other.sessionId))
  })

  t.test('after logout-all', async (t) => {
    const first = await login(app)
    const second = await login(app)
    const bob = await login(app, BOB)
    const response = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${second.accessToken}` } })
    t.equal(response.statusCode, 204)
    await revokedButStillSigned(t, first)
    await revokedButStillSigned(t, second)
    expect(t, await get(app, '/me/strict', bob.accessToken), 200, userOf(BOB, bob.sessionId), undefined)
  })

  t.test('after reuse detection', async (t) => {
    const session = await login(app)
    const rotated = await refresh(session.refreshToken)
    t.equal(rotated.statusCode, 200)
    const newer = { accessToken: rotated.json().accessToken as string, sessionId: session.sessionId }
    expect(t, await get(app, '/me/strict', newer.accessToken), 200, userOf(ALICE, session.sessionId))
    await new Promise((resolve) => setTimeout(resolve, 5))
    const reused = await refresh(session.refreshToken)
    t.equal(reused.statusCode, 401)
    t.equal(reused.json().code, 'AUTH_REFRESH_REUSED')
    await revokedButStillSigned(t, session)
    await revokedButStillSigned(t, newer)
    t.equal((await refresh(refreshCookie(rotated)!.value)).statusCode, 401, 'the newest refresh token died with the session')
  })
})

t.test('roles and claims changed by loadUser are in the access token of the next refresh', async (t) => {
  const { app, users } = await buildApp(t)
  const session = await login(app)
  expect(t, await get(app, '/admin', session.accessToken), 403, FORBIDDEN)

  const alice = users.get(ALICE.username)!
  alice.roles = ['user', 'admin']
  alice.claims = { tier: 'platinum' }
  const response = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: session.refreshToken } })
  t.equal(response.statusCode, 200)
  const accessToken = response.json().accessToken as string
  t.match(decodeJwt(accessToken).payload, { roles: ['user', 'admin'], tier: 'platinum' })
  expect(t, await get(app, '/admin', accessToken), 200, { ok: true })
  expect(t, await get(app, '/me', accessToken), 200, { id: ALICE.id, sessionId: session.sessionId, roles: ['user', 'admin'], claims: { tier: 'platinum' }, amr: ['pwd'] })
  expect(t, await get(app, '/admin', session.accessToken), 403, FORBIDDEN, undefined)

  alice.roles = ['user']
  const demoted = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshCookie(response)!.value } })
  t.equal(demoted.statusCode, 200)
  expect(t, await get(app, '/admin', demoted.json().accessToken), 403, FORBIDDEN, undefined)
})

t.test('without loadUser, the login-time roles and claims are kept across refreshes', async (t) => {
  const { app, users } = await buildApp(t, { loadUser: false })
  const session = await login(app)
  users.get(ALICE.username)!.roles = ['user', 'admin']
  const response = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: session.refreshToken } })
  t.equal(response.statusCode, 200)
  expect(t, await get(app, '/me', response.json().accessToken), 200, userOf(ALICE, session.sessionId))
})

t.test('a handler that changes request.user cannot change it for later requests with the same token', async (t) => {
  // The verified payload is cached per token: anything mutable in request.user would be shared by every request that sends it.
  const { app } = await buildApp(t, {
    routes: (app) => {
      app.get('/mutate', { preHandler: app.authenticate }, async (request) => {
        const attempts = [
          () => { request.user.roles.push('admin') },
          () => { request.user.roles[0] = 'admin' },
          () => { request.user.claims.tier = 'platinum' },
          () => { (request.user as { roles: string[] }).roles = ['admin'] }
        ]
        let refused = 0
        for (const attempt of attempts) {
          try { attempt() } catch { refused++ }
        }
        return { refused }
      })
    }
  })
  const session = await login(app)
  t.equal((await get(app, '/me', session.accessToken)).statusCode, 200, 'verified and cached')
  const response = await get(app, '/mutate', session.accessToken)
  t.strictSame(response.json(), { refused: 4 }, 'request.user, its roles and its claims are frozen')
  expect(t, await get(app, '/admin', session.accessToken), 403, FORBIDDEN)
  expect(t, await get(app, '/me', session.accessToken), 200, userOf(ALICE, session.sessionId))
})

t.test('requireRoles after another authentication that set request.user without a roles array: 403, never a substring match or a 500', async (t) => {
  const { app } = await buildApp(t, {
    routes: (app) => {
      // As an app's own @fastify/jwt (request.jwtVerify) or any other scheme would leave request.user.
      app.get('/other-auth', {
        preHandler: [async (request) => { request.user = JSON.parse(String(request.headers['x-user'])) }, app.requireRoles('admin')]
      }, async () => ({ ok: true }))
    }
  })
  const call = (user: unknown): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url: '/other-auth', headers: { 'x-user': JSON.stringify(user) } })
  expect(t, await call({ id: 'x', roles: ['admin'] }), 200, { ok: true })
  for (const user of [{ id: 'x', roles: 'superadmin' }, { id: 'x', roles: 'admin' }, { id: 'x' }, { id: 'x', roles: null }, { id: 'x', roles: { includes: true } }, { id: 'x', roles: [['admin']] }]) {
    expect(t, await call(user), 403, FORBIDDEN)
  }
})
