/**
 * Proofs of possession: a compact JWS signed by a device's private key, the public key in its own
 * header (`jwk`). DPoP proofs (typ `dpop+jwt`) and DBSC registration and refresh proofs (typ
 * `dbsc+jwt`) are both this; what each claims means is checked by its own module. The key a proof
 * shows is named by its RFC 7638 SHA-256 thumbprint, which is what a session is bound to.
 *
 * Verified with node:crypto directly (a one-shot `verify`, no WebCrypto promise and key import per
 * proof): measured about 80 µs per ES256 proof against about 187 through jose. So every check a
 * JOSE library would make on an embedded key is made here: the algorithm pinned, the key type and
 * curve of that algorithm, `use` and `alg` and `key_ops` of the jwk when present, no private
 * member, RSA keys of 2048 bits or more, no `crit` extension, the signature in the algorithm's own
 * encoding.
 */
import { constants, createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto'
import { sha256 } from '../sha256.js'

/** A JSON Web Key as a proof's header carries it (RFC 7517): named members, all optional here. */
export type JWK = JsonWebKey & { alg?: string, use?: string, key_ops?: string[], ext?: boolean, kid?: string }

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

/** What each accepted algorithm needs of its key, and how its signature is checked. */
interface Algorithm {
  kty: 'EC' | 'RSA' | 'OKP'
  /** EC and OKP: the one curve, and the length of its coordinates in base64url. */
  crv?: string
  coordinateLength?: number
  /** node:crypto's digest (null: EdDSA hashes by itself). */
  hash: string | null
  /** ES*: the raw r || s length. */
  signatureBytes?: number
  /** PS*: the salt is the hash's length (RFC 7518 section 3.5). */
  pssSalt?: number
}

const ALGORITHMS: Record<string, Algorithm> = {
  ES256: { kty: 'EC', crv: 'P-256', coordinateLength: 43, hash: 'sha256', signatureBytes: 64 },
  ES384: { kty: 'EC', crv: 'P-384', coordinateLength: 64, hash: 'sha384', signatureBytes: 96 },
  ES512: { kty: 'EC', crv: 'P-521', coordinateLength: 88, hash: 'sha512', signatureBytes: 132 },
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pssSalt: 32 },
  PS384: { kty: 'RSA', hash: 'sha384', pssSalt: 48 },
  PS512: { kty: 'RSA', hash: 'sha512', pssSalt: 64 },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', coordinateLength: 43, hash: null },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', coordinateLength: 43, hash: null }
}

/** Members only a private (or secret) key has: such a jwk in a proof is refused, never used. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

const MIN_RSA_BITS = 2048
const BASE64URL = /^[A-Za-z0-9_-]+$/
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

function jsonObject (segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)
const isBase64url = (value: unknown, length?: number): value is string => typeof value === 'string' && BASE64URL.test(value) && (length === undefined || value.length === length)

/**
 * The RFC 7638 members of a public jwk fit for `alg`, in the thumbprint's (lexicographic) order;
 * null for anything else: another key type or curve, a private member, a `use`, `alg` or
 * `key_ops` that forbids this use.
 */
function thumbprintMembers (jwk: Record<string, unknown>, alg: string, spec: Algorithm): Record<string, string> | null {
  for (const member of PRIVATE_MEMBERS) if (jwk[member] !== undefined) return null
  if (jwk.use !== undefined && jwk.use !== 'sig') return null
  if (jwk.alg !== undefined && jwk.alg !== alg) return null
  if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') return null
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.length === 1 && jwk.key_ops[0] === 'verify')) return null
  if (jwk.kty !== spec.kty) return null
  switch (spec.kty) {
    case 'EC':
      if (typeof jwk.crv !== 'string' || jwk.crv !== spec.crv || !isBase64url(jwk.x, spec.coordinateLength) || !isBase64url(jwk.y, spec.coordinateLength)) return null
      return { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y }
    case 'OKP':
      if (typeof jwk.crv !== 'string' || jwk.crv !== spec.crv || !isBase64url(jwk.x, spec.coordinateLength)) return null
      return { crv: jwk.crv, kty: 'OKP', x: jwk.x }
    case 'RSA':
      if (!isBase64url(jwk.e) || !isBase64url(jwk.n)) return null
      return { e: jwk.e, kty: 'RSA', n: jwk.n }
  }
}

/**
 * Public keys by thumbprint: a device signs every proof with the same key, and the thumbprint
 * (which every proof needs anyway) covers all of a key's material, so the key read for it once is
 * the key. Only keys that passed the checks above enter. Least recently used leave first.
 */
const KEY_CACHE_SIZE = 1000
const keys = new Map<string, KeyObject>()

function publicKey (thumbprint: string, members: Record<string, string>, spec: Algorithm): KeyObject | null {
  const hit = keys.get(thumbprint)
  if (hit !== undefined) {
    keys.delete(thumbprint)
    keys.set(thumbprint, hit)
    return hit
  }
  let key: KeyObject
  try {
    // Only the thumbprint's members: what was checked is what is read (an EC point off its curve throws here).
    key = createPublicKey({ key: members as JsonWebKey, format: 'jwk' })
  } catch {
    return null
  }
  if (spec.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return null
  if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value!)
  keys.set(thumbprint, key)
  return key
}

function signatureValid (spec: Algorithm, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  if (spec.signatureBytes !== undefined && signature.length !== spec.signatureBytes) return false
  try {
    return verifySignature(spec.hash, Buffer.from(signingInput), spec.kty === 'EC'
      ? { key, dsaEncoding: 'ieee-p1363' }
      : spec.pssSalt !== undefined ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSalt } : key, signature)
  } catch {
    return false
  }
}

/** Never throws: every way a proof can be wrong is a refusal value. */
export async function verifyProofJwt (jwt: unknown, expect: ProofExpectations): Promise<ProofResult> {
  return checkProofJwt(jwt, expect)
}

function checkProofJwt (jwt: unknown, expect: ProofExpectations): ProofResult {
  if (typeof jwt !== 'string' || jwt.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(jwt)) return { ok: false, refusal: 'malformed' }
  const headerEnd = jwt.indexOf('.')
  const payloadEnd = jwt.indexOf('.', headerEnd + 1)
  const header = jsonObject(jwt.slice(0, headerEnd))
  const payload = jsonObject(jwt.slice(headerEnd + 1, payloadEnd))
  if (header === null || payload === null) return { ok: false, refusal: 'malformed' }
  if (header.typ !== expect.typ) return { ok: false, refusal: 'typ' }
  const alg = header.alg
  if (typeof alg !== 'string' || !expect.algorithms.includes(alg)) return { ok: false, refusal: 'alg' }
  const spec = ALGORITHMS[alg]
  if (spec === undefined) return { ok: false, refusal: 'alg' }
  const jwk = expect.key ?? header.jwk
  // No extension is understood here (RFC 7515 section 4.1.11: a `crit` we cannot honour is a refusal), nor an unencoded payload.
  if (!isObject(jwk) || header.crit !== undefined || header.b64 !== undefined) return { ok: false, refusal: 'jwk' }
  const members = thumbprintMembers(jwk, alg, spec)
  if (members === null) return { ok: false, refusal: 'jwk' }
  const thumbprint = sha256(JSON.stringify(members), 'base64url')
  const key = publicKey(thumbprint, members, spec)
  if (key === null) return { ok: false, refusal: 'jwk' }
  if (!signatureValid(spec, key, jwt.slice(0, payloadEnd), Buffer.from(jwt.slice(payloadEnd + 1), 'base64url'))) return { ok: false, refusal: 'signature' }
  return { ok: true, proof: { header: { typ: header.typ, alg, jwk: jwk as JWK }, payload, thumbprint } }
}
