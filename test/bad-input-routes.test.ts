/**
 * Bad input on every route of the plugin: whatever a client sends is answered 4xx with a JSON
 * `{ statusCode, code, error, message }` body, a stable code and no stack trace; never 5xx.
 * Every route is hit anonymously and, for the Bearer routes, also with a valid access token
 * (so that the input reaches the handler, where a success is a legitimate answer).
 */
import t, { type Test } from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { ALICE, BOB, buildApp, login } from './helpers/build-app.js'

/** Every code a bad request may get: Fastify's own and the plugin's. */
const STABLE_CODES = new Set([
  'FST_ERR_VALIDATION',
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_BODY_TOO_LARGE',
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'FST_ERR_BAD_URL',
  'AUTH_INVALID_CREDENTIALS',
  'AUTH_TOO_MANY_ATTEMPTS',
  'AUTH_REFRESH_MISSING',
  'AUTH_REFRESH_INVALID',
  'AUTH_REFRESH_REUSED',
  'AUTH_CSRF_REJECTED',
  'AUTH_TOKEN_MISSING',
  'AUTH_TOKEN_INVALID',
  'AUTH_TOKEN_EXPIRED',
  'AUTH_SESSION_NOT_FOUND',
  'AUTH_JWKS_NOT_FOUND'
])

/** code -> how many cases got it, for the comment at the end. */
const seen = new Map<string, number>()

interface Route {
  name: string
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  /** Statuses that are a legitimate answer to garbage the route ignores (logout is idempotent, ...). */
  success: number[]
  /** Fixed body sent when the case does not replace it. */
  body?: unknown
}

interface Case {
  name: string
  request: InjectOptions
  /** The status and code expected for a route, when the case must get one; undefined: any 4xx. */
  expect?: (route: Route) => { status: number, code: string } | undefined
}

const json = (payload: string): InjectOptions => ({ headers: { 'content-type': 'application/json' }, payload })
const bodyOf = (body: unknown): InjectOptions => json(JSON.stringify(body))
const readsBody = (route: Route): boolean => route.method !== 'GET'
/** Routes with a body schema: login, refresh and logout. */
const validatesBody = (route: Route): boolean => route.method === 'POST' && !route.url.endsWith('logout-all')
const onBodyRoutes = (status: number, code: string) => (route: Route) => readsBody(route) ? { status, code } : undefined
const invalidBody = (route: Route) => validatesBody(route) ? { status: 400, code: 'FST_ERR_VALIDATION' } : undefined
const invalidLogin = (route: Route) => route.url === '/auth/login' ? { status: 400, code: 'FST_ERR_VALIDATION' } : undefined
const wrongCredentials = (route: Route) => route.url === '/auth/login' ? { status: 401, code: 'AUTH_INVALID_CREDENTIALS' } : undefined
/** What refresh and logout-all answer to a request without a token; logout's 204 is a success. */
const tokenRouteWithoutBody = (route: Route) => route.url === '/auth/refresh' ? { status: 401, code: 'AUTH_REFRESH_MISSING' } : route.url === '/auth/logout-all' ? { status: 401, code: 'AUTH_TOKEN_MISSING' } : undefined
const invalidRefreshBody = (route: Route) => validatesBody(route) && route.url !== '/auth/login' ? { status: 400, code: 'FST_ERR_VALIDATION' } : undefined

/** A refresh token of the right shape for a user and session that do not exist. */
const FORGED_REFRESH = `${Buffer.from('u-alice').toString('base64url')}.${'A'.repeat(22)}.${'B'.repeat(43)}`
const TWO_MB = 'x'.repeat(2 * 1024 * 1024)

function bodyCases (): Case[] {
  const login = (fields: Record<string, unknown>) => bodyOf({ username: 'alice', password: 'not-the-password', ...fields })
  return [
    { name: 'malformed JSON', request: json('{"username": "alice",'), expect: onBodyRoutes(400, 'FST_ERR_CTP_INVALID_JSON_BODY') },
    { name: 'JSON with a trailing garbage', request: json('{"username":"alice","password":"x"} x'), expect: onBodyRoutes(400, 'FST_ERR_CTP_INVALID_JSON_BODY') },
    { name: 'JSON __proto__ key', request: json('{"__proto__":{"admin":true},"username":"alice","password":"x"}'), expect: onBodyRoutes(400, 'FST_ERR_CTP_INVALID_JSON_BODY') },
    { name: 'JSON constructor.prototype key', request: json('{"constructor":{"prototype":{"admin":true}},"username":"alice","password":"x"}'), expect: onBodyRoutes(400, 'FST_ERR_CTP_INVALID_JSON_BODY') },
    { name: 'JSON array', request: json('[{"username":"alice","password":"alice-password-1"}]'), expect: invalidBody },
    { name: 'JSON string', request: json('"alice"'), expect: invalidBody },
    { name: 'JSON number', request: json('42'), expect: invalidBody },
    { name: 'JSON true', request: json('true'), expect: invalidBody },
    { name: 'JSON null', request: json('null'), expect: invalidLogin },
    { name: 'deeply nested JSON', request: json('['.repeat(5000) + ']'.repeat(5000)), expect: invalidBody },
    // Refresh and logout (and logout-all, in their scope) take an empty body of any type as no body (issue 9, item 4).
    { name: 'empty body with content-type json', request: json(''), expect: (route) => /\/(refresh|logout|logout-all)$/.test(route.url) ? tokenRouteWithoutBody(route) : onBodyRoutes(400, 'FST_ERR_CTP_EMPTY_JSON_BODY')(route) },
    { name: 'empty body with content-type form', request: { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' }, expect: (route) => /\/(refresh|logout|logout-all)$/.test(route.url) ? tokenRouteWithoutBody(route) : onBodyRoutes(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')(route) },
    { name: 'whitespace body with content-type json', request: json('   '), expect: onBodyRoutes(400, 'FST_ERR_CTP_INVALID_JSON_BODY') },
    { name: '2 MB body', request: bodyOf({ username: TWO_MB, password: 'x' }), expect: onBodyRoutes(413, 'FST_ERR_CTP_BODY_TOO_LARGE') },
    { name: 'body just over the 16 KB limit', request: bodyOf({ username: 'x'.repeat(16 * 1024), password: 'x' }), expect: onBodyRoutes(413, 'FST_ERR_CTP_BODY_TOO_LARGE') },
    { name: 'text/plain body', request: { headers: { 'content-type': 'text/plain' }, payload: 'username=alice&password=alice-password-1' }, expect: invalidBody },
    { name: 'form body', request: { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=alice&password=alice-password-1' }, expect: onBodyRoutes(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE') },
    { name: 'multipart body', request: { headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--x--' }, expect: onBodyRoutes(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE') },
    { name: 'unknown content-type', request: { headers: { 'content-type': 'application/jsonx' }, payload: '{}' }, expect: onBodyRoutes(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE') },
    { name: 'garbage content-type', request: { headers: { 'content-type': ';;;=\u00ff' }, payload: '{}' }, expect: onBodyRoutes(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE') },
    { name: 'missing username', request: bodyOf({ password: 'alice-password-1' }), expect: invalidLogin },
    { name: 'missing password', request: bodyOf({ username: 'alice' }), expect: invalidLogin },
    { name: 'empty object', request: bodyOf({}), expect: invalidLogin },
    { name: 'username: 42', request: login({ username: 42 }), expect: invalidLogin },
    { name: 'username: true', request: login({ username: true }), expect: invalidLogin },
    { name: 'username: ["alice"]', request: bodyOf({ username: ['alice'], password: ALICE.password }), expect: invalidLogin },
    { name: 'username: null', request: login({ username: null }), expect: invalidLogin },
    { name: 'password: {}', request: login({ password: {} }), expect: invalidLogin },
    { name: 'password: 12345678', request: login({ password: 12345678 }), expect: invalidLogin },
    { name: 'password: [the right one]', request: bodyOf({ username: 'alice', password: [ALICE.password] }), expect: invalidLogin },
    { name: 'empty username and password', request: bodyOf({ username: '', password: '' }), expect: invalidLogin },
    { name: 'empty password', request: login({ password: '' }), expect: invalidLogin },
    { name: 'clientId: 5', request: login({ clientId: 5 }), expect: (route) => invalidLogin(route) ?? invalidRefreshBody(route) },
    { name: 'clientId: ""', request: login({ clientId: '' }), expect: (route) => invalidLogin(route) ?? invalidRefreshBody(route) },
    { name: 'username of 300 characters', request: login({ username: 'a'.repeat(300) }), expect: invalidLogin },
    { name: 'password of 1025 characters', request: login({ password: 'p'.repeat(1025) }), expect: invalidLogin },
    { name: 'username with NUL', request: login({ username: 'al\u0000ice' }), expect: wrongCredentials },
    { name: 'right password, username with NUL', request: bodyOf({ username: 'alice\u0000', password: ALICE.password }), expect: wrongCredentials },
    { name: 'username with RTL override', request: login({ username: '\u202Eecila' }), expect: wrongCredentials },
    { name: 'username with zero-width joiner', request: bodyOf({ username: 'ali\u200Dce', password: ALICE.password }), expect: wrongCredentials },
    { name: 'username of emoji', request: login({ username: '🦊🔑'.repeat(60) }), expect: wrongCredentials },
    { name: 'username with a lone surrogate', request: json('{"username":"\\ud800alice","password":"x"}'), expect: wrongCredentials },
    { name: 'username of combining marks', request: login({ username: 'a' + '\u0301'.repeat(250) }), expect: wrongCredentials },
    { name: 'username in fullwidth letters', request: bodyOf({ username: 'ａｌｉｃｅ', password: ALICE.password }), expect: wrongCredentials },
    { name: 'password with NUL and emoji', request: login({ password: '\u0000🦊\u202E' }), expect: wrongCredentials },
    { name: 'refreshToken: 42', request: bodyOf({ refreshToken: 42 }), expect: (route) => invalidLogin(route) ?? invalidRefreshBody(route) },
    { name: 'refreshToken: {}', request: bodyOf({ refreshToken: {} }), expect: (route) => invalidLogin(route) ?? invalidRefreshBody(route) },
    { name: 'refreshToken: ""', request: bodyOf({ refreshToken: '' }), expect: (route) => invalidLogin(route) ?? invalidRefreshBody(route) },
    { name: 'refreshToken of 3000 characters', request: bodyOf({ refreshToken: 'r'.repeat(3000) }), expect: (route) => invalidLogin(route) ?? invalidRefreshBody(route) },
    { name: 'refreshToken "a.b.c"', request: bodyOf({ refreshToken: 'a.b.c' }), expect: (route) => route.url === '/auth/refresh' ? { status: 401, code: 'AUTH_REFRESH_INVALID' } : invalidLogin(route) },
    { name: 'refreshToken forged for a missing session', request: bodyOf({ refreshToken: FORGED_REFRESH }), expect: (route) => route.url === '/auth/refresh' ? { status: 401, code: 'AUTH_REFRESH_INVALID' } : invalidLogin(route) },
    { name: 'refreshToken with NUL and ../', request: bodyOf({ refreshToken: '../..\u0000.{x}.*' }), expect: (route) => route.url === '/auth/refresh' ? { status: 401, code: 'AUTH_REFRESH_INVALID' } : invalidLogin(route) }
  ]
}

function headerCases (): Case[] {
  const cookie = (value: string): InjectOptions => ({ headers: { cookie: value } })
  const bearer = (value: string): InjectOptions => ({ headers: { authorization: value } })
  const refreshInvalid = (route: Route) => route.url === '/auth/refresh' ? { status: 401, code: 'AUTH_REFRESH_INVALID' } : undefined
  const refreshMissing = (route: Route) => route.url === '/auth/refresh' ? { status: 401, code: 'AUTH_REFRESH_MISSING' } : undefined
  return [
    { name: 'refresh cookie with non-UTF-8 percent escapes', request: cookie('refresh_token=%FF%FE%C0%AF'), expect: refreshInvalid },
    { name: 'refresh cookie with broken percent escapes', request: cookie('refresh_token=%E0%A4%A; other=%'), expect: refreshInvalid },
    { name: 'refresh cookie of 10 KB', request: cookie('refresh_token=' + 'A'.repeat(10 * 1024)), expect: refreshInvalid },
    { name: 'refresh cookie of 10 KB in the token shape', request: cookie(`refresh_token=${'A'.repeat(10 * 1024)}.${'A'.repeat(22)}.${'B'.repeat(43)}`), expect: refreshInvalid },
    { name: 'refresh cookie forged for a missing session', request: cookie(`refresh_token=${FORGED_REFRESH}`), expect: refreshInvalid },
    { name: 'refresh cookie with NUL escapes', request: cookie('refresh_token=%00%00.%00.%00'), expect: refreshInvalid },
    { name: 'refresh cookie quoted', request: cookie('refresh_token="quoted"'), expect: refreshInvalid },
    { name: 'two refresh cookies', request: cookie('refresh_token=a; refresh_token=b'), expect: refreshInvalid },
    { name: 'empty refresh cookie', request: cookie('refresh_token='), expect: refreshMissing },
    { name: '2000 cookies', request: cookie(Array.from({ length: 2000 }, (_, i) => `c${i}=${i}`).join('; ')), expect: refreshMissing },
    { name: 'garbage cookie header', request: cookie('=; ;;=;\u00ff; ===; a'), expect: refreshMissing },
    { name: 'cookie named __proto__', request: cookie('__proto__=x; constructor=y; refresh_token=z'), expect: refreshInvalid },
    { name: 'cross-site Origin with a refresh cookie', request: { headers: { cookie: `refresh_token=${FORGED_REFRESH}`, origin: 'https://evil.example' } }, expect: (route) => route.url === '/auth/refresh' || route.url === '/auth/logout' ? { status: 403, code: 'AUTH_CSRF_REJECTED' } : undefined },
    { name: 'Origin null with a refresh cookie', request: { headers: { cookie: `refresh_token=${FORGED_REFRESH}`, origin: 'null' } }, expect: (route) => route.url === '/auth/refresh' || route.url === '/auth/logout' ? { status: 403, code: 'AUTH_CSRF_REJECTED' } : undefined },
    { name: 'garbage Referer with a refresh cookie', request: { headers: { cookie: `refresh_token=${FORGED_REFRESH}`, referer: '::not a url::' } }, expect: (route) => route.url === '/auth/refresh' || route.url === '/auth/logout' ? { status: 403, code: 'AUTH_CSRF_REJECTED' } : undefined },
    { name: 'Authorization of 20 KB', request: bearer('Bearer ' + 'x'.repeat(20 * 1024)) },
    { name: 'Authorization: a 20 KB JWT-shaped token', request: bearer(`Bearer ${'e'.repeat(7000)}.${'e'.repeat(7000)}.${'e'.repeat(7000)}`) },
    { name: 'Authorization: Bearer with nothing', request: bearer('Bearer') },
    { name: 'Authorization: Bearer with spaces', request: bearer('Bearer    ') },
    { name: 'Authorization: two tokens', request: bearer('Bearer a b') },
    { name: 'Authorization: Basic', request: bearer('Basic Zm9vOmJhcg==') },
    { name: 'Authorization: latin-1 garbage', request: bearer('Bearer \u00ff\u00fe\u00e9') },
    { name: 'Authorization: alg none', request: bearer('Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1LWFsaWNlIiwic2lkIjoieCIsInJvbGVzIjpbImFkbWluIl19.') },
    { name: 'Authorization: header that is not JSON', request: bearer('Bearer bm90IGpzb24.bm90IGpzb24.c2ln') },
    { name: 'Authorization: empty', request: bearer('') }
  ]
}

function queryCases (): Case[] {
  return [
    { name: 'unknown query string', request: { query: { foo: 'bar', admin: 'true' } } },
    { name: 'prototype pollution in the query', request: { url: '?__proto__[admin]=1&constructor[prototype][admin]=1' } },
    { name: 'query of 4000 parameters', request: { url: '?' + Array.from({ length: 4000 }, (_, i) => `p${i}=${i}`).join('&') } },
    { name: 'query with bad percent escapes', request: { url: '?a=%FF%&b=%E0%A4' } }
  ]
}

function send (app: FastifyInstance, route: Route, c: Case, authorization: string | undefined): Promise<LightMyRequestResponse> {
  const base: InjectOptions = route.body === undefined ? {} : bodyOf(route.body)
  const suffix = typeof c.request.url === 'string' ? c.request.url : ''
  return app.inject({
    ...base,
    ...c.request,
    method: route.method,
    url: route.url + suffix,
    headers: {
      ...base.headers,
      ...(authorization !== undefined && { authorization }),
      ...c.request.headers
    }
  })
}

/** What is wrong with an error response, as a list; [] when it is a proper one. */
function problems (response: LightMyRequestResponse): string[] {
  const found: string[] = []
  if (!/^application\/json/.test(String(response.headers['content-type']))) found.push(`content-type ${String(response.headers['content-type'])}`)
  let body: Record<string, unknown>
  try {
    body = response.json()
  } catch {
    return [...found, `body is not JSON: ${response.body.slice(0, 100)}`]
  }
  if (JSON.stringify(Object.keys(body).sort()) !== '["code","error","message","statusCode"]') found.push(`keys ${Object.keys(body).join(',')}`)
  if (body.statusCode !== response.statusCode) found.push(`statusCode ${String(body.statusCode)}`)
  if (typeof body.code !== 'string') found.push('no string code')
  else if (!STABLE_CODES.has(body.code)) found.push(`unexpected code ${body.code}`)
  if (typeof body.error !== 'string' || typeof body.message !== 'string') found.push('error/message not strings')
  if (/stack|\bat .+:\d+:\d+|node_modules|\/src\//i.test(response.body)) found.push('looks like a stack trace')
  return found
}

function check (t: Test, response: LightMyRequestResponse, label: string, route: Route, c: Case, anonymous: boolean): void {
  const status = response.statusCode
  t.ok(status < 500, `${label}: not 5xx (${status} ${response.body.slice(0, 120)})`)
  const expected = c.expect?.(route)
  if (expected !== undefined) {
    t.same({ status, code: status >= 400 ? response.json().code : null }, expected, `${label}: ${expected.status} ${expected.code}`)
  } else if (route.success.includes(status) || (!anonymous && status < 300)) {
    t.pass(`${label}: ${status} is a legitimate answer`)
    return
  } else {
    t.ok(status >= 400 && status < 500, `${label}: 4xx (${status})`)
  }
  if (status >= 400) {
    t.same(problems(response), [], `${label}: error body { statusCode, code, error, message }`)
    const code = response.json().code
    if (typeof code === 'string') seen.set(code, (seen.get(code) ?? 0) + 1)
  }
}

const CASES = [...bodyCases(), ...headerCases(), ...queryCases()]

async function matrix (t: Test, app: FastifyInstance, routes: Route[], bearer: string): Promise<void> {
  for (const route of routes) {
    await t.test(route.name, async (t) => {
      for (const c of CASES) {
        check(t, await send(app, route, c, undefined), `${c.name}`, route, c, true)
        // Bearer routes also with a valid token, so the garbage reaches the handler; the case's own
        // Authorization header (if any) wins.
        if (route.name.includes('Bearer')) check(t, await send(app, route, c, bearer), `${c.name} (with a valid Bearer)`, route, { ...c, expect: authedExpect(c) }, false)
      }
    })
  }
}

/** With a valid token, the errors of a body the route does not read may turn into a success. */
function authedExpect (c: Case): Case['expect'] {
  return (route) => {
    const expected = c.expect?.(route)
    return expected?.code.startsWith('FST_ERR_') === true ? expected : undefined
  }
}

t.test('HS256 app: every route, every bad input: 4xx with a stable code, never 5xx', async (t) => {
  const { app } = await buildApp(t, {
    options: {
      transport: 'both',
      // Hundreds of failed logins from one ip: the limits have their own tests.
      loginLimits: { perUserIp: { max: 100_000, window: '1m' }, perIp: { max: 100_000, window: '1m' } }
    }
  })
  const { accessToken } = await login(app, BOB)
  const bearer = `Bearer ${accessToken}`
  const routes: Route[] = [
    { name: 'POST /auth/login', method: 'POST', url: '/auth/login', success: [], body: { username: 'alice', password: 'not-the-password' } },
    { name: 'POST /auth/refresh', method: 'POST', url: '/auth/refresh', success: [] },
    { name: 'POST /auth/logout', method: 'POST', url: '/auth/logout', success: [204] },
    { name: 'POST /auth/logout-all (Bearer)', method: 'POST', url: '/auth/logout-all', success: [] },
    { name: 'GET /auth/sessions (Bearer)', method: 'GET', url: '/auth/sessions', success: [] },
    { name: 'DELETE /auth/sessions/:id (Bearer)', method: 'DELETE', url: '/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA', success: [] },
    { name: 'GET /.well-known/jwks.json (HS256: 404)', method: 'GET', url: '/.well-known/jwks.json', success: [] }
  ]
  await matrix(t, app, routes, bearer)

  t.test('nothing a client sent logged anyone in', async (t) => {
    const sessions = await app.refreshSessions.listSessions(ALICE.id)
    t.equal(sessions.length, 0, 'alice has no session')
  })
})

t.test('EdDSA app: the JWKS route answers 200 whatever comes with the request', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const { app } = await buildApp(t, { options: { accessToken: { keys: [{ kid: 'k1', alg: 'EdDSA', privateKey, publicKey }] } } })
  await matrix(t, app, [{ name: 'GET /.well-known/jwks.json (EdDSA)', method: 'GET', url: '/.well-known/jwks.json', success: [200] }], 'Bearer x')
})

t.test('path traversal and garbage in DELETE /auth/sessions/:id', async (t) => {
  const { app } = await buildApp(t)
  const own = await login(app, BOB)
  const alice = await login(app, ALICE)
  const headers = { authorization: `Bearer ${own.accessToken}` }
  const del = (url: string) => app.inject({ method: 'DELETE', url, headers })
  // Matched by the route: the id reaches the store, which finds no such session of Bob's.
  const matched: Array<[string, number, string]> = [
    ['/auth/sessions/..%2F..%2Fetc%2Fpasswd', 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/%2e%2e%2f%2e%2e%2f', 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/%00', 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/*', 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/%7Bu-bob%7D', 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/' + encodeURIComponent('🦊\u202E'), 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/' + alice.sessionId, 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/' + 'a'.repeat(65), 400, 'FST_ERR_VALIDATION'],
    ['/auth/sessions/%FF', 400, 'FST_ERR_BAD_URL'],
    ['/auth/sessions/x?__proto__[a]=1', 404, 'AUTH_SESSION_NOT_FOUND'],
    ['/auth/sessions/', 404, 'AUTH_SESSION_NOT_FOUND']
  ]
  for (const [url, status, code] of matched) {
    const response = await del(url)
    t.same({ status: response.statusCode, code: response.json().code }, { status, code }, url)
    t.same(problems(response), [], `${url}: error body`)
  }
  t.equal((await app.refreshSessions.listSessions(ALICE.id)).length, 1, "alice's session survived")

  // Under the prefix but matched by no route: the plugin's not-found handler answers with a code.
  for (const url of ['/auth/sessions/%2e%2e', '/auth/sessions/a/b', '/auth/nope']) {
    const response = await del(url)
    t.same(response.json(), { statusCode: 404, code: 'AUTH_ROUTE_NOT_FOUND', error: 'Not Found', message: 'No such route' }, url)
  }
  // Dot segments are resolved before routing: this one leaves the prefix, so it is the app's 404.
  const outside = await del('/auth/sessions/../../etc/passwd')
  t.equal(outside.statusCode, 404)
  t.notMatch(outside.body, /stack|\bat .+:\d+:\d+/, 'no stack')
})

t.test('a throwing findUser is 500 AUTH_INTERNAL_ERROR, and its message stays out of the body', async (t) => {
  const secretMessage = 'db password=hunter2 at 10.0.0.7: connection refused'
  const { app } = await buildApp(t, {
    options: { findUser: () => { throw new Error(secretMessage) } }
  })
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: ALICE.password } })
  t.equal(response.statusCode, 500)
  t.same(response.json(), { statusCode: 500, code: 'AUTH_INTERNAL_ERROR', error: 'Internal Server Error', message: 'Internal server error' })
  t.notOk(response.body.includes('hunter2'), 'the thrown message is not in the body')
  t.notOk(response.body.includes(ALICE.password), 'nor the password')

  const rejecting = await buildApp(t, { options: { findUser: async () => { throw new TypeError(secretMessage) } } })
  const rejected = await rejecting.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: ALICE.password } })
  t.same(rejected.json(), { statusCode: 500, code: 'AUTH_INTERNAL_ERROR', error: 'Internal Server Error', message: 'Internal server error' }, 'a rejecting findUser too')
})

t.test('every code seen is a stable one', async (t) => {
  t.comment('codes seen: ' + [...seen].sort().map(([code, count]) => `${code} x${count}`).join(', '))
  t.same([...seen.keys()].filter((code) => !STABLE_CODES.has(code)), [])
  for (const code of ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_BODY_TOO_LARGE', 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'AUTH_INVALID_CREDENTIALS', 'AUTH_REFRESH_MISSING', 'AUTH_REFRESH_INVALID', 'AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_CSRF_REJECTED']) {
    t.ok(seen.has(code), `${code} was exercised`)
  }
})
