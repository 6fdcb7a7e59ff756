/**
 * Proofs of possession (DPoP and DBSC proofs alike): a JWS whose header carries the public key
 * that signed it. Each way a proof can be wrong is a refusal value, never an exception, and only
 * the pinned asymmetric algorithms pass.
 */
import t from 'tap'
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose'
import { generateKeyPairSync, sign as signWithNode } from 'node:crypto'
import { MAX_PROOF_LENGTH, verifyProofJwt } from '../src/binding/proof-jwt.js'

const EXPECT = { typ: 'dpop+jwt', algorithms: ['ES256', 'RS256'] }
const es256 = await generateKeyPair('ES256', { extractable: true })
const rs256 = await generateKeyPair('RS256', { extractable: true })
const other = await generateKeyPair('ES256', { extractable: true })
const es256Jwk = await exportJWK(es256.publicKey)

async function sign (header: Record<string, unknown>, payload: unknown, key: CryptoKey = es256.privateKey): Promise<string> {
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(key)
}

/** jose refuses to sign a `crit` it does not know unless told it does. */
async function signCritical (header: Record<string, unknown>): Promise<string> {
  return await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader(header as never).sign(es256.privateKey, { crit: { exp: true } })
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

t.test('every accepted algorithm verifies with node:crypto: PS256, EdDSA, Ed25519, ES384 and ES512 too', async (t) => {
  const all = { typ: 'dpop+jwt', algorithms: ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'Ed25519'] }
  for (const [alg, keyAlg] of [['PS256', 'PS256'], ['EdDSA', 'Ed25519'], ['Ed25519', 'Ed25519'], ['ES384', 'ES384'], ['ES512', 'ES512']] as const) {
    const pair = await generateKeyPair(keyAlg, { extractable: true })
    const jwk = await exportJWK(pair.publicKey)
    const result = await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg, jwk }, { jti: alg }, pair.privateKey), all)
    t.ok(result.ok, alg)
    if (result.ok) t.equal(result.proof.thumbprint, await calculateJwkThumbprint(jwk, 'sha256'), `${alg} thumbprint`)
    const other = await generateKeyPair(keyAlg, { extractable: true })
    t.same(await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg, jwk }, { jti: alg }, other.privateKey), all), { ok: false, refusal: 'signature' }, `${alg} by another key`)
  }
})

t.test('what a JOSE library refuses of an embedded key is refused here too', async (t) => {
  // jose will not make a key this small: node:crypto does, and signs with it.
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const rsa1024Input = `${segment({ typ: 'dpop+jwt', alg: 'RS256', jwk: rsa1024.publicKey.export({ format: 'jwk' }) })}.${segment({})}`
  const rsa1024Proof = `${rsa1024Input}.${signWithNode('sha256', Buffer.from(rsa1024Input), rsa1024.privateKey).toString('base64url')}`
  const good = await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk }, { jti: 'x' })
  const [header, payload, signature] = good.split('.') as [string, string, string]
  const derSignature = (): string => {
    // The same r || s as ASN.1 DER: a valid signature in the wrong encoding for JWS.
    const raw = Buffer.from(signature, 'base64url')
    const int = (bytes: Buffer): Buffer => {
      let b = bytes
      while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1)
      return b[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b
    }
    const r = int(raw.subarray(0, 32))
    const s = int(raw.subarray(32))
    const body = Buffer.concat([Buffer.from([2, r.length]), r, Buffer.from([2, s.length]), s])
    return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64url')
  }
  const offCurve = { ...es256Jwk, y: Buffer.alloc(32, 7).toString('base64url') }
  const cases: Array<[string, string, string]> = [
    ['jwk use enc', await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...es256Jwk, use: 'enc' } }, {}), 'jwk'],
    ['jwk alg of another algorithm', await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...es256Jwk, alg: 'ES384' } }, {}), 'jwk'],
    ['jwk key_ops without verify', await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...es256Jwk, key_ops: ['encrypt'] } }, {}), 'jwk'],
    ['an RSA key under 2048 bits', rsa1024Proof, 'jwk'],
    ['a crit extension', await signCritical({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256Jwk, crit: ['exp'], exp: 1 }), 'jwk'],
    ['a point off the curve', `${segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: offCurve })}.${payload}.${signature}`, 'jwk'],
    ['an ES256 signature in DER', `${header}.${payload}.${derSignature()}`, 'signature']
  ]
  for (const [name, jwt, refusal] of cases) t.same(await verifyProofJwt(jwt, EXPECT), { ok: false, refusal }, name)
  t.same(await verifyProofJwt(await sign({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...es256Jwk, use: 'sig', alg: 'ES256', key_ops: ['verify'], ext: true } }, {}), EXPECT).then((r) => r.ok), true, 'use sig, its own alg, key_ops verify: accepted')
})
