/**
 * Proofs of possession (DPoP and DBSC proofs alike): a JWS whose header carries the public key
 * that signed it. Each way a proof can be wrong is a refusal value, never an exception, and only
 * the pinned asymmetric algorithms pass.
 */
import t from 'tap'
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose'
import { MAX_PROOF_LENGTH, verifyProofJwt } from '../src/binding/proof-jwt.js'

const EXPECT = { typ: 'dpop+jwt', algorithms: ['ES256', 'RS256'] }
const es256 = await generateKeyPair('ES256', { extractable: true })
const rs256 = await generateKeyPair('RS256', { extractable: true })
const other = await generateKeyPair('ES256', { extractable: true })
const es256Jwk = await exportJWK(es256.publicKey)

async function sign (header: Record<string, unknown>, payload: unknown, key: CryptoKey = es256.privateKey): Promise<string> {
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(key)
}

const segment = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

t.test('a proof by the key in its header verifies, ES256 and RS256, and names the key by its thumbprint', async (t) => {
  for (const [alg, pair] of [['ES256', es256], ['RS256', rs256]] as const) {
    const jwk = await exportJWK(pair.publicKey)
    const result = await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg, jwk }, { jti: 'x', htm: 'POST' }, pair.privateKey), EXPECT)
    t.ok(result.ok, alg)
    if (!result.ok) continue
    t.same(result.proof.payload, { jti: 'x', htm: 'POST' })
    t.equal(result.proof.header.alg, alg)
    t.equal(result.proof.thumbprint, await calculateJwkThumbprint(jwk, 'sha256'))
    t.match(result.proof.thumbprint, /^[A-Za-z0-9_-]{43}$/)
  }
})

t.test('each way a proof is wrong is its own refusal', async (t) => {
  const good = await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk }, { jti: 'x' })
  const [header, payload, signature] = good.split('.') as [string, string, string]
  const privateJwk: JWK = await exportJWK(es256.privateKey)
  const cases: Array<[string, unknown, string]> = [
    ['not a string', 42, 'malformed'],
    ['two segments', `${header}.${payload}`, 'malformed'],
    ['longer than the bound', `${header}.${'A'.repeat(MAX_PROOF_LENGTH)}.${signature}`, 'malformed'],
    ['header not JSON', `${segment('{nope')}.${payload}.${signature}`, 'malformed'],
    ['payload an array', `${header}.${segment([1])}.${signature}`, 'malformed'],
    ['another typ', await sign({ typ: 'jwt', alg: 'ES256', jwk: es256Jwk }, {}), 'typ'],
    ['no typ', await sign({ alg: 'ES256', jwk: es256Jwk }, {}), 'typ'],
    ['alg none', `${segment({ typ: 'dpop+jwt', alg: 'none', jwk: es256Jwk })}.${payload}.`, 'malformed'],
    ['alg none with a signature', `${segment({ typ: 'dpop+jwt', alg: 'none', jwk: es256Jwk })}.${payload}.${signature}`, 'alg'],
    ['a symmetric alg', `${segment({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${payload}.${signature}`, 'alg'],
    ['an alg not accepted here', `${segment({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: es256Jwk })}.${payload}.${signature}`, 'alg'],
    ['no jwk', await sign({ typ: 'dpop+jwt', alg: 'ES256' }, {}), 'jwk'],
    ['a private jwk', await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: privateJwk }, {}), 'jwk'],
    ['a jwk of another key type', `${segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(rs256.publicKey) })}.${payload}.${signature}`, 'jwk'],
    ['signed by another key', await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk }, { jti: 'x' }, other.privateKey), 'signature'],
    ['payload changed after signing', `${header}.${segment({ jti: 'y' })}.${signature}`, 'signature']
  ]
  for (const [name, jwt, refusal] of cases) {
    t.same(await verifyProofJwt(jwt, EXPECT), { ok: false, refusal }, name)
  }
})

t.test('keys are kept once accepted: the same key verifies again, a cached key never turns a bad proof good', async (t) => {
  const first = await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk }, { n: 1 })
  const again = await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk }, { n: 2 })
  t.ok((await verifyProofJwt(first, EXPECT)).ok)
  t.ok((await verifyProofJwt(again, EXPECT)).ok, 'the kept key')
  t.same(await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk }, { n: 3 }, other.privateKey), EXPECT), { ok: false, refusal: 'signature' }, 'signed by another key under the kept jwk')
  const privateJwk = await exportJWK(es256.privateKey)
  t.same(await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: privateJwk }, { n: 4 }), EXPECT), { ok: false, refusal: 'jwk' }, 'the private form of a kept key is still refused')
  for (let i = 0; i < 1001; i++) {
    const key = await generateKeyPair('ES256', { extractable: true })
    if (!(await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(key.publicKey) }, { i }, key.privateKey), EXPECT)).ok) t.fail(`key ${i}`)
  }
  t.ok((await verifyProofJwt(first, EXPECT)).ok, 'evicted by 1 001 others, imported again')
})
