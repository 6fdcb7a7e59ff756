/**
 * fastify.refreshSessions.startSession from the app's own sign-in route (a passkey check, an
 * OAuth callback...): the same token response, refresh cookie, session metadata, per-user cap,
 * hooks and DPoP binding as POST /auth/login, with the amr the app names; bad calls are the
 * app's bugs (TypeError), and a client that must bind is refused as login refuses it.
 */
import t from 'tap'
import fastifyCookie from '@fastify/cookie'
import type { FastifyInstance } from 'fastify'
import type { Response } from 'light-my-request'
import { ADMIN, ALICE, BOB, buildApp, login, type BuildOptions, type TestUser } from './helpers/build-app.js'
import { proof, testKey } from './helpers/dpop.js'

const USERS = [ALICE, ADMIN, BOB]
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
const setCookies = (response: Response): string[] => {
  const header = response.headers['set-cookie']
  return header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
}

/** The app's passkey route, reduced to its end: the assertion was verified, the user is known. */
function passkeyRoute (app: FastifyInstance, amr: unknown = ['hwk', 'user']): void {
  app.post<{ Body: { userId: string, clientId?: string } }>('/passkeys/finish', async (request, reply) => {
    const user = USERS.find((candidate) => candidate.id === request.body.userId) as TestUser
    return await app.refreshSessions.startSession(request, reply, { id: user.id, roles: user.roles, claims: user.claims }, { amr: amr as string[], clientId: request.body.clientId })
  })
}

async function passkeySignIn (app: FastifyInstance, user: TestUser = ALICE, headers: Record<string, string> = {}, clientId?: string): Promise<Response> {
  return await app.inject({ method: 'POST', url: '/passkeys/finish', headers: { 'user-agent': 'passkey-browser/1.0', ...headers }, payload: { userId: user.id, ...(clientId !== undefined && { clientId }) } })
}

async function build (t: Parameters<typeof buildApp>[0], options: BuildOptions['options'] = {}, amr?: unknown): Promise<Awaited<ReturnType<typeof buildApp>>> {
  return await buildApp(t, { options, routes: (app) => passkeyRoute(app, amr) })
}

t.test('the same response, cookie and session as a password login, with the amr the app names', async (t) => {
  const { app, events } = await build(t)
  const byPassword = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  const before = Math.floor(Date.now() / 1000)
  const byPasskey = await passkeySignIn(app)
  const after = Math.floor(Date.now() / 1000)

  t.equal(byPasskey.statusCode, 200)
  t.equal(byPasskey.headers['cache-control'], 'no-store')
  t.equal(byPasskey.headers.pragma, 'no-cache')
  const body = byPasskey.json()
  t.same(Object.keys(body).sort(), Object.keys(byPassword.json()).sort(), 'the keys of the login body')
  t.same(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'sessionId', 'tokenType'])
  t.equal(body.tokenType, 'Bearer')
  t.equal(body.expiresIn, 900)

  // The app's scope has no @fastify/cookie (only the plugin's routes do): the cookie is still the same, byte for byte but the value.
  const [passkeyCookie] = setCookies(byPasskey)
  const [passwordCookie] = setCookies(byPassword)
  t.equal(setCookies(byPasskey).length, 1)
  t.equal(passkeyCookie!.replace(/=[^;]*/, '=<token>'), passwordCookie!.replace(/=[^;]*/, '=<token>'))
  t.equal(passkeyCookie, `refresh_token=${byPasskey.cookies[0]!.value}; Max-Age=604800; Path=/auth; HttpOnly; Secure; SameSite=Strict`)

  const claims = claimsOf(body.accessToken)
  t.same(claims.amr, ['hwk', 'user'])
  t.ok((claims.auth_time as number) >= before && (claims.auth_time as number) <= after, 'auth_time: now')
  t.equal(claims.sub, ALICE.id)
  t.same(claims.roles, ['user'])
  t.equal(claims.tier, 'gold')

  const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${body.accessToken}` } })
  t.same(me.json(), { id: ALICE.id, sessionId: body.sessionId, roles: ['user'], claims: { tier: 'gold' }, authTime: claims.auth_time, amr: ['hwk', 'user'] })

  t.same(events.onLogin, [
    { userId: ALICE.id, sessionId: byPassword.json().sessionId, ip: '127.0.0.1', userAgent: 'lightMyRequest', clientId: null, amr: ['pwd'] },
    { userId: ALICE.id, sessionId: body.sessionId, ip: '127.0.0.1', userAgent: 'passkey-browser/1.0', clientId: null, amr: ['hwk', 'user'] }
  ])
  const [session] = (await app.refreshSessions.listSessions(ALICE.id)).filter((s) => s.id === body.sessionId)
  t.match(session, { userAgent: 'passkey-browser/1.0', ip: '127.0.0.1', clientId: null })

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: byPasskey.cookies[0]!.value } })
  t.equal(refreshed.statusCode, 200, 'its refresh cookie works like any other')
  t.same(claimsOf(refreshed.json().accessToken).amr, ['hwk', 'user'])
})

t.test('an app that registered @fastify/cookie itself gets the same cookie', async (t) => {
  const { app } = await buildApp(t, {
    routes: (app) => {
      void app.register(async (scope) => {
        await scope.register(fastifyCookie)
        passkeyRoute(scope)
      })
    }
  })
  const response = await passkeySignIn(app)
  t.equal(response.statusCode, 200)
  t.same(setCookies(response), [`refresh_token=${response.cookies[0]!.value}; Max-Age=604800; Path=/auth; HttpOnly; Secure; SameSite=Strict`])
})

t.test('the body transport: the refresh token in the body, no cookie', async (t) => {
  const { app } = await build(t, { transport: 'body' })
  const response = await passkeySignIn(app)
  t.equal(response.statusCode, 200)
  t.same(Object.keys(response.json()).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType'])
  t.same(setCookies(response), [])
})

t.test('the per-user cap counts sessions of every sign-in method', async (t) => {
  const { app } = await build(t, { maxSessionsPerUser: 2 })
  const first = await login(app)
  const second = (await passkeySignIn(app)).json()
  const third = (await passkeySignIn(app)).json()
  const live = (await app.refreshSessions.listSessions(ALICE.id)).map((s) => s.id).sort()
  t.same(live, [second.sessionId, third.sessionId].sort(), 'the oldest (the password one) was evicted')
  t.notOk(live.includes(first.sessionId))
})

t.test('a DPoP proof on the sign-in request binds the session, as at login', async (t) => {
  const key = await testKey()
  const { app, events } = await build(t, { transport: 'body' })
  const response = await passkeySignIn(app, ALICE, { dpop: await proof(key, { htu: 'http://localhost/passkeys/finish' }) })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.equal(body.tokenType, 'DPoP')
  t.match(claimsOf(body.accessToken), { bnd: 'dpop', cnf: { jkt: key.thumbprint }, amr: ['hwk', 'user'] })
  t.same(events.onSessionBound, [{ userId: ALICE.id, sessionId: body.sessionId, binding: 'dpop', ip: '127.0.0.1', userAgent: 'passkey-browser/1.0' }])
  const stolen = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: body.refreshToken } })
  t.equal(stolen.json().code, 'AUTH_REFRESH_UNBOUND', 'its refresh token is worthless without the key')

  const wrongUrl = await passkeySignIn(app, ALICE, { dpop: await proof(key, { htu: 'http://localhost/auth/login' }) })
  t.equal(wrongUrl.statusCode, 401, 'a proof for another URL is refused')
  t.equal(wrongUrl.json().code, 'AUTH_DPOP_PROOF_INVALID')
})

t.test('a client that must bind (requireBinding.clients) is refused without a proof: AUTH_BINDING_REQUIRED, no session', async (t) => {
  const { app, events } = await build(t, { requireBinding: { clients: ['mobile'] } })
  const response = await passkeySignIn(app, ALICE, {}, 'mobile')
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'AUTH_BINDING_REQUIRED')
  t.equal(events.onLogin, undefined)
  t.same(await app.refreshSessions.listSessions(ALICE.id), [])
})

t.test('bad calls are the app\'s bugs: a TypeError, and no session', async (t) => {
  const cases: Array<{ name: string, call: (app: FastifyInstance, request: never, reply: never) => Promise<unknown>, message: RegExp }> = [
    { name: 'no amr', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: 'u-1' }, {} as never), message: /amr must be an array of 1 to 8/ },
    { name: 'an empty amr', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: 'u-1' }, { amr: [] }), message: /amr must be an array of 1 to 8/ },
    { name: 'nine amr values', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: 'u-1' }, { amr: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] }), message: /1 to 8/ },
    { name: 'an amr with a space', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: 'u-1' }, { amr: ['pwd otp'] }), message: /1 to 24 characters/ },
    { name: 'an amr of 25 characters', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: 'u-1' }, { amr: ['x'.repeat(25)] }), message: /1 to 24 characters/ },
    { name: 'no user id', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: '' }, { amr: ['hwk'] }), message: /a user with an id/ },
    { name: 'an empty clientId', call: (app, request, reply) => app.refreshSessions.startSession(request, reply, { id: 'u-1' }, { amr: ['hwk'], clientId: '' }), message: /clientId/ }
  ]
  const { app } = await buildApp(t, {
    routes: (app) => {
      app.post<{ Body: { index: number } }>('/bad', async (request, reply) => {
        try {
          await cases[request.body.index]!.call(app, request as never, reply as never)
          return { thrown: null }
        } catch (error) {
          return { thrown: (error as Error).name, message: (error as Error).message }
        }
      })
    }
  })
  for (const [index, { name, message }] of cases.entries()) {
    const response = await app.inject({ method: 'POST', url: '/bad', payload: { index } })
    t.equal(response.json().thrown, 'TypeError', name)
    t.match(response.json().message, message, name)
  }
  t.same(await app.refreshSessions.listSessions('u-1'), [], 'no session was created')
})

t.test('with dbsc.enabled, the answer offers to bind the session to the browser\'s key, as login\'s does', async (t) => {
  const { app } = await build(t, { dbsc: { enabled: true } })
  const byPassword = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  const byPasskey = await passkeySignIn(app)
  t.match(byPasskey.headers['secure-session-registration'], /^\(ES256 RS256\);path="\/auth\/dbsc\/register";challenge="/)
  const shape = (header: unknown): string => String(header).replace(/challenge="[^"]*"/, 'challenge="<c>"')
  t.equal(shape(byPasskey.headers['secure-session-registration']), shape(byPassword.headers['secure-session-registration']))
  t.equal(shape(byPasskey.headers['sec-session-registration']), shape(byPassword.headers['sec-session-registration']))
})

t.test('duplicate amr values are kept once', async (t) => {
  const { app } = await build(t, {}, ['hwk', 'hwk', 'user'])
  t.same(claimsOf((await passkeySignIn(app)).json().accessToken).amr, ['hwk', 'user'])
})
