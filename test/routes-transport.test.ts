/**
 * The transport option (cookie, body, both), no-store on every token response, the cookie
 * options (__Host- mode, name, path, sameSite, domain) and routePrefix.
 */
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, buildApp, login } from './helpers/build-app.js'

const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/
const SEVEN_DAYS = 7 * 24 * 3600
const EPOCH = 'Expires=Thu, 01 Jan 1970 00:00:00 GMT'
const MISSING = { statusCode: 401, code: 'AUTH_REFRESH_MISSING', error: 'Unauthorized', message: 'No refresh token was sent' }
const INVALID = { statusCode: 401, code: 'AUTH_REFRESH_INVALID', error: 'Unauthorized', message: 'The refresh token is invalid or expired' }
const credentials = { username: ALICE.username, password: ALICE.password }

function post (app: FastifyInstance, url: string, { cookie, payload, headers = {} }: { cookie?: string, payload?: object, headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { ...headers, ...(cookie !== undefined && { cookie }) }, ...(payload !== undefined && { payload }) })
}

t.test("transport 'body': tokens in bodies only, never a Set-Cookie, cookies ignored", async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body' } })
  const loggedIn = await post(app, '/auth/login', { payload: credentials })
  t.equal(loggedIn.statusCode, 200)
  t.equal(loggedIn.headers['cache-control'], 'no-store')
  t.equal(loggedIn.headers['set-cookie'], undefined, 'no Set-Cookie on login')
  const body = loggedIn.json()
  t.same(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType'])
  t.match(body.refreshToken, TOKEN_PATTERN)
  t.equal(body.refreshToken.split('.')[1], body.sessionId)

  const refreshed = await post(app, '/auth/refresh', { payload: { refreshToken: body.refreshToken } })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.headers['cache-control'], 'no-store')
  t.equal(refreshed.headers['set-cookie'], undefined, 'no Set-Cookie on refresh')
  const next = refreshed.json()
  t.same(Object.keys(next).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType'])
  t.not(next.refreshToken, body.refreshToken)
  t.equal(next.sessionId, body.sessionId)

  const cookieOnly = await post(app, '/auth/refresh', { cookie: `refresh_token=${next.refreshToken}` })
  t.equal(cookieOnly.statusCode, 401, 'a cookie is not a body token')
  t.same(cookieOnly.json(), MISSING)
  t.equal(cookieOnly.headers['set-cookie'], undefined, 'no Set-Cookie on a 401 either: body clients keep no cookies')
  const garbage = await post(app, '/auth/refresh', { payload: { refreshToken: 'garbage' } })
  t.same(garbage.json(), INVALID)
  t.equal(garbage.headers['set-cookie'], undefined)
  t.same((await post(app, '/auth/refresh')).json(), MISSING)

  const ignoredLogout = await post(app, '/auth/logout', { cookie: `refresh_token=${next.refreshToken}` })
  t.equal(ignoredLogout.statusCode, 204)
  t.equal(ignoredLogout.headers['set-cookie'], undefined)
  t.equal(events.onLogout, undefined, 'a cookie did not log anyone out')
  const stillAlive = await post(app, '/auth/refresh', { payload: { refreshToken: next.refreshToken } })
  t.equal(stillAlive.statusCode, 200, 'the cookie was ignored by logout')

  const logout = await post(app, '/auth/logout', { payload: { refreshToken: stillAlive.json().refreshToken } })
  t.equal(logout.statusCode, 204)
  t.equal(logout.headers['set-cookie'], undefined, 'no Set-Cookie on logout')
  t.same(events.onLogout, [{ userId: ALICE.id, sessionId: body.sessionId, ip: '127.0.0.1', all: false }])
  t.same((await post(app, '/auth/refresh', { payload: { refreshToken: stillAlive.json().refreshToken } })).json(), INVALID)

  const other = await login(app, ALICE)
  const all = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${other.accessToken}` } })
  t.equal(all.statusCode, 204)
  t.equal(all.headers['set-cookie'], undefined, 'no Set-Cookie on logout-all')
})

t.test("transport 'both': cookie and body; the body wins when both are present", async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'both' } })
  const loggedIn = await post(app, '/auth/login', { payload: credentials })
  t.equal(loggedIn.statusCode, 200)
  t.equal(loggedIn.headers['cache-control'], 'no-store')
  const body = loggedIn.json()
  t.match(body.refreshToken, TOKEN_PATTERN)
  t.equal(loggedIn.headers['set-cookie'], `refresh_token=${body.refreshToken}; Max-Age=${SEVEN_DAYS}; Path=/auth; HttpOnly; Secure; SameSite=Strict`, 'the same token in the cookie')

  const viaCookie = await post(app, '/auth/refresh', { cookie: `refresh_token=${body.refreshToken}` })
  t.equal(viaCookie.statusCode, 200)
  t.equal(viaCookie.headers['cache-control'], 'no-store')
  const second = viaCookie.json().refreshToken as string
  t.equal(viaCookie.headers['set-cookie'], `refresh_token=${second}; Max-Age=${SEVEN_DAYS}; Path=/auth; HttpOnly; Secure; SameSite=Strict`)

  const viaBody = await post(app, '/auth/refresh', { payload: { refreshToken: second } })
  t.equal(viaBody.statusCode, 200)
  const third = viaBody.json().refreshToken as string
  t.equal(viaBody.headers['set-cookie'], `refresh_token=${third}; Max-Age=${SEVEN_DAYS}; Path=/auth; HttpOnly; Secure; SameSite=Strict`)

  const other = await login(app, ALICE)
  const bodyWins = await post(app, '/auth/refresh', { cookie: `refresh_token=${third}`, payload: { refreshToken: other.refreshToken } })
  t.equal(bodyWins.statusCode, 200)
  t.equal(bodyWins.json().sessionId, other.sessionId, 'the body token was used')
  const untouched = await post(app, '/auth/refresh', { cookie: `refresh_token=${third}` })
  t.equal(untouched.statusCode, 200, 'the cookie token was not rotated')
  t.equal(untouched.json().sessionId, body.sessionId)

  const logout = await post(app, '/auth/logout', { cookie: `refresh_token=${untouched.json().refreshToken}`, payload: { refreshToken: bodyWins.json().refreshToken } })
  t.equal(logout.statusCode, 204)
  t.equal(logout.headers['set-cookie'], `refresh_token=; Max-Age=0; Path=/auth; ${EPOCH}; HttpOnly; Secure; SameSite=Strict`)
  t.same((await app.refreshSessions.listSessions(ALICE.id)).map((s) => s.id), [], 'both the body session and the cookie session were logged out')
})

t.test("transport 'cookie' (default): a body refreshToken is ignored", async (t) => {
  const { app } = await buildApp(t)
  const alice = await login(app, ALICE)
  t.notOk('refreshToken' in alice.body)
  const response = await post(app, '/auth/refresh', { payload: { refreshToken: alice.refreshToken } })
  t.equal(response.statusCode, 401)
  t.same(response.json(), MISSING)
  t.equal(response.headers['set-cookie'], `refresh_token=; Max-Age=0; Path=/auth; ${EPOCH}; HttpOnly; Secure; SameSite=Strict`)
  const logout = await post(app, '/auth/logout', { payload: { refreshToken: alice.refreshToken } })
  t.equal(logout.statusCode, 204)
  const alive = await post(app, '/auth/refresh', { cookie: `refresh_token=${alice.refreshToken}` })
  t.equal(alive.statusCode, 200, 'neither refresh nor logout used the body token')
  t.equal(alive.headers['cache-control'], 'no-store')
})

t.test('cookie.hostPrefix: __Host-refresh_token, Path=/, Secure, no Domain', async (t) => {
  const { app } = await buildApp(t, { options: { cookie: { hostPrefix: true } } })
  const loggedIn = await post(app, '/auth/login', { payload: credentials })
  const cookie = loggedIn.cookies[0]!
  t.equal(cookie.name, '__Host-refresh_token')
  t.equal(loggedIn.headers['set-cookie'], `__Host-refresh_token=${cookie.value}; Max-Age=${SEVEN_DAYS}; Path=/; HttpOnly; Secure; SameSite=Strict`)
  const plainName = await post(app, '/auth/refresh', { cookie: `refresh_token=${cookie.value}` })
  t.same(plainName.json(), MISSING, 'only the configured name is read')
  t.equal(plainName.headers['set-cookie'], `__Host-refresh_token=; Max-Age=0; Path=/; ${EPOCH}; HttpOnly; Secure; SameSite=Strict`)
  const refreshed = await post(app, '/auth/refresh', { cookie: `__Host-refresh_token=${cookie.value}` })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.headers['set-cookie'], `__Host-refresh_token=${refreshed.cookies[0]!.value}; Max-Age=${SEVEN_DAYS}; Path=/; HttpOnly; Secure; SameSite=Strict`)
  const logout = await post(app, '/auth/logout', { cookie: `__Host-refresh_token=${refreshed.cookies[0]!.value}` })
  t.equal(logout.statusCode, 204)
  t.equal(logout.headers['set-cookie'], `__Host-refresh_token=; Max-Age=0; Path=/; ${EPOCH}; HttpOnly; Secure; SameSite=Strict`)
  await t.rejects(buildApp(t, { options: { cookie: { hostPrefix: true, domain: 'example.com' } } }), /cookie.hostPrefix requires secure, no domain and path \//)
  await t.rejects(buildApp(t, { options: { cookie: { hostPrefix: true, path: '/auth' } } }), /cookie.hostPrefix requires/)
  await t.rejects(buildApp(t, { options: { cookie: { hostPrefix: true, secure: false } } }), /cookie.hostPrefix requires/)
})

t.test('custom cookie name, path, sameSite, domain and secure', async (t) => {
  const { app } = await buildApp(t, { options: { cookie: { name: 'rt', path: '/', sameSite: 'lax', domain: 'example.com', secure: false } } })
  const loggedIn = await post(app, '/auth/login', { payload: credentials })
  const value = loggedIn.cookies[0]!.value
  t.equal(loggedIn.headers['set-cookie'], `rt=${value}; Max-Age=${SEVEN_DAYS}; Domain=example.com; Path=/; HttpOnly; SameSite=Lax`)
  const refreshed = await post(app, '/auth/refresh', { cookie: `rt=${value}` })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.headers['set-cookie'], `rt=${refreshed.cookies[0]!.value}; Max-Age=${SEVEN_DAYS}; Domain=example.com; Path=/; HttpOnly; SameSite=Lax`)
  const cleared = await post(app, '/auth/refresh')
  t.equal(cleared.headers['set-cookie'], `rt=; Max-Age=0; Domain=example.com; Path=/; ${EPOCH}; HttpOnly; SameSite=Lax`, 'cleared with the same Domain and Path, or the browser would keep it')

  const { app: none } = await buildApp(t, { options: { cookie: { sameSite: 'none' } } })
  const noneLogin = await post(none, '/auth/login', { payload: credentials })
  t.equal(noneLogin.headers['set-cookie'], `refresh_token=${noneLogin.cookies[0]!.value}; Max-Age=${SEVEN_DAYS}; Path=/auth; HttpOnly; Secure; SameSite=None`)
  await t.rejects(buildApp(t, { options: { cookie: { sameSite: 'none', secure: false } } }), /sameSite none requires cookie.secure/)
})

t.test("routePrefix '/api/auth' moves every route and the default cookie path", async (t) => {
  const { app } = await buildApp(t, { options: { routePrefix: '/api/auth' } })
  t.equal((await post(app, '/auth/login', { payload: credentials })).statusCode, 404)
  const loggedIn = await post(app, '/api/auth/login', { payload: credentials })
  t.equal(loggedIn.statusCode, 200)
  const value = loggedIn.cookies[0]!.value
  t.equal(loggedIn.headers['set-cookie'], `refresh_token=${value}; Max-Age=${SEVEN_DAYS}; Path=/api/auth; HttpOnly; Secure; SameSite=Strict`)
  t.equal((await post(app, '/auth/refresh', { cookie: `refresh_token=${value}` })).statusCode, 404)
  const refreshed = await post(app, '/api/auth/refresh', { cookie: `refresh_token=${value}` })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.cookies[0]!.path, '/api/auth')
  const accessToken = refreshed.json().accessToken as string
  const sessions = await app.inject({ url: '/api/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(sessions.statusCode, 200)
  const logout = await post(app, '/api/auth/logout', { cookie: `refresh_token=${refreshed.cookies[0]!.value}` })
  t.equal(logout.statusCode, 204)
  t.equal(logout.headers['set-cookie'], `refresh_token=; Max-Age=0; Path=/api/auth; ${EPOCH}; HttpOnly; Secure; SameSite=Strict`)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: { authorization: `Bearer ${accessToken}` } })).statusCode, 204)

  const { app: root } = await buildApp(t, { options: { routePrefix: '' } })
  const rootLogin = await post(root, '/login', { payload: credentials })
  t.equal(rootLogin.statusCode, 200)
  t.equal(rootLogin.cookies[0]!.path, '/', "routePrefix '' puts the cookie on /")
})
