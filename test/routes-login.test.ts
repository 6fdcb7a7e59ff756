/**
 * POST /auth/login over app.inject with the real cookie and JWT plugins: the token response,
 * the refresh cookie's every attribute, the access token's claims, failures that all look the
 * same, validation, clientId binding and the login hooks.
 */
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { ADMIN, ALICE, BOB, buildApp, hashFor, login, type TestUser } from './helpers/build-app.js'

const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/
const INVALID_CREDENTIALS = { statusCode: 401, code: 'AUTH_INVALID_CREDENTIALS', error: 'Unauthorized', message: 'Invalid username or password' }
const SEVEN_DAYS = 7 * 24 * 3600

function jwtPart (token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

function setCookies (response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie']
  return header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
}

function postLogin (app: Parameters<typeof login>[0], payload: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/login', headers, payload: payload as Record<string, unknown> })
}

t.test('200: token response, no-store, and a refresh cookie with every default attribute', async (t) => {
  const { app } = await buildApp(t)
  const before = Math.floor(Date.now() / 1000)
  const response = await postLogin(app, { username: ALICE.username, password: ALICE.password })
  const after = Math.floor(Date.now() / 1000)

  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  t.equal(response.headers.pragma, 'no-cache')
  t.match(response.headers['content-type'], /^application\/json/)
  const body = response.json()
  t.same(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'sessionId', 'tokenType'], 'cookie transport: no refreshToken in the body')
  t.equal(body.tokenType, 'Bearer')
  t.equal(body.expiresIn, 900)
  t.match(body.sessionId, /^[A-Za-z0-9_-]{22}$/)

  const cookies = setCookies(response)
  t.equal(cookies.length, 1, 'exactly one Set-Cookie')
  t.equal(response.cookies.length, 1)
  const cookie = response.cookies[0]!
  t.equal(cookie.name, 'refresh_token')
  t.match(cookie.value, TOKEN_PATTERN)
  t.equal(cookie.value.split('.')[1], body.sessionId, 'the token names its session')
  t.not(cookie.value.split('.')[2], body.sessionId)
  t.equal(cookies[0], `refresh_token=${cookie.value}; Max-Age=${SEVEN_DAYS}; Path=/auth; HttpOnly; Secure; SameSite=Strict`,
    'Max-Age is the idle TTL (7 d), the smaller of idle and absolute; no Domain, no Expires')
  t.same({ ...cookie }, { name: 'refresh_token', value: cookie.value, maxAge: SEVEN_DAYS, path: '/auth', httpOnly: true, secure: true, sameSite: 'Strict' })

  t.same(jwtPart(body.accessToken, 0), { alg: 'HS256', typ: 'JWT' })
  const claims = jwtPart(body.accessToken, 1)
  t.same(Object.keys(claims).sort(), ['amr', 'auth_time', 'exp', 'iat', 'roles', 'sid', 'sub', 'tier'], 'no iss/aud unless configured')
  t.equal(claims.sub, ALICE.id)
  t.equal(claims.sid, body.sessionId)
  t.same(claims.roles, ['user'])
  t.equal(claims.tier, 'gold', 'extra claim from findUser')
  t.ok((claims.iat as number) >= before && (claims.iat as number) <= after, 'iat is now')
  t.equal(claims.exp, (claims.iat as number) + 900)
  t.ok((claims.auth_time as number) >= before && (claims.auth_time as number) <= after, 'auth_time: the password was checked now')
  t.same(claims.amr, ['pwd'], 'amr: a password (RFC 8176)')

  const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${body.accessToken}` } })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { id: ALICE.id, sessionId: body.sessionId, roles: ['user'], claims: { tier: 'gold' }, authTime: claims.auth_time, amr: ['pwd'] })
})

t.test('iss, aud and ttl when configured; reserved claim names from findUser cannot override ours', async (t) => {
  const EVE: TestUser = {
    id: 'u-eve',
    username: 'eve',
    password: 'eve-password-1',
    roles: ['user'],
    claims: { sub: ADMIN.id, sid: 'x', roles: ['admin'], exp: 9_999_999_999, iat: 1, iss: 'evil', aud: 'evil', jti: 'j', nbf: 1, auth_time: 9_999_999_999, amr: ['hwk'], plan: 'pro' }
  }
  const { app } = await buildApp(t, {
    users: [ALICE, EVE],
    options: { accessToken: { secret: 'a-test-secret-of-at-least-32-bytes-0123456789', ttl: '5m', issuer: 'tasks-api', audience: 'tasks-web' } }
  })
  const alice = await login(app, ALICE)
  const claims = jwtPart(alice.accessToken, 1)
  t.same(Object.keys(claims).sort(), ['amr', 'aud', 'auth_time', 'exp', 'iat', 'iss', 'roles', 'sid', 'sub', 'tier'])
  t.equal(claims.iss, 'tasks-api')
  t.equal(claims.aud, 'tasks-web')
  t.equal(claims.exp, (claims.iat as number) + 300)
  t.equal(alice.body.expiresIn, 300)

  const eve = await login(app, EVE)
  const eveClaims = jwtPart(eve.accessToken, 1)
  t.equal(eveClaims.sub, 'u-eve')
  t.equal(eveClaims.sid, eve.sessionId)
  t.same(eveClaims.roles, ['user'])
  t.equal(eveClaims.iss, 'tasks-api')
  t.equal(eveClaims.aud, 'tasks-web')
  t.equal(eveClaims.exp, (eveClaims.iat as number) + 300)
  t.equal(eveClaims.plan, 'pro')
  for (const name of ['jti', 'nbf']) t.notOk(name in eveClaims, `reserved ${name} dropped`)
  t.same(eveClaims.amr, ['pwd'], 'amr is the sign-in\'s, never a findUser claim')
  t.ok((eveClaims.auth_time as number) <= Math.floor(Date.now() / 1000), 'auth_time is the sign-in\'s, never a findUser claim')
  const admin = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${eve.accessToken}` } })
  t.equal(admin.statusCode, 403)
})

t.test('wrong password, unknown user and disabled user: the same 401, no cookie, and onLoginFailed without the password', async (t) => {
  const CAROL: TestUser = { id: 'u-carol', username: 'carol', password: 'carol-password-1', roles: ['user'], disabled: true }
  const { app, events, logs } = await buildApp(t, { users: [ALICE, BOB, CAROL], captureLogs: true })
  const attempts = [
    { payload: { username: ALICE.username, password: 'wrong-password-1' }, reason: 'wrong-password' },
    { payload: { username: 'mallory', password: 'mallory-password-1' }, reason: 'unknown-user' },
    { payload: { username: CAROL.username, password: CAROL.password }, reason: 'disabled' },
    { payload: { username: ALICE.username, password: BOB.password }, reason: 'wrong-password' }
  ]
  for (const { payload } of attempts) {
    const response = await postLogin(app, payload, { 'user-agent': 'attacker/1.0' })
    t.equal(response.statusCode, 401, `${payload.username}`)
    t.same(response.json(), INVALID_CREDENTIALS)
    t.equal(response.headers['set-cookie'], undefined, 'no cookie on failure')
    t.equal(response.headers['www-authenticate'], undefined)
  }
  t.same(events.onLoginFailed, attempts.map(({ payload, reason }) => ({ username: payload.username, ip: '127.0.0.1', userAgent: 'attacker/1.0', reason })))
  t.equal(events.onLogin, undefined)
  const everything = JSON.stringify(events) + logs.join('')
  for (const { payload } of attempts) t.notOk(everything.includes(payload.password), 'the password is in no event and no log line')
})

t.test('400 FST_ERR_VALIDATION for missing, empty or wrong-typed fields (no coercion); never a 500', async (t) => {
  const { app, events } = await buildApp(t)
  // The message names the field; its wording belongs to the validator, so only the field is pinned.
  const cases: Array<[unknown, RegExp]> = [
    [{ username: ALICE.username }, /^body.*password/],
    [{ password: ALICE.password }, /^body.*username/],
    [{}, /^body.*username/],
    [{ username: '', password: ALICE.password }, /^body\/username /],
    [{ username: ALICE.username, password: '' }, /^body\/password /],
    [{ username: { $gt: '' }, password: ALICE.password }, /^body\/username /],
    [{ username: ALICE.username, password: { toString: 'x' } }, /^body\/password /],
    [{ username: [ALICE.username], password: [ALICE.password] }, /^body\/username /],
    [{ username: ALICE.username, password: 12345678 }, /^body\/password /],
    [{ username: ALICE.username, password: null }, /^body\/password /],
    [{ username: true, password: ALICE.password }, /^body\/username /],
    [{ username: ALICE.username, password: ALICE.password, clientId: '' }, /^body\/clientId /],
    [{ username: ALICE.username, password: ALICE.password, clientId: { a: 1 } }, /^body\/clientId /],
    [{ username: 'a'.repeat(257), password: ALICE.password }, /^body\/username /],
    [[ALICE.username, ALICE.password], /^body/]
  ]
  for (const [payload, message] of cases) {
    const response = await postLogin(app, payload)
    const what = JSON.stringify(payload).slice(0, 60)
    t.equal(response.statusCode, 400, what)
    const body = response.json()
    t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], what)
    t.match(body, { statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message }, what)
    t.equal(response.headers['set-cookie'], undefined)
  }
  const noBody = await app.inject({ method: 'POST', url: '/auth/login' })
  t.equal(noBody.statusCode, 400)
  t.match(noBody.json(), { statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: /^body/ })
  const malformed = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"username":' })
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json(), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', error: 'Bad Request', message: String })
  t.equal(events.onLoginFailed, undefined, 'invalid requests are not login attempts')
  t.equal(events.onLogin, undefined, 'and nothing coerced its way into a login')
})

t.test('clientId is stored with the session and binds refresh to that client', async (t) => {
  const { app, events } = await buildApp(t)
  const web = await login(app, ALICE, { clientId: 'web', headers: { 'user-agent': 'browser/1.0' } })
  const plain = await login(app, ALICE)
  const sessions = await app.refreshSessions.listSessions(ALICE.id)
  t.equal(sessions.find((s) => s.id === web.sessionId)?.clientId, 'web')
  t.equal(sessions.find((s) => s.id === plain.sessionId)?.clientId, null)
  t.same(events.onLogin, [
    { userId: ALICE.id, sessionId: web.sessionId, ip: '127.0.0.1', userAgent: 'browser/1.0', clientId: 'web', amr: ['pwd'] },
    { userId: ALICE.id, sessionId: plain.sessionId, ip: '127.0.0.1', userAgent: 'lightMyRequest', clientId: null, amr: ['pwd'] }
  ])

  const refresh = (token: string, payload?: Record<string, unknown>) => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: token }, ...(payload !== undefined && { payload }) })
  const invalid = { statusCode: 401, code: 'AUTH_REFRESH_INVALID', error: 'Unauthorized', message: 'The refresh token is invalid or expired' }
  for (const payload of [{ clientId: 'mobile' }, undefined, { clientId: 'WEB' }]) {
    const response = await refresh(web.refreshToken, payload)
    t.equal(response.statusCode, 401, `web session refreshed as ${JSON.stringify(payload)}`)
    t.same(response.json(), invalid)
  }
  const wrongWay = await refresh(plain.refreshToken, { clientId: 'web' })
  t.equal(wrongWay.statusCode, 401, 'a session without a client cannot be refreshed as one')
  t.same(wrongWay.json(), invalid)

  const ok = await refresh(web.refreshToken, { clientId: 'web' })
  t.equal(ok.statusCode, 200, 'the failed attempts did not kill the session')
  t.equal(ok.json().sessionId, web.sessionId)
  t.equal((await refresh(plain.refreshToken)).statusCode, 200)
})

t.test('hooks that throw are logged and do not fail the request', async (t) => {
  const { app, logs } = await buildApp(t, {
    captureLogs: true,
    options: {
      onLogin: () => { throw new Error('onLogin exploded') },
      onLoginFailed: async () => { throw new Error('onLoginFailed exploded') }
    }
  })
  const ok = await postLogin(app, { username: ALICE.username, password: ALICE.password })
  t.equal(ok.statusCode, 200)
  t.equal(ok.cookies.length, 1)
  const bad = await postLogin(app, { username: ALICE.username, password: 'nope-nope-nope' })
  t.equal(bad.statusCode, 401)
  t.same(bad.json(), INVALID_CREDENTIALS)
  const text = logs.join('')
  t.match(text, /the onLogin hook failed/)
  t.match(text, /the onLoginFailed hook failed/)
  t.notOk(text.includes(ALICE.password), 'no password in logs')
  t.notOk(text.includes(ok.cookies[0]!.value), 'no refresh token in logs')
  t.notOk(text.includes(ok.json().accessToken), 'no access token in logs')
})

t.test('a weaker stored hash: login works, and the rehash hook gets a new hash, never the password', async (t) => {
  const WEAK: TestUser = { ...BOB, passwordHash: await hashFor(BOB.password, { memoryCost: 1024, timeCost: 1, parallelism: 1 }) }
  const { app, events } = await buildApp(t, { users: [WEAK], options: { argon2: { memoryCost: 2048, timeCost: 1, parallelism: 1 } } })
  await login(app, WEAK)
  t.equal(events.onPasswordRehash?.length, 1)
  const event = events.onPasswordRehash![0] as { userId: string, passwordHash: string }
  t.equal(event.userId, BOB.id)
  t.match(event.passwordHash, /^\$argon2id\$v=19\$m=2048,t=1,p=1\$/)
  t.notOk(JSON.stringify(events).includes(BOB.password))
})
