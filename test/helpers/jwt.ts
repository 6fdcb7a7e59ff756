/**
 * Hand-made compact JWTs for the attack tests: any header, any payload, any signature, signed
 * with node:crypto alone so that no JWT library decides what "valid" means on the attacker's side.
 */
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto'

export type Alg = 'EdDSA' | 'ES256' | 'RS256'

export interface TestKey {
  kid: string
  alg: Alg
  privateKey: KeyObject
  publicKey: KeyObject
}

/** A fresh key pair for alg (RSA 2048 bits, P-256, Ed25519). */
export function generateKey (alg: Alg, kid: string): TestKey {
  const pair = alg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, alg, ...pair }
}

/** The public key as the SPKI PEM an attacker would download and try as an HMAC secret. */
export function publicPem (key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString()
}

export function b64url (value: string | Buffer | object): string {
  const bytes = typeof value === 'string' || Buffer.isBuffer(value) ? Buffer.from(value) : Buffer.from(JSON.stringify(value))
  return bytes.toString('base64url')
}

export interface DecodedJwt {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signature: string
}

export function decodeJwt (token: string): DecodedJwt {
  const [header, payload, signature] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')),
    signature: signature ?? ''
  }
}

/** Signature of `input` for the alg named in the header, with a secret (HS*) or a private key. */
export function signature (alg: string, input: string, key: string | Buffer | KeyObject): string {
  switch (alg) {
    case 'HS256': return createHmac('sha256', key as string | Buffer).update(input).digest('base64url')
    case 'HS512': return createHmac('sha512', key as string | Buffer).update(input).digest('base64url')
    case 'RS256': return cryptoSign('sha256', Buffer.from(input), key as KeyObject).toString('base64url')
    case 'ES256': return cryptoSign('sha256', Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }).toString('base64url')
    case 'EdDSA': return cryptoSign(null, Buffer.from(input), key as KeyObject).toString('base64url')
    default: throw new Error(`test helper cannot sign ${alg}`)
  }
}

/** A compact JWT of exactly this header and payload, signed per `header.alg` with key. */
export function signJwt (header: Record<string, unknown>, payload: Record<string, unknown>, key: string | Buffer | KeyObject): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${signature(String(header.alg), input, key)}`
}

/** A compact JWT with whatever signature part (or none at all when null). */
export function unsignedJwt (header: Record<string, unknown>, payload: Record<string, unknown>, signaturePart: string | null = ''): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return signaturePart === null ? input : `${input}.${signaturePart}`
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** The claims our plugin signs, valid for 15 minutes, overridable (undefined removes a claim). */
export function claims (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds()
  const base: Record<string, unknown> = { sub: 'u-alice', sid: 'forged-session', roles: ['user'], iat: now, exp: now + 900, ...overrides }
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name]
  return base
}

/** The options entry of a key in `accessToken.keys`; publicOnly drops the private key. */
export function keyOption (key: TestKey, publicOnly = false): { kid: string, alg: Alg, publicKey: KeyObject, privateKey?: KeyObject } {
  return { kid: key.kid, alg: key.alg, publicKey: key.publicKey, ...(!publicOnly && { privateKey: key.privateKey }) }
}
