/**
 * Re-authentication: POST /auth/reauthenticate (password) and refreshSessions.reauthenticate (any
 * method, from the app's own route) give the session of the access token a new auth_time and amr,
 * and only that: no new session, no rotation (its refresh token stays the newest), no cookie,
 * siblings untouched. A wrong password is a failed login for the limiter; a revoked session is
 * AUTH_SESSION_REVOKED.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Response } from 'light-my-request'
import { ALICE, BOB, buildApp, HS256_SECRET, login, type BuildOptions } from './helpers/build-app.js'
import { proof, testKey } from './helpers/dpop.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { redisForTest } from '../support/redis-harness.js'

const INVALID_CREDENTIALS = { statusCode: 401, code: 'AUTH_INVALID_CREDENTIALS', error: 'Unauthorized', message: 'Invalid username or password' }
const REVOKED = { statusCode: 401, code: 'AUTH_SESSION_REVOKED', error: 'Unauthorized', message: 'The session of this access token has been revoked' }
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

function advanceClock (t: Test, ms: number): void {
  const realNow = Date.now
  Date.now = () => realNow() + ms
  t.teardown(() => { Date.now = realNow })
}

function routes (app: FastifyInstance): void {
  // The app's passkey re-authentication, reduced to its end: the assertion was verified.
  app.post('/passkeys/reauthenticate', { preHandler: app.authenticate }, async (request, reply) => await app.refreshSessions.reauthenticate(request, reply, { amr: ['hwk', 'user'] }))
  app.get('/passkey-only', { preHandler: [app.authenticate, app.requireRecentAuth({ amr: ['hwk'] })] }, async () => ({ ok: true }))
}

async function build (t: Test, options: BuildOptions['options'] = {}): Promise<Awaited<ReturnType<typeof buildApp>>> {
  return await buildApp(t, { routes, options })
}

async function reauthenticate (app: FastifyInstance, accessToken: string | null, payload: Record<string, unknown> = { username: ALICE.username, password: ALICE.password }): Promise<Response> {
  return await app.inject({ method: 'POST', url: '/auth/reauthenticate', headers: accessToken === null ? {} : { authorization: `Bearer ${accessToken}` }, payload })
}

async function authTimes (app: FastifyInstance, accessToken: string): Promise<Record<string, [unknown, unknown]>> {
  const list = await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })
  return Object.fromEntries(list.json().sessions.map((s: Record<string, unknown>) => [s.id, [s.authTime, s.amr]]))
}

t.test('POST /auth/reauthenticate: a new auth_time for this session only; same session, no rotation, no cookie', async (t) => {
  const { app } = await build(t)
  const session = await login(app)
  const sibling = await login(app)
  const signedInAt = claimsOf(session.accessToken).auth_time as number
  const before = await authTimes(app, session.accessToken)

  advanceClock(t, 120_000)
  const response = await reauthenticate(app, session.accessToken)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  t.equal(response.headers['set-cookie'], undefined, 'no cookie: the refresh token is unchanged')
  const body = response.json()
  t.same(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'sessionId', 'tokenType'], 'no refresh token')
  t.equal(body.sessionId, session.sessionId, 'the same session')
  t.equal(body.tokenType, 'Bearer')
  t.equal(body.expiresIn, 900)
  const claims = claimsOf(body.accessToken)
  t.ok((claims.auth_time as number) >= signedInAt + 120, 'auth_time: now')
  t.same(claims.amr, ['pwd'])
  t.equal(claims.sid, session.sessionId)
  t.equal(claims.tier, 'gold', 'the same roles and claims')

  const after = await authTimes(app, body.accessToken)
  t.same(Object.keys(after).sort(), [session.sessionId, sibling.sessionId].sort(), 'no new session')
  t.same(after[sibling.sessionId], before[sibling.sessionId], 'the sibling is untouched')
  t.same(after[session.sessionId], [new Date((claims.auth_time as number) * 1000).toISOString(), ['pwd']])

  // Not rotated: the refresh token from the login is still the newest, and its next token carries the new auth_time.
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: session.refreshToken } })
  t.equal(refreshed.statusCode, 200)
  t.equal(claimsOf(refreshed.json().accessToken).auth_time, claims.auth_time)
  const siblingRefreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: sibling.refreshToken } })
  t.equal(claimsOf(siblingRefreshed.json().accessToken).auth_time, claimsOf(sibling.accessToken).auth_time, "the sibling's tokens keep its sign-in")
})

t.test('reauthenticate() from the app\'s own route (a passkey): the new amr passes requireRecentAuth', async (t) => {
  const { app } = await build(t)
  const session = await login(app)
  t.equal((await app.inject({ url: '/passkey-only', headers: { authorization: `Bearer ${session.accessToken}` } })).statusCode, 401, 'a password is not a passkey')
  const response = await app.inject({ method: 'POST', url: '/passkeys/reauthenticate', headers: { authorization: `Bearer ${session.accessToken}` } })
  t.equal(response.statusCode, 200)
  t.same(claimsOf(response.json().accessToken).amr, ['hwk', 'user'])
  t.equal((await app.inject({ url: '/passkey-only', headers: { authorization: `Bearer ${response.json().accessToken}` } })).statusCode, 200)
  t.same((await authTimes(app, session.accessToken))[session.sessionId]![1], ['hwk', 'user'], 'the amr is replaced, not added to')
})

t.test('a wrong password, or another user\'s username: 401, counted by the login limiter with logins', async (t) => {
  const { app, events } = await build(t, { loginLimits: { perUserIp: { max: 3, window: '15m' } } })
  const session = await login(app)
  const wrong = await reauthenticate(app, session.accessToken, { username: ALICE.username, password: 'not-her-password' })
  t.equal(wrong.statusCode, 401)
  t.same(wrong.json(), INVALID_CREDENTIALS)
  const bobs = await reauthenticate(app, session.accessToken, { username: BOB.username, password: BOB.password })
  t.same(bobs.json(), INVALID_CREDENTIALS, "another user's right password proves nothing about this one")
  t.same(events.onLoginFailed, [
    { username: ALICE.username, ip: '127.0.0.1', userAgent: 'lightMyRequest', reason: 'wrong-password' },
    { username: BOB.username, ip: '127.0.0.1', userAgent: 'lightMyRequest', reason: 'unknown-user' }
  ])
  t.equal((await reauthenticate(app, session.accessToken, { username: ALICE.username, password: 'again-wrong' })).statusCode, 401)
  t.equal((await reauthenticate(app, session.accessToken, { username: ALICE.username, password: 'still-wrong' })).statusCode, 401)
  const limited = await reauthenticate(app, session.accessToken)
  t.equal(limited.statusCode, 429, 'three failures of this username and ip: even the right password waits')
  t.equal(limited.json().code, 'AUTH_TOO_MANY_ATTEMPTS')
  t.match(limited.headers['retry-after'], /^\d+$/)
  const loginLimited = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(loginLimited.statusCode, 429, 'and login shares the count')
  t.same((await authTimes(app, session.accessToken))[session.sessionId]![1], ['pwd'])
})

t.test('a revoked session: 401 AUTH_SESSION_REVOKED, for the route and for reauthenticate()', async (t) => {
  const { app } = await build(t)
  const session = await login(app)
  t.equal(await app.refreshSessions.revokeSession(ALICE.id, session.sessionId), true)
  const byPassword = await reauthenticate(app, session.accessToken)
  t.equal(byPassword.statusCode, 401)
  t.same(byPassword.json(), REVOKED)
  t.equal(byPassword.headers['www-authenticate'], 'Bearer error="invalid_token"')
  const byPasskey = await app.inject({ method: 'POST', url: '/passkeys/reauthenticate', headers: { authorization: `Bearer ${session.accessToken}` } })
  t.equal(byPasskey.statusCode, 401)
  t.same(byPasskey.json(), REVOKED)
  t.same(await app.refreshSessions.listSessions(ALICE.id), [], 'nothing was brought back')
})

t.test('a user disabled since (loadUser): the session is revoked, 401', async (t) => {
  const { app, users } = await build(t)
  const session = await login(app)
  users.get(ALICE.username)!.disabled = true
  const response = await app.inject({ method: 'POST', url: '/passkeys/reauthenticate', headers: { authorization: `Bearer ${session.accessToken}` } })
  t.same(response.json(), REVOKED)
  t.same(await app.refreshSessions.listSessions(ALICE.id), [])
})

t.test('no access token: 401 AUTH_TOKEN_MISSING; a bad body: 400', async (t) => {
  const { app } = await build(t)
  const response = await reauthenticate(app, null)
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'AUTH_TOKEN_MISSING')
  const session = await login(app)
  const noUsername = await reauthenticate(app, session.accessToken, { password: ALICE.password })
  t.equal(noUsername.statusCode, 400)
  t.equal(noUsername.json().code, 'FST_ERR_VALIDATION')
})

for (const store of ['memory', 'Redis'] as const) {
  t.test(`${store} store: re-authentication and refresh at once: both succeed, one session, and the refresh after carries the new auth_time`, async (t) => {
    const redis = store === 'Redis' ? { redis: await connectRedis(t, await redisForTest(t)), prefix: uniquePrefix('reauth') } : {}
    const { app } = await build(t, { transport: 'body', ...redis })
    const session = await login(app)
    const sibling = await login(app)
    advanceClock(t, 60_000)
    const [reauth, refreshed, siblingRefreshed] = await Promise.all([
      reauthenticate(app, session.accessToken),
      app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } }),
      app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: sibling.refreshToken } })
    ])
    t.same([reauth.statusCode, refreshed.statusCode, siblingRefreshed.statusCode], [200, 200, 200])
    const next = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: refreshed.json().refreshToken } })
    t.equal(next.statusCode, 200)
    t.equal(claimsOf(next.json().accessToken).auth_time, claimsOf(reauth.json().accessToken).auth_time, 'the rotation kept the new authentication')
    t.equal(claimsOf(siblingRefreshed.json().accessToken).auth_time, claimsOf(sibling.accessToken).auth_time, 'the sibling kept its own')
    t.same((await app.refreshSessions.listSessions(ALICE.id)).map((s) => s.id).sort(), [session.sessionId, sibling.sessionId].sort(), 'no session added or lost')
  })
}

t.test('routes.reauthenticate: another path, or false for none', async (t) => {
  const moved = (await build(t, { routes: { reauthenticate: '/step-up' } })).app
  const session = await login(moved)
  t.equal((await moved.inject({ method: 'POST', url: '/auth/step-up', headers: { authorization: `Bearer ${session.accessToken}` }, payload: { username: ALICE.username, password: ALICE.password } })).statusCode, 200)
  const none = (await build(t, { routes: { reauthenticate: false } })).app
  const other = await login(none)
  const response = await reauthenticate(none, other.accessToken)
  t.equal(response.statusCode, 404)
  t.equal(response.json().code, 'AUTH_ROUTE_NOT_FOUND')
  t.equal((await none.inject({ method: 'POST', url: '/passkeys/reauthenticate', headers: { authorization: `Bearer ${other.accessToken}` } })).statusCode, 200, 'reauthenticate() still works')
})

t.test('a DPoP-bound session: re-authenticated with its key, it gets a DPoP-bound token again', async (t) => {
  const key = await testKey()
  const { app } = await build(t, { transport: 'body' })
  const signedIn = (await app.inject({ method: 'POST', url: '/auth/login', headers: { dpop: await proof(key, { htu: 'http://localhost/auth/login' }) }, payload: { username: ALICE.username, password: ALICE.password } })).json()
  t.equal(signedIn.tokenType, 'DPoP')
  const asBearer = await reauthenticate(app, signedIn.accessToken)
  t.equal(asBearer.statusCode, 401, 'a bound token without its proof')
  t.equal(asBearer.json().code, 'AUTH_DPOP_REQUIRED')
  const response = await app.inject({
    method: 'POST',
    url: '/auth/reauthenticate',
    headers: { authorization: `DPoP ${signedIn.accessToken}`, dpop: await proof(key, { htu: 'http://localhost/auth/reauthenticate', accessToken: signedIn.accessToken }) },
    payload: { username: ALICE.username, password: ALICE.password }
  })
  t.equal(response.statusCode, 200)
  t.equal(response.json().tokenType, 'DPoP')
  t.match(claimsOf(response.json().accessToken), { bnd: 'dpop', cnf: { jkt: key.thumbprint }, amr: ['pwd'] })
})

t.test('an access token from the cookie (accessToken.cookieName): a cross-site re-authentication is refused', async (t) => {
  const { app } = await build(t, { accessToken: { secret: HS256_SECRET, cookieName: 'access_token' } })
  const session = await login(app)
  const payload = { username: ALICE.username, password: ALICE.password }
  const crossSite = await app.inject({ method: 'POST', url: '/auth/reauthenticate', cookies: { access_token: session.accessToken }, headers: { origin: 'https://evil.example' }, payload })
  t.equal(crossSite.statusCode, 403)
  t.equal(crossSite.json().code, 'AUTH_CSRF_REJECTED')
  const sameSite = await app.inject({ method: 'POST', url: '/auth/reauthenticate', cookies: { access_token: session.accessToken }, headers: { origin: 'http://localhost' }, payload })
  t.equal(sameSite.statusCode, 200, 'from the app\'s own origin')
  const bearer = await app.inject({ method: 'POST', url: '/auth/reauthenticate', headers: { authorization: `Bearer ${session.accessToken}`, origin: 'https://evil.example' }, payload })
  t.equal(bearer.statusCode, 200, 'a Bearer header is never sent by a browser on its own')
})
