/**
 * CSRF for cookie-carried refresh and logout: Origin, then Referer, then Sec-Fetch-Site.
 * Under app.inject the Host header is `localhost:80`, so the server's own origin is
 * `http://localhost` (the default port is not part of a serialized origin).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, HS256_SECRET, buildApp, login } from './helpers/build-app.js'

const REJECTED = { statusCode: 403, code: 'AUTH_CSRF_REJECTED', error: 'Forbidden', message: 'Cross-site request refused' }
const OWN_ORIGIN = 'http://localhost'

function post (app: FastifyInstance, url: string, token: string | undefined, headers: Record<string, string>, payload?: object): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { ...headers, ...(token !== undefined && { cookie: `refresh_token=${token}` }) }, ...(payload !== undefined && { payload }) })
}

/** Refreshes from a good origin and returns the next token; fails the test if that does not work. */
async function stillRefreshes (t: Test, app: FastifyInstance, token: string, what: string): Promise<string> {
  const response = await post(app, '/auth/refresh', token, { origin: OWN_ORIGIN })
  t.equal(response.statusCode, 200, `${what}: the session was not touched`)
  return response.cookies[0]?.value ?? token
}

const FOREIGN: Array<[string, Record<string, string>]> = [
  ['a foreign Origin', { origin: 'https://evil.example' }],
  ['Origin: null (sandboxed iframe, data: URL)', { origin: 'null' }],
  ['an empty Origin', { origin: '' }],
  ['a look-alike Origin', { origin: 'http://localhost.evil.example' }],
  ['our host on another scheme', { origin: 'https://localhost' }],
  ['our host on another port', { origin: 'http://localhost:8080' }],
  ['a foreign Origin and a same-origin Referer', { origin: 'https://evil.example', referer: `${OWN_ORIGIN}/page` }],
  ['a foreign Origin and Sec-Fetch-Site same-origin', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
  ['no Origin, a foreign Referer', { referer: 'https://evil.example/page' }],
  ['no Origin, a Referer that is no URL', { referer: 'not a url' }],
  ['no Origin, a data: Referer', { referer: 'data:text/html,hi' }],
  ['no Origin, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }]
]

t.test('refresh carried by the cookie: 403 AUTH_CSRF_REJECTED from another origin, and the session is not rotated', async (t) => {
  const { app, events } = await buildApp(t)
  let token = (await login(app, ALICE)).refreshToken
  for (const [what, headers] of FOREIGN) {
    const response = await post(app, '/auth/refresh', token, headers)
    t.equal(response.statusCode, 403, what)
    t.same(response.json(), REJECTED, what)
    t.equal(response.headers['set-cookie'], undefined, `${what}: a cross-site request cannot even clear the cookie`)
  }
  t.equal(events.onRefresh, undefined, 'nothing was rotated')
  token = await stillRefreshes(t, app, token, 'after every rejection')
  t.same((events.onRefresh as Array<{ grace: boolean }>).map((e) => e.grace), [false], 'a real rotation, not a grace replay: the rejections rotated nothing')
})

t.test('logout carried by the cookie: 403 from another origin, and the session is not revoked', async (t) => {
  const { app, events } = await buildApp(t)
  const token = (await login(app, ALICE)).refreshToken
  for (const [what, headers] of FOREIGN) {
    const response = await post(app, '/auth/logout', token, headers)
    t.equal(response.statusCode, 403, what)
    t.same(response.json(), REJECTED, what)
    t.equal(response.headers['set-cookie'], undefined, `${what}: cookie not cleared`)
  }
  t.equal(events.onLogout, undefined)
  await stillRefreshes(t, app, token, 'after every rejected logout')
  const noCookie = await post(app, '/auth/logout', undefined, { origin: 'https://evil.example' })
  t.equal(noCookie.statusCode, 204, 'no cookie, nothing to forge: logout without a token is a harmless no-op')
})

t.test('same origin, allowed origins and non-browser clients pass', async (t) => {
  const { app } = await buildApp(t, { options: { allowedOrigins: ['https://app.example', 'http://localhost:5173'] } })
  let token = (await login(app, ALICE)).refreshToken
  const passing: Array<[string, Record<string, string>]> = [
    ['our own Origin', { origin: OWN_ORIGIN }],
    ['an allowed Origin', { origin: 'https://app.example' }],
    ['another allowed Origin with a port', { origin: 'http://localhost:5173' }],
    ['no Origin, a same-origin Referer', { referer: `${OWN_ORIGIN}/app/page?x=1` }],
    ['no Origin, an allowed Referer', { referer: 'https://app.example/some/page' }],
    ['neither (curl, server-to-server)', {}],
    ['no Origin, Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['no Origin, Sec-Fetch-Site none (typed in the address bar)', { 'sec-fetch-site': 'none' }]
  ]
  for (const [what, headers] of passing) {
    const response = await post(app, '/auth/refresh', token, headers)
    t.equal(response.statusCode, 200, what)
    token = response.cookies[0]!.value
  }
  for (const origin of ['https://app.example.evil', 'http://app.example', 'https://evil.example']) {
    const response = await post(app, '/auth/refresh', token, { origin })
    t.equal(response.statusCode, 403, `${origin} is not allowed`)
    t.same(response.json(), REJECTED)
  }
  const logout = await post(app, '/auth/logout', token, { origin: 'https://app.example' })
  t.equal(logout.statusCode, 204, 'logout from an allowed origin')
  t.equal((await post(app, '/auth/refresh', token, {})).statusCode, 401, 'and it did log out')
})

t.test('body transport: a foreign Origin is allowed (a cross-site page cannot know the token)', async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'body' } })
  const { refreshToken } = await login(app, ALICE)
  const refreshed = await post(app, '/auth/refresh', undefined, { origin: 'https://evil.example' }, { refreshToken })
  t.equal(refreshed.statusCode, 200)
  const next = refreshed.json().refreshToken as string
  const logout = await post(app, '/auth/logout', undefined, { origin: 'https://evil.example' }, { refreshToken: next })
  t.equal(logout.statusCode, 204)
  t.equal((await post(app, '/auth/refresh', undefined, {}, { refreshToken: next })).statusCode, 401, 'logged out')
})

t.test("transport 'both': the cookie path is checked, the body path is not", async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'both' } })
  const { refreshToken } = await login(app, ALICE)
  const viaCookie = await post(app, '/auth/refresh', refreshToken, { origin: 'https://evil.example' })
  t.equal(viaCookie.statusCode, 403)
  t.same(viaCookie.json(), REJECTED)
  const viaBody = await post(app, '/auth/refresh', undefined, { origin: 'https://evil.example' }, { refreshToken })
  t.equal(viaBody.statusCode, 200)
})

t.test('trustProxy: our origin is computed from X-Forwarded-Proto and X-Forwarded-Host', async (t) => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example', 'x-forwarded-for': '203.0.113.7' }
  const { app } = await buildApp(t, { fastify: { trustProxy: true } })
  let token = (await login(app, ALICE)).refreshToken
  const ok = await post(app, '/auth/refresh', token, { ...forwarded, origin: 'https://app.example' })
  t.equal(ok.statusCode, 200, 'the origin the browser saw, behind the proxy')
  token = ok.cookies[0]!.value
  for (const origin of [OWN_ORIGIN, 'http://app.example', 'https://evil.example']) {
    const response = await post(app, '/auth/refresh', token, { ...forwarded, origin })
    t.equal(response.statusCode, 403, `${origin} is not the proxied origin`)
  }
  const sessions = await app.refreshSessions.listSessions(ALICE.id)
  t.equal(sessions[0]!.ip, '127.0.0.1', 'the login came without X-Forwarded-For')

  const { app: direct } = await buildApp(t)
  const directToken = (await login(direct, ALICE)).refreshToken
  const spoofed = await post(direct, '/auth/refresh', directToken, { ...forwarded, origin: 'https://app.example' })
  t.equal(spoofed.statusCode, 403, 'without trustProxy the forwarded headers are not believed')
})

t.test('cross-site "simple" requests (no CORS preflight) never get past the body parser or validator', async (t) => {
  // A cross-site page can send text/plain, form-urlencoded and multipart POSTs without a preflight;
  // these must never rotate, revoke or log in, whatever the Origin check would have said.
  const { app, events } = await buildApp(t)
  const { refreshToken } = await login(app, ALICE)
  const bodies: Array<[string, string]> = [
    ['text/plain', `{"refreshToken":"${refreshToken}"}`],
    ['text/plain', ''],
    ['application/x-www-form-urlencoded', `refreshToken=${refreshToken}`],
    ['multipart/form-data; boundary=x', '--x--']
  ]
  for (const url of ['/auth/refresh', '/auth/logout', '/auth/login']) {
    for (const [contentType, payload] of bodies) {
      const response = await app.inject({ method: 'POST', url, headers: { 'content-type': contentType, origin: 'https://evil.example', cookie: `refresh_token=${refreshToken}` }, payload })
      t.ok([400, 403, 415].includes(response.statusCode), `${url} ${contentType}: ${response.statusCode}`)
      t.equal(response.headers['set-cookie'], undefined)
    }
  }
  t.equal(events.onRefresh, undefined)
  t.equal(events.onLogout, undefined)
  t.equal(events.onLogin?.length, 1, 'only the real login')
  await stillRefreshes(t, app, refreshToken, 'after the simple requests')
})

t.test('the CSRF check comes before the credential is looked at, and after authenticate on logout-all', async (t) => {
  const { app, events } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, cookieName: 'access_token' } } })
  const foreign = { origin: 'https://evil.example' }
  for (const url of ['/auth/refresh', '/auth/logout']) {
    const garbage = await post(app, url, 'not-a-refresh-token', foreign)
    t.equal(garbage.statusCode, 403, `${url}: a garbage cookie from another origin is 403, not 401`)
    t.same(garbage.json(), REJECTED)
    t.equal(garbage.headers['set-cookie'], undefined, `${url}: and its cookie is not cleared`)
  }
  const missing = await post(app, '/auth/refresh', undefined, foreign)
  t.equal(missing.json().code, 'AUTH_REFRESH_MISSING', 'no cookie from another origin: nothing to forge, 401 AUTH_REFRESH_MISSING')

  const badCookie = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { ...foreign, cookie: 'access_token=not-a-jwt' } })
  t.equal(badCookie.statusCode, 401, 'logout-all: a bad access-token cookie is 401 first (authenticate runs before the guard)')
  t.equal(badCookie.json().code, 'AUTH_TOKEN_INVALID')
  const none = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: foreign })
  t.equal(none.json().code, 'AUTH_TOKEN_MISSING', 'logout-all without any token: 401 AUTH_TOKEN_MISSING')
  t.equal(events.onRefresh, undefined)
  t.equal(events.onLogout, undefined)
})
