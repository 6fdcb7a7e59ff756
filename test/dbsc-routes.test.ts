/**
 * The DBSC routes through app.inject: every refusal with its status and stable code (never a
 * 5xx), the hooks, the binding a bound cookie can and cannot prove at /auth/refresh, and the
 * offer at login only when DBSC is on and the refresh token travels in a cookie.
 */
import t, { type Test } from 'tap'
import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp, refreshCookie, ALICE, BOB, type BuiltApp } from './helpers/build-app.js'
import { dbscProof, generateDbscKey, sfLeadingString, sfParam, type DbscKey } from './helpers/dbsc-client.js'

const DBSC = { dbsc: { enabled: true } }
const REFRESH_HEADERS = { origin: 'http://localhost' }

interface Offered { refreshToken: string, sessionId: string, challenge: string }

async function offered (app: FastifyInstance, user = ALICE): Promise<Offered> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: user.username, password: user.password } })
  return { refreshToken: refreshCookie(response)!.value, sessionId: response.json().sessionId, challenge: sfParam(response.headers['secure-session-registration'] as string, 'challenge')! }
}

const register = async (app: FastifyInstance, headers: Record<string, string>): Promise<LightMyRequestResponse> => await app.inject({ method: 'POST', url: '/auth/dbsc/register', headers })
const dbscRefresh = async (app: FastifyInstance, headers: Record<string, string>): Promise<LightMyRequestResponse> => await app.inject({ method: 'POST', url: '/auth/dbsc/refresh', headers })

function refused (t: Test, response: LightMyRequestResponse, status: number, code: string, message = code): void {
  t.equal(response.statusCode, status, message)
  t.equal(response.json().code, code, message)
  t.notOk(response.headers['set-cookie'], `${message}: no cookie`)
}

/** A registered session: its refresh token, key and bound cookie value. */
async function registered (app: FastifyInstance, key: DbscKey, user = ALICE): Promise<Offered & { bound: string }> {
  const offer = await offered(app, user)
  const response = await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge, { withKey: true }) })
  if (response.statusCode !== 200) throw new Error(response.body)
  return { ...offer, bound: refreshCookie(response, 'bound_session')!.value }
}

async function challengeFor (app: FastifyInstance, sessionId: string): Promise<string> {
  const response = await dbscRefresh(app, { 'sec-secure-session-id': sessionId })
  return sfLeadingString(response.headers['secure-session-challenge'] as string)!
}

t.test('login offers registration only when DBSC is on and the refresh token is a cookie', async (t) => {
  const off = await buildApp(t)
  const plain = await off.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })
  t.notOk(plain.headers['secure-session-registration'])
  t.equal((await register(off.app, {})).json().code, 'AUTH_ROUTE_NOT_FOUND', 'no DBSC routes')
  const body = await buildApp(t, { options: { ...DBSC, transport: 'body' } })
  t.notOk((await body.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })).headers['secure-session-registration'])
  const on = await buildApp(t, { options: { ...DBSC, routePrefix: '/api/auth', dbsc: { enabled: true, routes: { register: '/device/bind' } } } })
  const offer = await on.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })
  t.match(offer.headers['secure-session-registration'], /^\(ES256 RS256\);path="\/api\/auth\/device\/bind";challenge="/)
})

t.test('registration: every way a proof is refused', async (t) => {
  const built: BuiltApp = await buildApp(t, { options: { ...DBSC, onSessionBound: (event: unknown) => { (built.events.onSessionBound ??= []).push(event) }, onProofRefused: (event: unknown) => { (built.events.onProofRefused ??= []).push(event) } } as object })
  const { app, events } = built
  const key = await generateDbscKey()
  const offer = await offered(app)

  refused(t, await register(app, {}), 400, 'AUTH_DBSC_PROOF_MISSING', 'no proof')
  refused(t, await register(app, { 'secure-session-response': 'not a jwt' }), 400, 'AUTH_DBSC_PROOF_INVALID', 'not a JWS')
  refused(t, await register(app, { 'secure-session-response': '""' }), 400, 'AUTH_DBSC_PROOF_MISSING', 'an empty sf-string')
  refused(t, await register(app, { 'secure-session-response': '"unterminated' }), 400, 'AUTH_DBSC_PROOF_MISSING', 'an unterminated sf-string')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge, { withKey: true, header: { typ: 'dpop+jwt' } }) }), 400, 'AUTH_DBSC_PROOF_INVALID', 'typ')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge) }), 400, 'AUTH_DBSC_PROOF_INVALID', 'no jwk')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge, { withKey: true, header: { alg: 'HS256' } }) }), 400, 'AUTH_DBSC_PROOF_INVALID', 'alg')
  const other = await generateDbscKey()
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge, { withKey: true, header: { jwk: other.publicJwk } }) }), 400, 'AUTH_DBSC_PROOF_INVALID', 'signed by another key than its jwk')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, 'x'.repeat(43), { withKey: true }) }), 403, 'AUTH_DBSC_CHALLENGE_INVALID', 'a challenge never issued')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, 'short', { withKey: true }) }), 403, 'AUTH_DBSC_CHALLENGE_INVALID', 'not a challenge')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge, { withKey: true, payload: { jti: 42 } }) }), 403, 'AUTH_DBSC_CHALLENGE_INVALID', 'a jti that is no string')
  t.same(events.onSessionBound, undefined, 'nothing bound yet')
  t.same(events.onProofRefused!.map((event) => (event as { reason: string }).reason), ['missing', 'malformed', 'missing', 'missing', 'typ', 'jwk', 'alg', 'signature', 'challenge', 'challenge', 'challenge'])

  // The quoted sf-string form of the draft, under Chromium's older header name.
  const ok = await register(app, { 'sec-session-response': `"${await dbscProof(key, offer.challenge, { withKey: true })}";x=1` })
  t.equal(ok.statusCode, 200)
  t.match(events.onSessionBound, [{ userId: ALICE.id, sessionId: offer.sessionId, binding: 'dbsc', ip: '127.0.0.1' }])
  refused(t, await register(app, { 'secure-session-response': await dbscProof(key, offer.challenge, { withKey: true }) }), 403, 'AUTH_DBSC_CHALLENGE_INVALID', 'a challenge already used')
})

t.test('registration: RS256, a session gone, a session bound to another key', async (t) => {
  const { app } = await buildApp(t, { options: DBSC })
  const rsa = await generateDbscKey('RS256')
  const bound = await registered(app, rsa)
  t.equal((await dbscRefresh(app, { 'sec-secure-session-id': bound.sessionId, 'secure-session-response': await dbscProof(rsa, await challengeFor(app, bound.sessionId)) })).statusCode, 200, 'an RS256 key works end to end')

  const gone = await offered(app)
  await app.refreshSessions.revokeSession(ALICE.id, gone.sessionId)
  refused(t, await register(app, { 'secure-session-response': await dbscProof(rsa, gone.challenge, { withKey: true }) }), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'the session was revoked')

  const taken = await offered(app)
  t.equal(await app.refreshSessions.sessions.bind(ALICE.id, taken.sessionId, { kind: 'dpop', thumbprint: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }), 'bound')
  refused(t, await register(app, { 'secure-session-response': await dbscProof(rsa, taken.challenge, { withKey: true }) }), 409, 'AUTH_DBSC_ALREADY_BOUND', 'already bound (by DPoP)')
})

t.test('DBSC refresh: every way it is refused', async (t) => {
  const { app } = await buildApp(t, { options: DBSC })
  const key = await generateDbscKey()
  const device = await registered(app, key)
  const id = { 'sec-secure-session-id': device.sessionId }

  refused(t, await dbscRefresh(app, {}), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'no session id')
  refused(t, await dbscRefresh(app, { 'sec-secure-session-id': 'x'.repeat(65) }), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'too long an id')
  refused(t, await dbscRefresh(app, { 'sec-secure-session-id': '"a b"' }), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'not an id')
  refused(t, await dbscRefresh(app, { 'sec-secure-session-id': 'A'.repeat(22) }), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'an unknown id')
  const unregistered = await offered(app, BOB)
  refused(t, await dbscRefresh(app, { 'sec-secure-session-id': unregistered.sessionId }), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'a session that never registered')
  t.equal((await dbscRefresh(app, { 'sec-secure-session-id': `"${device.sessionId}"` })).statusCode, 403, 'the quoted form names the session too')

  refused(t, await dbscRefresh(app, { ...id, 'secure-session-response': 'a.b' }), 400, 'AUTH_DBSC_PROOF_INVALID', 'not a JWS')
  refused(t, await dbscRefresh(app, { ...id, 'secure-session-response': await dbscProof(key, await challengeFor(app, device.sessionId), { header: { typ: 'jwt' } }) }), 400, 'AUTH_DBSC_PROOF_INVALID', 'typ')
  refused(t, await dbscRefresh(app, { ...id, 'secure-session-response': await dbscProof(await generateDbscKey('RS256'), await challengeFor(app, device.sessionId)) }), 401, 'AUTH_DBSC_KEY_MISMATCH', 'RS256 by another key for an ES256 session')
  refused(t, await dbscRefresh(app, { ...id, 'secure-session-response': await dbscProof(key, device.challenge) }), 403, 'AUTH_DBSC_CHALLENGE_INVALID', 'the (used) registration challenge')
  const bobKey = await generateDbscKey()
  const bob = await registered(app, bobKey, BOB)
  refused(t, await dbscRefresh(app, { ...id, 'secure-session-response': await dbscProof(key, await challengeFor(app, bob.sessionId)) }), 403, 'AUTH_DBSC_CHALLENGE_INVALID', 'a challenge of another session')

  const challenge = await challengeFor(app, device.sessionId)
  await app.refreshSessions.revokeSession(ALICE.id, device.sessionId)
  refused(t, await dbscRefresh(app, { ...id, 'secure-session-response': await dbscProof(key, challenge) }), 401, 'AUTH_DBSC_SESSION_UNKNOWN', 'a revoked session gets no bound cookie')
})

t.test('/auth/refresh: a bound cookie proves its key for its own session only', async (t) => {
  const { app } = await buildApp(t, { options: DBSC })
  const key = await generateDbscKey()
  const device = await registered(app, key)
  const refresh = async (refreshToken: string, bound?: string): Promise<LightMyRequestResponse> => await app.inject({ method: 'POST', url: '/auth/refresh', headers: REFRESH_HEADERS, cookies: { refresh_token: refreshToken, ...(bound !== undefined && { bound_session: bound }) } })

  const [sid, thumbprint, expires, mac] = device.bound.split('.')
  const forged = `${sid}.${thumbprint}.${Number(expires) + 3600}.${mac}`
  refused(t, await refresh(device.refreshToken, forged), 401, 'AUTH_REFRESH_UNBOUND', 'a later expiry breaks the MAC')
  refused(t, await refresh(device.refreshToken, `${sid}.${thumbprint}.${expires}.${'A'.repeat(43)}`), 401, 'AUTH_REFRESH_UNBOUND', 'a forged MAC')
  refused(t, await refresh(device.refreshToken, 'garbage'), 401, 'AUTH_REFRESH_UNBOUND', 'garbage')

  // Another session's bound cookie proves nothing for this one, bound or not: an unbound
  // session must not become bound to a key its own device never showed.
  const other = await registered(app, await generateDbscKey(), BOB)
  refused(t, await refresh(device.refreshToken, other.bound), 401, 'AUTH_REFRESH_UNBOUND', 'bound session, another session\'s cookie')
  const unbound = await offered(app)
  const rotated = await refresh(unbound.refreshToken, device.bound)
  t.equal(rotated.statusCode, 200, 'an unbound session refreshes as before')
  t.equal((await app.refreshSessions.listSessions(ALICE.id)).find((s) => s.id === unbound.sessionId)?.binding, null, 'and stays unbound')

  const ok = await refresh(device.refreshToken, device.bound)
  t.equal(ok.statusCode, 200, 'its own bound cookie: refreshed')
})

t.test('any header value at either route: a 4xx with a code, never a 5xx', async (t) => {
  const { app } = await buildApp(t, { options: DBSC })
  const key = await generateDbscKey()
  const device = await registered(app, key)
  const jws = (header: unknown, payload: unknown): string => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${'A'.repeat(86)}`
  await fc.assert(fc.asyncProperty(
    fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 100 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      fc.tuple(fc.jsonValue(), fc.jsonValue()).map(([header, payload]) => jws(header, payload)),
      fc.record({ typ: fc.constantFrom('dbsc+jwt', 'jwt'), alg: fc.constantFrom('ES256', 'RS256', 'none', 'HS256'), jwk: fc.oneof(fc.constant(key.publicJwk), fc.jsonValue()) }).map((header) => jws(header, { jti: 'x'.repeat(43) })),
      fc.constant('x'.repeat(9000))
    ),
    fc.constantFrom(device.sessionId, 'A'.repeat(22), '', '"x"'),
    async (proof, sessionId) => {
      for (const url of ['/auth/dbsc/register', '/auth/dbsc/refresh']) {
        const response = await app.inject({ method: 'POST', url, headers: { 'secure-session-response': proof, 'sec-secure-session-id': sessionId } })
        if (response.statusCode < 400 || response.statusCode >= 500 || typeof response.json().code !== 'string') throw new Error(`${url} ${JSON.stringify(proof)}: ${response.statusCode} ${response.body}`)
      }
    }
  ), { numRuns: 150 })
  t.pass('150 runs, both routes')
})
