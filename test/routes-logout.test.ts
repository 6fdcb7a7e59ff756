/**
 * POST /auth/logout (the presented token's session; idempotent) and POST /auth/logout-all
 * (Bearer; every session of that user and no one else's).
 */
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, BOB, buildApp, HS256_SECRET, login } from './helpers/build-app.js'

const CLEARED = 'refresh_token=; Max-Age=0; Path=/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict'
const INVALID = { statusCode: 401, code: 'AUTH_REFRESH_INVALID', error: 'Unauthorized', message: 'The refresh token is invalid or expired' }

function post (app: FastifyInstance, url: string, token?: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { ...headers, ...(token !== undefined && { cookie: `refresh_token=${token}` }) } })
}

function assertLoggedOut (t: Test, response: LightMyRequestResponse, what: string): void {
  t.equal(response.statusCode, 204, what)
  t.equal(response.body, '', `${what}: no body`)
  t.equal(response.headers['set-cookie'], CLEARED, `${what}: cookie cleared`)
}

t.test('logout: 204, cookie cleared, session revoked, onLogout { all: false }', async (t) => {
  const { app, events } = await buildApp(t)
  const alice = await login(app, ALICE)
  const other = await login(app, ALICE)
  assertLoggedOut(t, await post(app, '/auth/logout', alice.refreshToken), 'logout')
  t.same(events.onLogout, [{ userId: ALICE.id, sessionId: alice.sessionId, ip: '127.0.0.1', all: false }])
  const refreshed = await post(app, '/auth/refresh', alice.refreshToken)
  t.equal(refreshed.statusCode, 401)
  t.same(refreshed.json(), INVALID, 'a logged-out token is merely invalid, not "reused"')
  t.same((await app.refreshSessions.listSessions(ALICE.id)).map((s) => s.id), [other.sessionId], 'only that session ended')
  const strict = await app.inject({ url: '/me/strict', headers: { authorization: `Bearer ${alice.accessToken}` } })
  t.equal(strict.statusCode, 401, 'authenticateSession refuses the logged-out session')
  t.equal(strict.json().code, 'AUTH_SESSION_REVOKED')
})

t.test('logout is idempotent: twice, without a cookie, with garbage: 204 and no event', async (t) => {
  const { app, events } = await buildApp(t)
  const alice = await login(app, ALICE)
  assertLoggedOut(t, await post(app, '/auth/logout', alice.refreshToken), 'first')
  assertLoggedOut(t, await post(app, '/auth/logout', alice.refreshToken), 'second')
  assertLoggedOut(t, await post(app, '/auth/logout'), 'no cookie')
  assertLoggedOut(t, await post(app, '/auth/logout', 'garbage'), 'garbage cookie')
  assertLoggedOut(t, await post(app, '/auth/logout', 'a'.repeat(3000)), 'oversized cookie')
  assertLoggedOut(t, await app.inject({ method: 'POST', url: '/auth/logout', payload: {} }), 'an empty JSON body')
  t.equal(events.onLogout?.length, 1, 'one event, for the one real logout')
})

t.test('logout with a retired token still in its grace window revokes the session; so does an older one', async (t) => {
  const { app } = await buildApp(t)
  const first = await login(app, ALICE)
  const second = (await post(app, '/auth/refresh', first.refreshToken)).cookies[0]!.value
  assertLoggedOut(t, await post(app, '/auth/logout', first.refreshToken), 'retired token')
  t.same((await post(app, '/auth/refresh', second)).json(), INVALID, 'the newest token is dead')
  t.same(await app.refreshSessions.listSessions(ALICE.id), [])

  const a = (await login(app, ALICE)).refreshToken
  const b = (await post(app, '/auth/refresh', a)).cookies[0]!.value
  const c = (await post(app, '/auth/refresh', b)).cookies[0]!.value
  assertLoggedOut(t, await post(app, '/auth/logout', a), 'token two rotations back')
  t.same((await post(app, '/auth/refresh', c)).json(), INVALID)
})

t.test('knowing a session id is not enough to log it out: a forged secret revokes nothing', async (t) => {
  const { app, events } = await buildApp(t)
  const alice = await login(app, ALICE)
  const [encodedUser, sessionId] = alice.refreshToken.split('.') as [string, string]
  const forged = `${encodedUser}.${sessionId}.${randomBytes(32).toString('base64url')}`
  assertLoggedOut(t, await post(app, '/auth/logout', forged), 'forged token')
  t.equal(events.onLogout, undefined)
  t.equal((await post(app, '/auth/refresh', alice.refreshToken)).statusCode, 200, 'the real session lives on')
})

t.test('logout-all needs a Bearer token', async (t) => {
  const { app } = await buildApp(t)
  const alice = await login(app, ALICE)
  const missing = await post(app, '/auth/logout-all', alice.refreshToken)
  t.equal(missing.statusCode, 401, 'a refresh cookie is not enough')
  t.same(missing.json(), { statusCode: 401, code: 'AUTH_TOKEN_MISSING', error: 'Unauthorized', message: 'No access token was sent' })
  t.equal(missing.headers['www-authenticate'], 'Bearer')
  t.equal(missing.headers['set-cookie'], undefined)
  const invalid = await post(app, '/auth/logout-all', undefined, { authorization: `Bearer ${alice.refreshToken}` })
  t.equal(invalid.statusCode, 401, 'a refresh token is not an access token')
  t.same(invalid.json(), { statusCode: 401, code: 'AUTH_TOKEN_INVALID', error: 'Unauthorized', message: 'The access token is invalid' })
  t.equal(invalid.headers['www-authenticate'], 'Bearer error="invalid_token"')
  t.equal((await post(app, '/auth/refresh', alice.refreshToken)).statusCode, 200, 'nothing was revoked')
})

t.test("logout-all revokes every session of the user and no one else's; onLogout { all: true }", async (t) => {
  const { app, events } = await buildApp(t)
  const one = await login(app, ALICE)
  const two = await login(app, ALICE, { headers: { 'user-agent': 'phone' } })
  const bob = await login(app, BOB)
  const response = await post(app, '/auth/logout-all', undefined, { authorization: `Bearer ${two.accessToken}` })
  assertLoggedOut(t, response, 'logout-all')
  t.same(events.onLogout, [{ userId: ALICE.id, sessionId: two.sessionId, ip: '127.0.0.1', all: true }])
  for (const [what, token] of [['the other session', one.refreshToken], ['the calling session', two.refreshToken]] as const) {
    const refreshed = await post(app, '/auth/refresh', token)
    t.equal(refreshed.statusCode, 401, what)
    t.same(refreshed.json(), INVALID, what)
  }
  t.same(await app.refreshSessions.listSessions(ALICE.id), [])
  t.equal((await post(app, '/auth/refresh', bob.refreshToken)).statusCode, 200, "bob's session is untouched")
  const again = await post(app, '/auth/logout-all', undefined, { authorization: `Bearer ${two.accessToken}` })
  t.equal(again.statusCode, 204, 'idempotent while the access token lives')
})

t.test('logout-all authenticated by an access-token cookie gets the CSRF check', async (t) => {
  // With accessToken.cookieName the browser attaches the credential by itself, so a cross-site
  // page could POST (text/plain needs no preflight) and log the user out everywhere.
  const { app } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, ttl: '15m', cookieName: 'access_token' } } })
  const alice = await login(app, ALICE)
  const forged = await app.inject({
    method: 'POST',
    url: '/auth/logout-all',
    headers: { cookie: `access_token=${alice.accessToken}`, origin: 'https://evil.example', 'content-type': 'text/plain' },
    payload: 'x'
  })
  t.equal(forged.statusCode, 403, 'cross-site logout-all carried by a cookie is refused')
  t.same(forged.json(), { statusCode: 403, code: 'AUTH_CSRF_REJECTED', error: 'Forbidden', message: 'Cross-site request refused' })
  t.equal(forged.headers['set-cookie'], undefined)
  const noOrigin = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { cookie: `access_token=${alice.accessToken}`, 'sec-fetch-site': 'cross-site' } })
  t.equal(noOrigin.statusCode, 403, 'Sec-Fetch-Site cross-site without Origin')
  const refreshed = await post(app, '/auth/refresh', alice.refreshToken)
  t.equal(refreshed.statusCode, 200, 'the sessions survive')
  const sameOrigin = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { cookie: `access_token=${alice.accessToken}`, origin: 'http://localhost' } })
  t.equal(sameOrigin.statusCode, 204, 'same-origin logout-all by cookie works')
  t.equal((await post(app, '/auth/refresh', refreshed.cookies[0]!.value)).statusCode, 401)
  const again = await login(app, ALICE)
  const bearer = await post(app, '/auth/logout-all', undefined, { authorization: `Bearer ${again.accessToken}`, origin: 'https://evil.example' })
  t.equal(bearer.statusCode, 204, 'a Bearer header cannot be forged cross-site: no check needed')
})
