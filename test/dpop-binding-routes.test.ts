/**
 * DPoP binding through the routes: a login or refresh with a proof binds the session (once,
 * onSessionBound); from then on a refresh without the key is 401 AUTH_REFRESH_UNBOUND and the
 * session lives on; requireBinding refuses unbound logins, refreshes and access tokens; server
 * nonces; `dpop: false` ignores proofs; htu behind a proxy.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Response } from 'light-my-request'
import { ALICE, buildApp, login } from './helpers/build-app.js'
import { proof, testKey } from './helpers/dpop.js'

const key = await testKey()
const other = await testKey()
const LOGIN_URL = 'http://localhost/auth/login'

async function dpopLogin (app: FastifyInstance, dpop?: string, clientId?: string): Promise<Response> {
  return await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password, ...(clientId !== undefined && { clientId }) }, headers: dpop === undefined ? {} : { dpop } })
}
async function refresh (app: FastifyInstance, refreshToken: string, dpop?: string, clientId?: string): Promise<Response> {
  return await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken, ...(clientId !== undefined && { clientId }) }, headers: dpop === undefined ? {} : { dpop } })
}
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

t.test('a login with a proof binds the session; its refresh token is worthless without the key, and the session is not revoked', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body' } })
  const bound = await dpopLogin(app, await proof(key, { htu: LOGIN_URL }))
  t.equal(bound.statusCode, 200)
  const body = bound.json()
  t.equal(body.tokenType, 'DPoP')
  t.match(claimsOf(body.accessToken), { bnd: 'dpop', cnf: { jkt: key.thumbprint } })
  t.same(events.onSessionBound, [{ userId: ALICE.id, sessionId: body.sessionId, binding: 'dpop', ip: '127.0.0.1', userAgent: 'lightMyRequest' }])

  const stolen = await refresh(app, body.refreshToken)
  t.equal(stolen.statusCode, 401)
  t.equal(stolen.json().code, 'AUTH_REFRESH_UNBOUND', 'without the key')
  const otherKey = await refresh(app, body.refreshToken, await proof(other))
  t.equal(otherKey.json().code, 'AUTH_REFRESH_UNBOUND', 'with another key')
  t.same(events.onProofRefused, [
    { binding: null, reason: 'unproved', userId: ALICE.id, sessionId: body.sessionId, ip: '127.0.0.1', userAgent: 'lightMyRequest' },
    { binding: 'dpop', reason: 'key', userId: ALICE.id, sessionId: body.sessionId, ip: '127.0.0.1', userAgent: 'lightMyRequest' }
  ])
  t.equal(events.onReuseDetected, undefined, 'not reuse: nothing revoked')

  const owner = await refresh(app, body.refreshToken, await proof(key))
  t.equal(owner.statusCode, 200, 'the session lives on for the holder of the key')
  t.match(claimsOf(owner.json().accessToken), { bnd: 'dpop', cnf: { jkt: key.thumbprint } }, 'every new access token is bound too')
  t.equal(events.onSessionBound!.length, 1, 'bound once')
  const list = await app.inject({ url: '/auth/sessions', headers: { authorization: `DPoP ${owner.json().accessToken}`, dpop: await proof(key, { htm: 'GET', htu: 'http://localhost/auth/sessions', accessToken: owner.json().accessToken }) } })
  t.same(list.json().sessions.map((s: { binding: unknown }) => s.binding), ['dpop'])
})

t.test('an unbound session becomes bound by the first refresh that carries a proof', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body' } })
  const { refreshToken, sessionId } = await login(app)
  t.equal(events.onSessionBound, undefined)
  const first = await refresh(app, refreshToken, await proof(key))
  t.equal(first.statusCode, 200)
  t.same(events.onSessionBound, [{ userId: ALICE.id, sessionId, binding: 'dpop', ip: '127.0.0.1', userAgent: 'lightMyRequest' }])
  const second = await refresh(app, first.json().refreshToken, await proof(key))
  t.equal(second.statusCode, 200)
  t.equal(events.onSessionBound!.length, 1, 'not again')
  t.equal((await refresh(app, second.json().refreshToken)).json().code, 'AUTH_REFRESH_UNBOUND')
})

t.test('requireBinding.clients: that client must prove a key at login and refresh; others need not', async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'body', requireBinding: { clients: ['mobile'] } } })
  const refused = await dpopLogin(app, undefined, 'mobile')
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'AUTH_BINDING_REQUIRED')
  t.equal(refused.headers['www-authenticate'], 'DPoP algs="ES256 RS256 PS256 EdDSA Ed25519"')
  t.equal((await dpopLogin(app, undefined, 'web')).statusCode, 200, 'another client')
  t.equal((await dpopLogin(app)).statusCode, 200, 'no client')
  const bound = await dpopLogin(app, await proof(key, { htu: LOGIN_URL }), 'mobile')
  t.equal(bound.statusCode, 200)
  t.equal((await refresh(app, bound.json().refreshToken, await proof(key), 'mobile')).statusCode, 200)

  // A session of the client from before the option was set (made here through the API): unbound, so refused until it proves a key.
  const old = await app.refreshSessions.sessions.create(ALICE.id, { clientId: 'mobile' })
  const unproved = await refresh(app, old.token, undefined, 'mobile')
  t.equal(unproved.json().code, 'AUTH_BINDING_REQUIRED')
  const proved = await refresh(app, old.token, await proof(key), 'mobile')
  t.equal(proved.statusCode, 200, 'the same token, now with a key: bound from here on')
  t.equal(proved.json().tokenType, 'DPoP')
})

t.test('requireBinding decorator: a route refuses access tokens of unbound sessions, or of another kind', async (t) => {
  const { app } = await buildApp(t, {
    options: { transport: 'body' },
    routes: (app) => {
      app.get('/bound', { preHandler: [app.authenticate, app.requireBinding()] }, async () => ({ ok: true }))
      app.get('/dbsc-only', { preHandler: [app.authenticate, app.requireBinding('dbsc')] }, async () => ({ ok: true }))
    }
  })
  const unbound = (await login(app)).accessToken
  const refused = await app.inject({ url: '/bound', headers: { authorization: `Bearer ${unbound}` } })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'AUTH_BINDING_REQUIRED')
  t.equal(refused.headers['www-authenticate'], 'DPoP algs="ES256 RS256 PS256 EdDSA Ed25519"')
  const token = (await dpopLogin(app, await proof(key, { htu: LOGIN_URL }))).json().accessToken
  const call = async (path: string): Promise<Response> => await app.inject({ url: path, headers: { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: `http://localhost${path}`, accessToken: token }) } })
  t.equal((await call('/bound')).statusCode, 200, 'bound to a DPoP key')
  t.equal((await call('/dbsc-only')).json().code, 'AUTH_BINDING_REQUIRED', 'bound, but not by DBSC')
  t.throws(() => app.requireBinding('tpm' as 'dbsc'), TypeError)
  const anonymous = await app.inject({ url: '/bound' })
  t.equal(anonymous.json().code, 'AUTH_TOKEN_MISSING')
})

t.test('server nonces: use_dpop_nonce with a DPoP-Nonce, then the nonce is accepted', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body', dpop: { nonce: { secret: 'a-nonce-secret-of-at-least-32-bytes-long!' } } } })
  const first = await dpopLogin(app, await proof(key, { htu: LOGIN_URL }))
  t.equal(first.statusCode, 401)
  t.equal(first.json().code, 'AUTH_DPOP_NONCE_REQUIRED')
  t.equal(first.headers['www-authenticate'], 'DPoP error="use_dpop_nonce", algs="ES256 RS256 PS256 EdDSA Ed25519"')
  const nonce = first.headers['dpop-nonce'] as string
  t.match(nonce, /^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/)
  t.match(events.onProofRefused, [{ reason: 'nonce' }])
  const wrong = await dpopLogin(app, await proof(key, { htu: LOGIN_URL, nonce: nonce.replace(/.$/, (c) => c === 'A' ? 'B' : 'A') }))
  t.equal(wrong.json().code, 'AUTH_DPOP_NONCE_REQUIRED', 'a forged nonce')
  const second = await dpopLogin(app, await proof(key, { htu: LOGIN_URL, nonce }))
  t.equal(second.statusCode, 200)
  t.equal(second.headers['dpop-nonce'], nonce, 'the current nonce with every DPoP answer')
  const unproved = await dpopLogin(app)
  t.equal(unproved.statusCode, 200, 'nonces are asked of DPoP proofs only')
  t.notOk(unproved.headers['dpop-nonce'])
})

t.test('dpop: false ignores proofs: nothing is bound', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body', dpop: false } })
  const response = await dpopLogin(app, await proof(key, { htu: LOGIN_URL }))
  t.equal(response.json().tokenType, 'Bearer')
  t.equal(claimsOf(response.json().accessToken).cnf, undefined)
  t.equal((await refresh(app, response.json().refreshToken)).statusCode, 200)
  t.equal(events.onSessionBound, undefined)
  const bearer = await app.inject({ url: '/me', headers: { authorization: `DPoP ${response.json().accessToken}` } })
  t.equal(bearer.json().code, 'AUTH_TOKEN_INVALID', 'no DPoP scheme without DPoP')
  t.equal(bearer.headers['www-authenticate'], 'DPoP error="invalid_token"')

  // A token bound while DPoP was on (same signing secret), after it was turned off: no proof can be checked.
  const { app: before } = await buildApp(t, { options: { transport: 'body' } })
  const bound = (await dpopLogin(before, await proof(key, { htu: LOGIN_URL }))).json().accessToken as string
  for (const scheme of ['Bearer', 'DPoP']) {
    const refused = await app.inject({ url: '/me', headers: { authorization: `${scheme} ${bound}`, dpop: await proof(key, { htm: 'GET', htu: 'http://localhost/me', accessToken: bound }) } })
    t.equal(refused.json().code, 'AUTH_DPOP_REQUIRED', `${scheme}: a bound token is refused, never taken as Bearer`)
    t.equal(refused.headers['www-authenticate'], 'DPoP error="invalid_token"')
  }
})

t.test('htu behind a proxy: trustProxy gives the public scheme and host; dpop.origins names them', async (t) => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' }
  const publicHtu = 'https://api.example.com/auth/login'
  const send = async (app: FastifyInstance, htu: string): Promise<number> => (await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password }, headers: { ...forwarded, dpop: await proof(key, { htu }) } })).statusCode

  const { app: trusting } = await buildApp(t, { options: { transport: 'body' }, fastify: { trustProxy: '127.0.0.1' } })
  t.equal(await send(trusting, publicHtu), 200, 'trustProxy: the forwarded scheme and host')
  t.equal(await send(trusting, LOGIN_URL), 401, 'not the hop behind the proxy')
  const { app: direct } = await buildApp(t, { options: { transport: 'body' } })
  t.equal(await send(direct, publicHtu), 401, 'without trustProxy the forwarded headers are not believed')
  const { app: configured } = await buildApp(t, { options: { transport: 'body', dpop: { origins: ['https://api.example.com', 'https://API.example.org:443'] } } })
  t.equal(await send(configured, publicHtu), 200, 'an origin of dpop.origins')
  t.equal(await send(configured, 'https://api.example.org/auth/login'), 200, 'origins are normalized')
  t.equal(await send(configured, LOGIN_URL), 401, 'only those')
})
