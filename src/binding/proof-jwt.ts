/**
 * Proofs of possession: a compact JWS signed by a device's private key, the public key in its own
 * header (`jwk`). DPoP proofs (typ `dpop+jwt`) and DBSC registration and refresh proofs (typ
 * `dbsc+jwt`) are both this; what each claims means is checked by its own module. The key a proof
 * shows is named by its RFC 7638 SHA-256 thumbprint, which is what a session is bound to.
 *
 * jose does the signature, the key import and the thumbprint; this file pins what it may accept.
 */
import { calculateJwkThumbprint, compactVerify, EmbeddedJWK, importJWK, type JWK } from 'jose'

/** Larger is not a proof: it bounds the work a hostile header can cause. */
export const MAX_PROOF_LENGTH = 8192

export type ProofRefusal =
  /** Not a compact JWS, too long, or header or payload not JSON objects. */
  | 'malformed'
  /** `typ` is not the one expected. */
  | 'typ'
  /** `alg` is not one of the accepted asymmetric algorithms. */
  | 'alg'
  /** No public `jwk` in the header, or one that does not match `alg`, or a private one. */
  | 'jwk'
  /** The signature does not verify with the header's key. */
  | 'signature'

export interface VerifiedProof {
  header: { typ: string, alg: string, jwk: JWK }
  payload: Record<string, unknown>
  /** RFC 7638 SHA-256 thumbprint of the header's `jwk`, base64url. */
  thumbprint: string
}

export type ProofResult = { ok: true, proof: VerifiedProof } | { ok: false, refusal: ProofRefusal }

export interface ProofExpectations {
  typ: string
  /** Asymmetric algorithms only: a proof signed with a shared secret proves nothing about a device. */
  algorithms: readonly string[]
  /**
   * The key the proof must be signed with, when the verifier already holds it (a DBSC refresh
   * proof carries none): a `jwk` in the header is then neither needed nor trusted.
   */
  key?: JWK
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

function jsonObject (segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

/**
 * A device signs every proof with the same key: importing it costs more than verifying with it
 * (measured, WebCrypto in Node 20: ~120 µs of ~450), so the keys EmbeddedJWK accepted are kept,
 * by algorithm and the header's exact `jwk` text. Only accepted keys enter: the same text with
 * the same alg passes the same checks again. Least recently used leave first.
 */
const KEY_CACHE_SIZE = 1000
const keys = new Map<string, CryptoKey>()

async function embeddedKey (...args: Parameters<typeof EmbeddedJWK>): Promise<CryptoKey> {
  const [header] = args
  const id = `${String(header?.alg)}\0${JSON.stringify(header?.jwk)}`
  const hit = keys.get(id)
  if (hit !== undefined) {
    keys.delete(id)
    keys.set(id, hit)
    return hit
  }
  const key = await EmbeddedJWK(...args)
  if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value!)
  keys.set(id, key)
  return key
}

/** Never throws: every way a proof can be wrong is a refusal value. */
export async function verifyProofJwt (jwt: unknown, expect: ProofExpectations): Promise<ProofResult> {
  if (typeof jwt !== 'string' || jwt.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(jwt)) return { ok: false, refusal: 'malformed' }
  const [headerPart, payloadPart] = jwt.split('.') as [string, string, string]
  const header = jsonObject(headerPart)
  const payload = jsonObject(payloadPart)
  if (header === null || payload === null) return { ok: false, refusal: 'malformed' }
  if (header.typ !== expect.typ) return { ok: false, refusal: 'typ' }
  if (typeof header.alg !== 'string' || !expect.algorithms.includes(header.alg)) return { ok: false, refusal: 'alg' }
  const jwk = expect.key ?? header.jwk
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return { ok: false, refusal: 'jwk' }
  try {
    const key = expect.key === undefined ? embeddedKey : await importJWK(expect.key, header.alg)
    await compactVerify(jwt, key, { algorithms: [...expect.algorithms] })
  } catch (error) {
    const code = (error as { code?: string }).code
    return { ok: false, refusal: code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'signature' : 'jwk' }
  }
  const publicJwk = jwk as JWK
  return {
    ok: true,
    proof: { header: { typ: header.typ, alg: header.alg, jwk: publicJwk }, payload, thumbprint: await calculateJwkThumbprint(publicJwk, 'sha256') }
  }
}
