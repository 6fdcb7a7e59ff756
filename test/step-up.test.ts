/**
 * requireRecentAuth (RFC 9470 step-up): a token whose sign-in is older than maxAge seconds, or of
 * none of the listed methods, gets 401 AUTH_STEP_UP_REQUIRED with
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", ...` naming every
 * requirement (max_age, and the amr values in acr_values). The clock is frozen (Date.now) to test
 * the maxAge boundary to the second. Bad options fail at decoration time (AUTH_INVALID_OPTION).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { ALICE, buildApp, login } from './helpers/build-app.js'
import { proof, testKey } from './helpers/dpop.js'

const STEP_UP = { statusCode: 401, code: 'AUTH_STEP_UP_REQUIRED', error: 'Unauthorized', message: 'A more recent or a different sign-in is required: re-authenticate and retry' }
const TOO_OLD = 'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required"'
const WRONG_METHOD = 'Bearer error="insufficient_user_authentication", error_description="A different authentication method is required"'
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

/** Date.now at `ms` until the test ends. */
function setClock (t: Test, ms: number): void {
  const realNow = Date.now
  Date.now = () => ms
  t.teardown(() => { Date.now = realNow })
}

function routes (app: FastifyInstance): void {
  app.get('/recent', { preHandler: [app.authenticate, app.requireRecentAuth({ maxAge: '5m' })] }, async () => ({ ok: true }))
  app.get('/passkey', { preHandler: [app.authenticate, app.requireRecentAuth({ amr: ['hwk', 'swk'] })] }, async () => ({ ok: true }))
  app.get('/both', { preHandler: [app.authenticate, app.requireRecentAuth({ maxAge: 300, amr: ['hwk'] })] }, async () => ({ ok: true }))
  app.get('/forgot-authenticate', { preHandler: app.requireRecentAuth({ maxAge: 60 }) }, async () => ({ ok: true }))
  app.post<{ Body: { amr: string[] } }>('/sign-in', async (request, reply) => await app.refreshSessions.startSession(request, reply, { id: ALICE.id, roles: ALICE.roles }, { amr: request.body.amr }))
}

async function get (app: FastifyInstance, url: string, accessToken: string): Promise<{ statusCode: number, body: unknown, challenge: unknown }> {
  const response = await app.inject({ url, headers: { authorization: `Bearer ${accessToken}` } })
  return { statusCode: response.statusCode, body: response.json(), challenge: response.headers['www-authenticate'] }
}

t.test('maxAge: accepted up to exactly maxAge seconds after the sign-in, refused one second later', async (t) => {
  const { app } = await buildApp(t, { routes })
  const { accessToken } = await login(app)
  const authTime = claimsOf(accessToken).auth_time as number

  t.test('at auth_time + 300 s (the last millisecond of that second): 200', async (t) => {
    setClock(t, (authTime + 300) * 1000 + 999)
    t.same(await get(app, '/recent', accessToken), { statusCode: 200, body: { ok: true }, challenge: undefined })
  })
  t.test('at auth_time + 301 s: 401 with the RFC 9470 challenge', async (t) => {
    setClock(t, (authTime + 301) * 1000)
    t.same(await get(app, '/recent', accessToken), { statusCode: 401, body: STEP_UP, challenge: `${TOO_OLD}, max_age="300"` })
  })
})

t.test('amr: a password sign-in is refused where a passkey is required, a passkey sign-in accepted', async (t) => {
  const { app } = await buildApp(t, { routes })
  const byPassword = await login(app)
  t.same(await get(app, '/passkey', byPassword.accessToken), { statusCode: 401, body: STEP_UP, challenge: `${WRONG_METHOD}, acr_values="hwk swk"` }, 'the methods, space-separated, in acr_values')

  const byPasskey = (await app.inject({ method: 'POST', url: '/sign-in', payload: { amr: ['swk', 'user'] } })).json()
  t.same(await get(app, '/passkey', byPasskey.accessToken), { statusCode: 200, body: { ok: true }, challenge: undefined }, 'one of the listed methods is enough')
})

t.test('both requirements: each refusal names both, whichever failed', async (t) => {
  const { app } = await buildApp(t, { routes })
  const byPassword = await login(app)
  t.same(await get(app, '/both', byPassword.accessToken), { statusCode: 401, body: STEP_UP, challenge: `${WRONG_METHOD}, max_age="300", acr_values="hwk"` }, 'recent, wrong method')

  const byPasskey = (await app.inject({ method: 'POST', url: '/sign-in', payload: { amr: ['hwk'] } })).json()
  t.same(await get(app, '/both', byPasskey.accessToken), { statusCode: 200, body: { ok: true }, challenge: undefined })
  setClock(t, ((claimsOf(byPasskey.accessToken).auth_time as number) + 301) * 1000)
  t.same(await get(app, '/both', byPasskey.accessToken), { statusCode: 401, body: STEP_UP, challenge: `${TOO_OLD}, max_age="300", acr_values="hwk"` }, 'right method, too old')
})

t.test('a session from before auth_time existed is never recent, and has no method', async (t) => {
  const { app } = await buildApp(t, { routes, options: { transport: 'body' } })
  const old = await app.refreshSessions.sessions.create(ALICE.id, {})
  const { accessToken } = (await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: old.token } })).json()
  t.same(await get(app, '/recent', accessToken), { statusCode: 401, body: STEP_UP, challenge: `${TOO_OLD}, max_age="300"` })
  t.same(await get(app, '/passkey', accessToken), { statusCode: 401, body: STEP_UP, challenge: `${WRONG_METHOD}, acr_values="hwk swk"` })
})

t.test('a DPoP-bound token is challenged with the DPoP scheme', async (t) => {
  const key = await testKey()
  const { app } = await buildApp(t, { routes, options: { transport: 'body' } })
  const loginResponse = await app.inject({ method: 'POST', url: '/auth/login', headers: { dpop: await proof(key, { htu: 'http://localhost/auth/login' }) }, payload: { username: ALICE.username, password: ALICE.password } })
  const { accessToken, tokenType } = loginResponse.json()
  t.equal(tokenType, 'DPoP')
  const response = await app.inject({ url: '/passkey', headers: { authorization: `DPoP ${accessToken}`, dpop: await proof(key, { htm: 'GET', htu: 'http://localhost/passkey', accessToken }) } })
  t.equal(response.statusCode, 401)
  t.same(response.json(), STEP_UP)
  t.equal(response.headers['www-authenticate'], 'DPoP error="insufficient_user_authentication", error_description="A different authentication method is required", acr_values="hwk swk"')
})

t.test('without authenticate before it: 401 AUTH_TOKEN_MISSING, never a pass', async (t) => {
  const { app } = await buildApp(t, { routes })
  const response = await app.inject({ url: '/forgot-authenticate' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'AUTH_TOKEN_MISSING')
  t.equal(response.headers['www-authenticate'], 'Bearer')
})

t.test('bad options fail when the route is declared, with AUTH_INVALID_OPTION', async (t) => {
  const { app } = await buildApp(t)
  const bad: Array<[unknown, RegExp]> = [
    [{}, /needs maxAge, amr or both/],
    [null, /takes \{ maxAge\?, amr\? \}/],
    [{ maxAge: 0 }, /maxAge must be whole seconds, at least 1s/],
    [{ maxAge: -5 }, /maxAge must be whole seconds/],
    [{ maxAge: '500ms' }, /maxAge must be whole seconds/],
    [{ maxAge: 1.5 }, /maxAge must be whole seconds/],
    [{ maxAge: 'soon' }, /maxAge must be whole seconds/],
    [{ maxAge: Infinity }, /maxAge must be whole seconds/],
    [{ amr: [] }, /amr must be an array of 1 to 8/],
    [{ amr: 'hwk' }, /amr must be an array of 1 to 8/],
    [{ amr: ['hwk swk'] }, /1 to 24 characters/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => app.requireRecentAuth(options as never), { code: 'AUTH_INVALID_OPTION', name: 'OptionsError', message }, JSON.stringify(options) ?? String(options))
  }
  t.doesNotThrow(() => app.requireRecentAuth({ maxAge: '1s' }))
  t.doesNotThrow(() => app.requireRecentAuth({ maxAge: 86400, amr: ['otp'] }))
})
