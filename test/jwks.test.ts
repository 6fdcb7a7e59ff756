/**
 * GET /.well-known/jwks.json: public keys only, in the shape every JOSE library reads, and enough
 * for a separate resource server (jose here) to verify our access tokens with nothing else.
 */
import t from 'tap'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import { buildApp, login } from './helpers/build-app.js'
import { generateKey, keyOption, type TestKey } from './helpers/jwt.js'

const PRIVATE_PARTS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

const ed = generateKey('EdDSA', 'ed-1')
const ec = generateKey('ES256', 'ec-1')
const rsa = generateKey('RS256', 'rsa-1')
const publicOf = (key: TestKey): Record<string, unknown> => key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>

t.test('every alg: kty and public members, kid, alg, use, and no private part', async (t) => {
  // The EdDSA key is given as private key for both fields: its public half, never d, is published.
  const keys = [{ kid: ed.kid, alg: ed.alg, privateKey: ed.privateKey, publicKey: ed.privateKey }, keyOption(ec), keyOption(rsa, true)]
  const { app } = await buildApp(t, { options: { accessToken: { keys } } })
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  t.equal(response.headers['cache-control'], 'public, max-age=300')
  const body = response.json() as { keys: Array<Record<string, unknown>> }
  t.strictSame(Object.keys(body), ['keys'])
  t.strictSame(body.keys, [
    { kty: 'OKP', crv: 'Ed25519', x: publicOf(ed).x, kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
    { kty: 'EC', crv: 'P-256', x: publicOf(ec).x, y: publicOf(ec).y, kid: 'ec-1', alg: 'ES256', use: 'sig' },
    { kty: 'RSA', n: publicOf(rsa).n, e: 'AQAB', kid: 'rsa-1', alg: 'RS256', use: 'sig' }
  ], 'exact members (order of members aside)')
  for (const key of body.keys) {
    for (const part of PRIVATE_PARTS) t.notOk(part in key, `${String(key.kid)} has no ${part}`)
  }
  t.notMatch(response.body, /PRIVATE|"d"/, 'nothing private anywhere in the body')
})

t.test('HS256: 404 AUTH_JWKS_NOT_FOUND, the shared secret is never published', async (t) => {
  const { app } = await buildApp(t)
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 404)
  t.strictSame(response.json(), { statusCode: 404, code: 'AUTH_JWKS_NOT_FOUND', error: 'Not Found', message: 'No public keys: access tokens are signed with a shared secret' })
})

t.test('a separate resource server verifies our access tokens with only the JWKS JSON (jose)', async (t) => {
  const keys = [keyOption(ed), keyOption(ec), keyOption(rsa)]
  const accessToken = { issuer: 'tasks-api', audience: 'tasks-web' }
  for (const signer of [ed, ec, rsa]) {
    const { app } = await buildApp(t, { options: { accessToken: { ...accessToken, keys, signingKid: signer.kid } } })
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet
    const { accessToken: token, sessionId } = await login(app)

    // The resource server: JSON over the wire, nothing shared with the issuer but these bytes.
    const resourceServer = createLocalJWKSet(JSON.parse(JSON.stringify(jwks)))
    const { payload, protectedHeader } = await jwtVerify(token, resourceServer, { issuer: 'tasks-api', audience: 'tasks-web', algorithms: ['EdDSA', 'ES256', 'RS256'] })
    t.strictSame(protectedHeader, { alg: signer.alg, typ: 'JWT', kid: signer.kid }, `${signer.alg} header`)
    t.match(payload, { sub: 'u-alice', sid: sessionId, roles: ['user'], tier: 'gold', iss: 'tasks-api', aud: 'tasks-web' }, `${signer.alg} claims`)

    const [header, , signature] = token.split('.') as [string, string, string]
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...payload, roles: ['admin'] })).toString('base64url')}.${signature}`
    await t.rejects(jwtVerify(forged, resourceServer), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, `${signer.alg}: a tampered token fails there too`)
  }
})

t.test('routes.jwks moves or removes the route', async (t) => {
  const keys = [keyOption(ed)]
  const moved = await buildApp(t, { options: { accessToken: { keys }, routes: { jwks: '/keys.json' } } })
  t.equal((await moved.app.inject({ method: 'GET', url: '/keys.json' })).statusCode, 200)
  t.equal((await moved.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).statusCode, 404)
  const off = await buildApp(t, { options: { accessToken: { keys }, routes: { jwks: false } } })
  const response = await off.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 404)
  t.strictSame(response.json(), { statusCode: 404, error: 'Not Found', message: 'Route GET:/.well-known/jwks.json not found' }, "Fastify's own 404: no such route")
})
