/**
 * DPoP (RFC 9449 section 4.3): each check a proof must pass, one refusal each, through the
 * refresh route and authenticate. A refused proof is 401 AUTH_DPOP_PROOF_INVALID with the RFC's
 * challenge, names its reason to onProofRefused, and changes nothing: the same refresh token
 * still works afterwards with a good proof.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ALICE, buildApp, login } from './helpers/build-app.js'
import { dpopPackageKey, dpopPackageProof, proof, testKey, type TestKey } from './helpers/dpop.js'

const CHALLENGE = 'DPoP error="invalid_dpop_proof", algs="ES256 RS256 PS256 EdDSA Ed25519"'
const REFRESH_URL = 'http://localhost/auth/refresh'
const key = await testKey()
const other = await testKey()
const hs256Secret = new TextEncoder().encode('a-shared-secret-proves-nothing-about-a-device')

async function refresh (app: FastifyInstance, refreshToken: string, dpop?: string, url = '/auth/refresh'): Promise<import('light-my-request').Response> {
  return await app.inject({ method: 'POST', url, payload: { refreshToken }, headers: dpop === undefined ? {} : { dpop } })
}

t.test('every RFC 9449 proof check refuses on its own, changing nothing', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body' } })
  const { refreshToken } = await login(app)
  const now = Math.floor(Date.now() / 1000)
  const replayed = await proof(key)
  t.equal((await refresh(app, (await login(app)).refreshToken, replayed)).statusCode, 200, 'the proof once')

  const cases: Array<[string, string, string]> = [
    ['typ', 'typ is not dpop+jwt', await proof(key, {}, { header: { typ: 'jwt' } })],
    ['alg', 'a symmetric alg (HS256)', await proof(key, {}, { header: { alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, signWith: hs256Secret as unknown as CryptoKey })],
    ['alg', 'alg none', `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })).toString('base64url')}.${Buffer.from(JSON.stringify({ htm: 'POST', htu: REFRESH_URL, iat: now, jti: 'n' })).toString('base64url')}.AAAA`],
    ['jwk', 'no jwk in the header', await proof(key, {}, { header: { jwk: undefined } })],
    ['jwk', 'a private jwk in the header', await proof(key, {}, { header: { jwk: { ...key.jwk, d: 'AAAA' } } })],
    ['signature', 'signed by another key than its jwk', await proof(key, {}, { signWith: other.privateKey })],
    ['htm', 'htm GET for a POST', await proof(key, { htm: 'GET' })],
    ['htu', 'htu of another path', await proof(key, { htu: 'http://localhost/auth/login' })],
    ['htu', 'htu of another host', await proof(key, { htu: 'http://evil.example/auth/refresh' })],
    ['htu', 'htu of another scheme', await proof(key, { htu: 'https://localhost/auth/refresh' })],
    ['iat', 'iat 2 minutes old', await proof(key, { iat: now - 120 })],
    ['iat', 'iat 2 minutes ahead', await proof(key, { iat: now + 120 })],
    ['iat', 'no iat', await proof(key, {}, { omit: ['iat'] })],
    ['malformed', 'no jti', await proof(key, {}, { omit: ['jti'] })],
    ['replay', 'a jti already used', replayed],
    ['malformed', 'not a JWS', 'not-a-proof']
  ]
  for (const [reason, label, dpop] of cases) {
    const before = events.onProofRefused?.length ?? 0
    const response = await refresh(app, refreshToken, dpop)
    t.equal(response.statusCode, 401, label)
    t.equal(response.json().code, 'AUTH_DPOP_PROOF_INVALID', label)
    t.equal(response.headers['www-authenticate'], CHALLENGE, label)
    t.notOk(response.headers['dpop-nonce'], 'no nonce without the nonce option')
    t.same(events.onProofRefused!.slice(before), [{ binding: 'dpop', reason, ip: '127.0.0.1', userAgent: 'lightMyRequest' }], `${label}: onProofRefused says ${reason}`)
  }
  const two = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken }, headers: { dpop: [await proof(key), await proof(key)] } })
  t.equal(two.json().code, 'AUTH_DPOP_PROOF_INVALID', 'two DPoP headers are no proof')

  const good = await refresh(app, refreshToken, await proof(key, { htu: `${REFRESH_URL}?q=1#frag` }))
  t.equal(good.statusCode, 200, 'nothing was spent: the same token refreshes with a good proof (htu query and fragment ignored)')
  t.equal(good.json().tokenType, 'DPoP')
})

t.test('htu normalization: case, default port and dot segments are the same resource', async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'body' } })
  for (const htu of ['HTTP://LOCALHOST/auth/refresh', 'http://localhost:80/auth/refresh', 'http://localhost/auth/x/../refresh']) {
    const { refreshToken } = await login(app)
    t.equal((await refresh(app, refreshToken, await proof(key, { htu }))).statusCode, 200, htu)
  }
  const { refreshToken } = await login(app)
  t.equal((await refresh(app, refreshToken, await proof(key, { htu: 'http://localhost/auth/REFRESH' }))).statusCode, 401, 'the path is case-sensitive')
})

t.test('proofs made by the dpop package, ES256, RS256, PS256 and Ed25519, bind and refresh', async (t) => {
  const { app } = await buildApp(t, { options: { transport: 'body' } })
  for (const alg of ['ES256', 'RS256', 'PS256', 'Ed25519'] as const) {
    const { pair, thumbprint } = await dpopPackageKey(alg)
    const first = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password }, headers: { dpop: await dpopPackageProof(pair, 'http://localhost/auth/login', 'POST') } })
    t.equal(first.statusCode, 200, alg)
    const claims = JSON.parse(Buffer.from(first.json().accessToken.split('.')[1], 'base64url').toString())
    t.same(claims.cnf, { jkt: thumbprint }, `${alg}: the access token is bound to the key`)
    const next = await refresh(app, first.json().refreshToken, await dpopPackageProof(pair, REFRESH_URL, 'POST'))
    t.equal(next.statusCode, 200, `${alg}: refresh with the key`)
    const me = await app.inject({ url: '/me', headers: { authorization: `DPoP ${next.json().accessToken}`, dpop: await dpopPackageProof(pair, 'http://localhost/me', 'GET', { accessToken: next.json().accessToken }) } })
    t.equal(me.statusCode, 200, `${alg}: authenticate with a proof including ath`)
  }
})

t.test('authenticate: ath, the token\'s key, the scheme', async (t) => {
  const { app, events } = await buildApp(t, { options: { transport: 'body' } })
  const bound = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password }, headers: { dpop: await proof(key, { htu: 'http://localhost/auth/login' }) } })
  const accessToken = bound.json().accessToken as string
  const sid = bound.json().sessionId as string
  const me = async (authorization: string, dpop?: string): Promise<import('light-my-request').Response> =>
    await app.inject({ url: '/me?x=1', headers: { authorization, ...(dpop !== undefined && { dpop }) } })
  const at = (k: TestKey, claims = {}): Promise<string> => proof(k, { htm: 'GET', htu: 'http://localhost/me', accessToken, ...claims })

  const ok = await me(`DPoP ${accessToken}`, await at(key))
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { id: ALICE.id, sessionId: sid, roles: ALICE.roles, claims: ALICE.claims, authTime: JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).auth_time, amr: ['pwd'] })

  const cases: Array<[string, string, () => Promise<import('light-my-request').Response>, string, string]> = [
    ['no ath', 'ath', async () => await me(`DPoP ${accessToken}`, await proof(key, { htm: 'GET', htu: 'http://localhost/me' })), 'AUTH_DPOP_PROOF_INVALID', CHALLENGE],
    ['ath of another token', 'ath', async () => await me(`DPoP ${accessToken}`, await at(key, { accessToken: 'x' + accessToken })), 'AUTH_DPOP_PROOF_INVALID', CHALLENGE],
    ['a proof by another key than cnf.jkt', 'key', async () => await me(`DPoP ${accessToken}`, await at(other)), 'AUTH_DPOP_PROOF_INVALID', CHALLENGE],
    ['htm POST for a GET', 'htm', async () => await me(`DPoP ${accessToken}`, await at(key, { htm: 'POST' })), 'AUTH_DPOP_PROOF_INVALID', CHALLENGE],
    ['no proof', 'malformed', async () => await me(`DPoP ${accessToken}`), 'AUTH_DPOP_PROOF_INVALID', CHALLENGE],
    ['the bound token sent as Bearer', 'unproved', async () => await me(`Bearer ${accessToken}`, await at(key)), 'AUTH_DPOP_REQUIRED', 'DPoP error="invalid_token", algs="ES256 RS256 PS256 EdDSA Ed25519"']
  ]
  for (const [label, reason, send, code, challenge] of cases) {
    const before = events.onProofRefused?.length ?? 0
    const response = await send()
    t.equal(events.onProofRefused!.length, before + 1, `${label}: one onProofRefused`)
    const refused = events.onProofRefused!.at(-1)
    t.equal(response.statusCode, 401, label)
    t.equal(response.json().code, code, label)
    t.equal(response.headers['www-authenticate'], challenge, label)
    t.match(refused, { binding: reason === 'unproved' ? null : 'dpop', reason }, label)
  }
  t.match(events.onProofRefused!.at(-1), { userId: ALICE.id, sessionId: sid }, 'the token named its session')

  const unbound = (await login(app)).accessToken
  const dpopScheme = await me(`DPoP ${unbound}`, await proof(key, { htm: 'GET', htu: 'http://localhost/me', accessToken: unbound }))
  t.equal(dpopScheme.statusCode, 401)
  t.equal(dpopScheme.json().code, 'AUTH_TOKEN_INVALID', 'the DPoP scheme with a token bound to no key')
  t.equal((await me(`Bearer ${unbound}`)).statusCode, 200, 'an unbound token stays a Bearer token')
})
