/**
 * Logout with transport 'both' (issue 10): after a 204 no refresh token the request carried
 * refreshes. Body and cookie tokens are each revoked when valid; an invalid one revokes nothing,
 * changes nothing else, and the answer stays 204 (idempotent). A cookie among them means the
 * request gets the origin check, as every cookie-carried request does.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, BOB, buildApp, login } from './helpers/build-app.js'

const CLEARED = 'refresh_token=; Max-Age=0; Path=/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict'
const JUNK = 'junk-token-that-is-no-refresh-token'

function logout (app: FastifyInstance, parts: { body?: string, cookie?: string, origin?: string }): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: parts.origin !== undefined ? { origin: parts.origin } : {},
    ...(parts.cookie !== undefined && { cookies: { refresh_token: parts.cookie } }),
    ...(parts.body !== undefined && { payload: { refreshToken: parts.body } })
  })
}

async function refreshes (app: FastifyInstance, token: string): Promise<number> {
  const response = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: token } })
  return response.statusCode
}

function assertLoggedOut (t: Test, response: LightMyRequestResponse, what: string): void {
  t.equal(response.statusCode, 204, what)
  t.equal(response.headers['set-cookie'], CLEARED, `${what}: cookie cleared`)
}

t.test('junk body token + valid cookie: the cookie session is revoked', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'both' } })
  const alice = await login(app, ALICE)
  assertLoggedOut(t, await logout(app, { body: JUNK, cookie: alice.refreshToken }), 'logout')
  t.equal(await refreshes(app, alice.refreshToken), 401, 'the cookie token no longer refreshes')
  t.same(events.onLogout, [{ userId: ALICE.id, sessionId: alice.sessionId, ip: '127.0.0.1', all: false }])
})

t.test('valid body + valid cookie of another session (another user too): both revoked', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'both' } })
  const one = await login(app, ALICE)
  const two = await login(app, ALICE)
  const bob = await login(app, BOB)
  assertLoggedOut(t, await logout(app, { body: one.refreshToken, cookie: two.refreshToken }), 'two sessions of alice')
  t.equal(await refreshes(app, one.refreshToken), 401, 'the body token no longer refreshes')
  t.equal(await refreshes(app, two.refreshToken), 401, 'the cookie token no longer refreshes')
  t.equal(events.onLogout?.length, 2, 'one onLogout per revoked session')

  const carol = await login(app, ALICE)
  assertLoggedOut(t, await logout(app, { body: bob.refreshToken, cookie: carol.refreshToken }), 'sessions of two users')
  t.equal(await refreshes(app, bob.refreshToken), 401)
  t.equal(await refreshes(app, carol.refreshToken), 401)
})

t.test('valid body + junk cookie, and the same token in both: revoked once', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'both' } })
  const one = await login(app, ALICE)
  assertLoggedOut(t, await logout(app, { body: one.refreshToken, cookie: JUNK }), 'junk cookie')
  t.equal(await refreshes(app, one.refreshToken), 401)

  const two = await login(app, ALICE)
  assertLoggedOut(t, await logout(app, { body: two.refreshToken, cookie: two.refreshToken }), 'the same token twice')
  t.equal(await refreshes(app, two.refreshToken), 401)
  t.equal(events.onLogout?.length, 2, 'one event per session, not per copy')

  assertLoggedOut(t, await logout(app, { body: JUNK, cookie: JUNK }), 'junk in both: still 204')
})

t.test('a cookie among the tokens brings the origin check; a body-only logout does not need it', async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'both' } })
  const alice = await login(app, ALICE)
  const forged = await logout(app, { body: JUNK, cookie: alice.refreshToken, origin: 'https://evil.example' })
  t.equal(forged.statusCode, 403)
  t.equal(forged.json().code, 'AUTH_CSRF_REJECTED')
  t.equal(forged.headers['set-cookie'], undefined, 'no cookie cleared')
  t.equal(await refreshes(app, alice.refreshToken), 200, 'a forged logout revokes nothing')

  const other = await login(app, ALICE)
  assertLoggedOut(t, await logout(app, { body: other.refreshToken, origin: 'https://evil.example' }), 'body only, cross-origin')
  t.equal(await refreshes(app, other.refreshToken), 401)
})
