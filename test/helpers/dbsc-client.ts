/**
 * A software DBSC client, as a browser would be one: a WebCrypto ES256 key (private part
 * non-extractable), proofs shaped as Chromium makes them (`typ` dbsc+jwt; the public `jwk` in the
 * registration proof's header only; payload `{ jti }`), and a small cookie jar.
 */
import { webcrypto } from 'node:crypto'

const { subtle } = webcrypto

export interface DbscKey {
  alg: 'ES256' | 'RS256'
  privateKey: webcrypto.CryptoKey
  publicJwk: webcrypto.JsonWebKey
}

const ALGORITHMS = {
  ES256: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } }
} as const

export async function generateDbscKey (alg: DbscKey['alg'] = 'ES256'): Promise<DbscKey> {
  const pair = await subtle.generateKey(ALGORITHMS[alg].generate, false, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const { kty, crv, x, y, n, e } = await subtle.exportKey('jwk', pair.publicKey)
  return { alg, privateKey: pair.privateKey, publicJwk: alg === 'ES256' ? { kty, crv, x, y } : { kty, n, e } }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A DBSC proof of `challenge`; `withKey` for registration (the header carries the public key). */
export async function dbscProof (key: DbscKey, challenge: string, { withKey = false, header = {} as Record<string, unknown>, payload = {} as Record<string, unknown> } = {}): Promise<string> {
  const signingInput = `${b64({ alg: key.alg, typ: 'dbsc+jwt', ...(withKey && { jwk: key.publicJwk }), ...header })}.${b64({ jti: challenge, ...payload })}`
  // WebCrypto's ECDSA signature is r || s already: what JWS ES256 wants.
  const signature = await subtle.sign(ALGORITHMS[key.alg].sign, key.privateKey, Buffer.from(signingInput))
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`
}

/** The value of an sf-string parameter (`name="value"`) in a structured header. */
export function sfParam (header: string, name: string): string | null {
  return new RegExp(`;${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(header)?.[1] ?? null
}

/** The leading sf-string of a structured header (`"value";...`). */
export function sfLeadingString (header: string): string | null {
  return /^"((?:[^"\\]|\\.)*)"/.exec(header)?.[1] ?? null
}

/** Name -> value of the cookies a response sets (Max-Age=0 removes). */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  take (response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at)
      if (/;\s*Max-Age=0(;|$)/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, pair!.slice(at + 1))
    }
  }

  header (names?: string[]): string {
    return [...this.cookies].filter(([name]) => names === undefined || names.includes(name)).map(([name, value]) => `${name}=${value}`).join('; ')
  }

  copy (): CookieJar {
    const jar = new CookieJar()
    for (const [name, value] of this.cookies) jar.cookies.set(name, value)
    return jar
  }
}
