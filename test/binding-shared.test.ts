/**
 * What DBSC and DPoP share: a DBSC-bound session's access tokens say `bnd: 'dbsc'` (and carry no
 * `cnf`: they stay Bearer tokens), `app.requireBinding('dbsc')` accepts them and
 * `requireBinding('dpop')` does not; its refresh without the bound cookie is unbound for
 * onProofRefused (`unproved`); a DPoP proof cannot stand in for the DBSC key; the session list
 * names the kind.
 */
import t from 'tap'
import { buildApp, refreshCookie, ALICE } from './helpers/build-app.js'
import { dbscProof, generateDbscKey, sfParam } from './helpers/dbsc-client.js'
import { proof, testKey } from './helpers/dpop.js'

const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

t.test('a DBSC-bound session: bnd dbsc on its access tokens, requireBinding by kind, refusals reported', async (t) => {
  const { app, events } = await buildApp(t, {
    options: { dbsc: { enabled: true } },
    routes: (app) => {
      app.get('/dbsc-only', { preHandler: [app.authenticate, app.requireBinding('dbsc')] }, async () => ({ ok: true }))
      app.get('/dpop-only', { preHandler: [app.authenticate, app.requireBinding('dpop')] }, async () => ({ ok: true }))
    }
  })
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  const challenge = sfParam(login.headers['secure-session-registration'] as string, 'challenge')!
  const key = await generateDbscKey()
  const registered = await app.inject({ method: 'POST', url: '/auth/dbsc/register', headers: { 'secure-session-response': await dbscProof(key, challenge, { withKey: true }) } })
  t.equal(registered.statusCode, 200)
  t.match(events.onSessionBound, [{ binding: 'dbsc', sessionId: login.json().sessionId }])
  const cookies = { refresh_token: refreshCookie(login)!.value, bound_session: refreshCookie(registered, 'bound_session')!.value }

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies, headers: { origin: 'http://localhost' } })
  t.equal(refreshed.statusCode, 200)
  const accessToken = refreshed.json().accessToken as string
  t.equal(refreshed.json().tokenType, 'Bearer', 'a DBSC-bound access token stays a Bearer token')
  t.match(claimsOf(accessToken), { bnd: 'dbsc' })
  t.equal(claimsOf(accessToken).cnf, undefined)
  const call = async (url: string): Promise<string | undefined> => (await app.inject({ url, headers: { authorization: `Bearer ${accessToken}` } })).json().code
  t.equal(await call('/dbsc-only'), undefined, 'requireBinding(dbsc) passes')
  t.equal(await call('/dpop-only'), 'AUTH_BINDING_REQUIRED')
  const list = await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })
  t.same(list.json().sessions.map((s: { binding: unknown }) => s.binding), ['dbsc'])

  const before = events.onProofRefused?.length ?? 0
  const cookieOnly = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshCookie(refreshed)!.value }, headers: { origin: 'http://localhost' } })
  t.equal(cookieOnly.json().code, 'AUTH_REFRESH_UNBOUND')
  t.match(events.onProofRefused!.slice(before), [{ binding: null, reason: 'unproved', sessionId: login.json().sessionId }])
  const dpopKey = await testKey()
  const withDpop = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshCookie(refreshed)!.value }, headers: { origin: 'http://localhost', dpop: await proof(dpopKey) } })
  t.equal(withDpop.json().code, 'AUTH_REFRESH_UNBOUND', 'a DPoP key is not the DBSC key')
  t.match(events.onProofRefused!.at(-1), { binding: 'dpop', reason: 'key' })
})
