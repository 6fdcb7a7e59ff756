/**
 * POST /auth/refresh over app.inject: rotation, the cookie's Max-Age following the session,
 * every 401 clearing the cookie, forged and foreign tokens, loadUser (fresh roles, deleted and
 * disabled users) and the login-time identity kept when there is no loadUser.
 */
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { randomBytes } from 'node:crypto'
import { ALICE, BOB, buildApp, login } from './helpers/build-app.js'

const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/
const SEVEN_DAYS = 7 * 24 * 3600
const CLEARED = 'refresh_token=; Max-Age=0; Path=/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict'
const MISSING = { statusCode: 401, code: 'AUTH_REFRESH_MISSING', error: 'Unauthorized', message: 'No refresh token was sent' }
const INVALID = { statusCode: 401, code: 'AUTH_REFRESH_INVALID', error: 'Unauthorized', message: 'The refresh token is invalid or expired' }

function claimsOf (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

function refresh (app: FastifyInstance, token?: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/refresh', headers: { ...headers, ...(token !== undefined && { cookie: `refresh_token=${token}` }) } })
}

function newCookie (response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'refresh_token')
  if (cookie === undefined) throw new Error(`no refresh cookie: ${response.statusCode} ${response.body}`)
  return cookie.value
}

/** Asserts the exact 401 body and that the one Set-Cookie clears the refresh cookie. */
function assertCleared (t: Test, response: LightMyRequestResponse, body: object, what: string): void {
  t.equal(response.statusCode, 401, what)
  t.same(response.json(), body, what)
  t.equal(response.headers['set-cookie'], CLEARED, `${what}: cookie cleared`)
  t.equal(response.headers['cache-control'], undefined, `${what}: no token, no no-store needed`)
}

t.test('rotation: 200 token response, a new cookie for the same session, the chain continues', async (t) => {
  const { app, events } = await buildApp(t)
  const first = await login(app, ALICE)
  const response = await refresh(app, first.refreshToken, { 'user-agent': 'tab/1' })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const body = response.json()
  t.same(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'sessionId', 'tokenType'])
  t.equal(body.tokenType, 'Bearer')
  t.equal(body.expiresIn, 900)
  t.equal(body.sessionId, first.sessionId, 'rotation keeps the session id')
  const second = newCookie(response)
  t.match(second, TOKEN_PATTERN)
  t.not(second, first.refreshToken, 'a new refresh token')
  t.equal(second.split('.')[1], first.sessionId)
  t.equal(response.headers['set-cookie'], `refresh_token=${second}; Max-Age=${SEVEN_DAYS}; Path=/auth; HttpOnly; Secure; SameSite=Strict`)
  const claims = claimsOf(body.accessToken)
  t.equal(claims.sub, ALICE.id)
  t.equal(claims.sid, first.sessionId)
  t.same(claims.roles, ['user'])
  t.equal(claims.tier, 'gold')
  t.equal(claims.exp, (claims.iat as number) + 900)
  t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${body.accessToken}` } })).statusCode, 200)

  const third = await refresh(app, second)
  t.equal(third.statusCode, 200, 'the new token refreshes in turn')
  t.not(newCookie(third), second)
  t.same(events.onRefresh, [
    { userId: ALICE.id, sessionId: first.sessionId, ip: '127.0.0.1', userAgent: 'tab/1', grace: false },
    { userId: ALICE.id, sessionId: first.sessionId, ip: '127.0.0.1', userAgent: 'lightMyRequest', grace: false }
  ])
  const [session] = await app.refreshSessions.listSessions(ALICE.id)
  t.ok(session!.lastUsedAt >= session!.createdAt, 'lastUsedAt moves with rotations')
})

t.test('Max-Age follows the session: an absolute lifetime shorter than the idle TTL caps the cookie', async (t) => {
  // 10 s absolute, 7 d idle: the cookie must say <= 10 s at login and shrink after a refresh.
  const { app } = await buildApp(t, { options: { refreshToken: { absoluteTtl: '10s', idleTtl: '7d' } } })
  const loggedIn = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(loggedIn.headers['set-cookie'], `refresh_token=${newCookie(loggedIn)}; Max-Age=10; Path=/auth; HttpOnly; Secure; SameSite=Strict`)
  await sleep(1100)
  const response = await refresh(app, newCookie(loggedIn))
  t.equal(response.statusCode, 200)
  const maxAge = response.cookies[0]!.maxAge!
  t.ok(maxAge <= 9 && maxAge >= 5, `absolute lifetime does not slide (Max-Age ${maxAge})`)
  t.equal(response.headers['set-cookie'], `refresh_token=${newCookie(response)}; Max-Age=${maxAge}; Path=/auth; HttpOnly; Secure; SameSite=Strict`)
})

t.test('idle timeout: slides with each refresh; a session unused for longer than idleTtl cannot refresh', async (t) => {
  // The smallest idle TTL the options allow (1 s), so the test waits ~2.3 s instead of days;
  // each refresh comes 500 ms after the previous one, leaving 500 ms of slack on a busy machine.
  const { app } = await buildApp(t, { options: { refreshToken: { idleTtl: '1s' } } })
  const loggedIn = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(loggedIn.headers['set-cookie'], `refresh_token=${newCookie(loggedIn)}; Max-Age=1; Path=/auth; HttpOnly; Secure; SameSite=Strict`, 'Max-Age is the idle TTL')
  let token = newCookie(loggedIn)
  for (const step of [1, 2]) {
    await sleep(500)
    const slid = await refresh(app, token)
    t.equal(slid.statusCode, 200, `refresh ${step}, ${500 * step} ms after login`)
    t.equal(slid.cookies[0]!.maxAge, 1, 'Max-Age is the idle TTL again')
    token = newCookie(slid)
  }
  // The second refresh came more than 1 s after login: the idle TTL did slide.
  await sleep(1300)
  assertCleared(t, await refresh(app, token), INVALID, 'idle-expired session')
  t.same(await app.refreshSessions.listSessions(ALICE.id), [])
})

t.test('401 AUTH_REFRESH_MISSING without a refresh cookie, and the cookie is cleared', async (t) => {
  const { app, events } = await buildApp(t)
  assertCleared(t, await refresh(app), MISSING, 'no cookie at all')
  assertCleared(t, await refresh(app, ''), MISSING, 'empty cookie value')
  assertCleared(t, await app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: 'other=1; Refresh_Token=x' } }), MISSING, 'other cookies only (names are case-sensitive)')
  const alice = await login(app, ALICE)
  assertCleared(t, await app.inject({ method: 'POST', url: '/auth/refresh', headers: { authorization: `Bearer ${alice.accessToken}` } }), MISSING, 'a Bearer access token is not a refresh token')
  t.equal(events.onRefresh, undefined)
})

t.test('401 AUTH_REFRESH_INVALID for garbage, forged and unknown tokens; forging never harms the real session', async (t) => {
  const { app, events } = await buildApp(t)
  const alice = await login(app, ALICE)
  const bob = await login(app, BOB)
  const [encodedAlice, sessionId, secret] = alice.refreshToken.split('.') as [string, string, string]
  const encodedBob = bob.refreshToken.split('.')[0]!
  const random = () => randomBytes(32).toString('base64url')
  const cases: Array<[string, string]> = [
    ['garbage', 'garbage'],
    ['three dots', '...'],
    ['the access token', alice.accessToken],
    ['right session, forged secret', `${encodedAlice}.${sessionId}.${random()}`],
    ['right secret, unknown session', `${encodedAlice}.${randomBytes(16).toString('base64url')}.${secret}`],
    ["alice's session and secret under bob's id", `${encodedBob}.${sessionId}.${secret}`],
    ['unknown user', `${Buffer.from('u-nobody').toString('base64url')}.${sessionId}.${secret}`],
    ['non-canonical user id encoding', `${encodedAlice}=.${sessionId}.${secret}`],
    ['secret one char short', `${encodedAlice}.${sessionId}.${secret.slice(1)}`],
    ['secret with a flipped last char', `${encodedAlice}.${sessionId}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`],
    ['url-encoded junk', '%00%0d%0aSet-Cookie%3A%20x%3D1'],
    ['1500 characters', 'a'.repeat(1500)],
    ['a valid token with trailing junk', `${alice.refreshToken}.x`]
  ]
  for (const [what, token] of cases) assertCleared(t, await refresh(app, token), INVALID, what)
  t.equal(events.onRefresh, undefined)
  t.equal(events.onReuseDetected, undefined, 'a forged secret is not reuse: it must not let anyone revoke a session they do not hold')

  const still = await refresh(app, alice.refreshToken)
  t.equal(still.statusCode, 200, "alice's real token still works after all that")
  t.equal(still.json().sessionId, alice.sessionId)
  t.equal((await refresh(app, bob.refreshToken)).statusCode, 200)
})

t.test('loadUser returning null or a disabled user: 401 AUTH_REFRESH_INVALID and the session is revoked', async (t) => {
  const { app, users, events } = await buildApp(t)
  const alice = await login(app, ALICE)
  const aliceKeep = await login(app, ALICE)
  const stored = users.get(ALICE.username)!
  users.delete(ALICE.username)
  assertCleared(t, await refresh(app, alice.refreshToken), INVALID, 'deleted user')
  users.set(ALICE.username, stored)
  t.same((await app.refreshSessions.listSessions(ALICE.id)).map((s) => s.id), [aliceKeep.sessionId], 'that session is gone, the other one stays')
  assertCleared(t, await refresh(app, alice.refreshToken), INVALID, 'the user is back, the session is not')

  const bob = await login(app, BOB)
  users.get(BOB.username)!.disabled = true
  assertCleared(t, await refresh(app, bob.refreshToken), INVALID, 'disabled user')
  t.same(await app.refreshSessions.listSessions(BOB.id), [])
  users.get(BOB.username)!.disabled = false
  assertCleared(t, await refresh(app, bob.refreshToken), INVALID, 're-enabled user, revoked session')
  t.equal(events.onRefresh, undefined, 'no onRefresh for refused refreshes')
  t.equal((await refresh(app, aliceKeep.refreshToken)).statusCode, 200)
})

t.test('with loadUser: roles and claims at refresh are the current ones', async (t) => {
  const { app, users } = await buildApp(t)
  const alice = await login(app, ALICE)
  t.same(claimsOf(alice.accessToken).roles, ['user'])
  users.set(ALICE.username, { ...users.get(ALICE.username)!, roles: ['user', 'editor'], claims: { tier: 'platinum' } })
  const response = await refresh(app, alice.refreshToken)
  t.equal(response.statusCode, 200)
  const claims = claimsOf(response.json().accessToken)
  t.same(claims.roles, ['user', 'editor'])
  t.equal(claims.tier, 'platinum')
  users.set(ALICE.username, { ...users.get(ALICE.username)!, roles: [], claims: {} })
  const demoted = claimsOf((await refresh(app, newCookie(response))).json().accessToken)
  t.same(demoted.roles, [], 'a removed role is gone at the next refresh')
  t.notOk('tier' in demoted)
})

t.test('without loadUser: the login-time roles and claims are kept across refreshes', async (t) => {
  const { app, users } = await buildApp(t, { loadUser: false })
  const alice = await login(app, ALICE)
  users.set(ALICE.username, { ...users.get(ALICE.username)!, roles: ['admin'], claims: { tier: 'none' } })
  let token = alice.refreshToken
  for (let i = 1; i <= 2; i++) {
    const response = await refresh(app, token)
    t.equal(response.statusCode, 200)
    const claims = claimsOf(response.json().accessToken)
    t.same(claims.roles, ['user'], `refresh ${i}: login-time roles`)
    t.equal(claims.tier, 'gold', `refresh ${i}: login-time claims`)
    t.equal(claims.sub, ALICE.id)
    token = newCookie(response)
  }
})
