/**
 * Access tokens: JWT through fast-jwt's signers and verifiers, one pair per key, called directly:
 * nothing is registered on the app (which may register its own @fastify/jwt), and a verification
 * pays no per-call option merging (@fastify/jwt's `verify` copies its options on every call).
 *
 * Every verifier is pinned to its key's one algorithm: `none`, algorithm confusion (HS256 signed
 * with a public key) and unknown kids are refused; `jku` / `jwk` / `x5u` headers are never read.
 * Verified tokens are cached (each until its `exp`), since clients reuse one token for minutes.
 * The cache is ours, not fast-jwt's: fast-jwt's also stores failures, so a flood of distinct bogus
 * tokens would fill the heap and push valid tokens out. Only successes enter ours.
 */
import { createSigner, createVerifier, type Algorithm } from 'fast-jwt'
import type { JsonWebKey } from 'node:crypto'
import { TokenExpiredError, TokenInvalidError } from '../errors.js'
import type { ResolvedKey } from './key-set.js'
import type { Binding } from '../session/binding.js'
import type { Authentication } from '../session/authentication.js'
import type { AuthUser } from '../types.js'
import { VerifyCache, type CacheEntry } from './verify-cache.js'

export interface AccessTokenClaims {
  sub: string
  sid: string
  roles: string[]
  iat: number
  exp: number
  iss?: string
  aud?: string | string[]
  /** When the user last proved who they are (epoch seconds); absent for a session older than this claim. */
  auth_time?: number
  /** How they proved it (RFC 8176 method names). */
  amr?: string[]
  [claim: string]: unknown
}

export interface AccessTokenInput {
  userId: string
  sessionId: string
  roles: readonly string[]
  claims: Record<string, unknown>
  /** The session's end (epoch ms): no access token outlives its session. */
  notAfter: number
  /** The key the session is bound to: `bnd` names its kind, and a DPoP key is the token's `cnf.jkt` (RFC 9449). */
  binding?: Binding | null
  /** The session's authentication: `auth_time` and `amr`, the same on every token of the session until it re-authenticates. */
  authentication?: Authentication | null
}

/**
 * A verified token as the cache keeps it: its claims, and the `request.user` authenticate builds
 * from them once (null until then), so that a hit costs one Map lookup and no allocation.
 */
export class VerifiedToken implements CacheEntry {
  readonly token: string
  readonly claims: AccessTokenClaims
  readonly expiresAtMs: number
  user: AuthUser | null = null
  referenced = false
  slot = 0

  constructor (token: string, claims: AccessTokenClaims) {
    this.token = token
    this.claims = claims
    this.expiresAtMs = claims.exp * 1000
  }
}

export interface AccessTokens {
  readonly ttlSeconds: number
  /** As verify, with the cache entry (or a fresh one when the cache is off or full of others). */
  lookup (token: string): VerifiedToken
  /** The token and its lifetime in seconds: the ttl, or less when the session ends sooner. */
  sign (input: AccessTokenInput): { token: string, expiresIn: number }
  /** Throws TokenInvalidError or TokenExpiredError (status 401). */
  verify (token: string): AccessTokenClaims
  /** Signature verifications run so far (cache misses that reached a verifier): tests count hits with it. */
  readonly verifications: number
  /** Public keys for `/.well-known/jwks.json`; null for HS256. */
  readonly jwks: { keys: JsonWebKey[] } | null
}

/** Names an app's extra claims cannot override (and `__proto__`, which an assignment would turn into a prototype). */
const RESERVED_CLAIMS = new Set(['sub', 'sid', 'roles', 'iat', 'exp', 'nbf', 'iss', 'aud', 'jti', 'cnf', 'bnd', 'auth_time', 'amr', '__proto__'])

/** The claims that are the app's own: every one but the reserved names. Signing and authenticate both filter through it. */
export function extraClaims (claims: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {}
  // for-in over own properties (JSON.parse and spreads make no inherited enumerable ones): no entries array per call.
  for (const name in claims) if (Object.hasOwn(claims, name) && !RESERVED_CLAIMS.has(name)) extra[name] = claims[name]
  return extra
}

/** Far above any token we sign; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192

type Verify = (token: string) => Record<string, unknown>
type Sign = (payload: Record<string, unknown>) => string

/** The `accessToken` options as resolveOptions leaves them: judged, durations in seconds. */
export interface AccessTokenSettings {
  /** HS256; null when a key set is given. */
  secret: Buffer | null
  /** Already judged (see key-set.ts); empty with a secret. */
  keys: ResolvedKey[]
  signingKid: string | null
  ttlSeconds: number
  issuer: string | null
  audience: string | string[] | null
  cookieName: string | null
  verifyCacheSize: number
  /** Leeway for `iat` and `nbf` ahead of this clock, in seconds. */
  clockSkewSeconds: number
}

/** A V8 Map holds at most 2^24 entries; a larger configured bound would only throw once reached. */
const MAX_CACHE_ENTRIES = 2 ** 24 - 1

export function createAccessTokens (options: AccessTokenSettings): AccessTokens {
  const verifiers = new Map<string, Verify>()
  let signer: Sign | undefined
  const jwks: JsonWebKey[] = []
  const verifyOptions = {
    cache: false,
    // nbf is checked below with the clock-skew leeway (fast-jwt's clockTolerance would stretch exp too).
    ignoreNotBefore: true,
    // fast-jwt checks iss / aud only when present: configured ones must be required too.
    requiredClaims: ['sub', 'sid', 'exp', 'iat', ...(options.issuer !== null ? ['iss'] : []), ...(options.audience !== null ? ['aud'] : [])],
    ...(options.issuer !== null && { allowedIss: options.issuer }),
    ...(options.audience !== null && { allowedAud: options.audience })
  }
  // No expiresIn here: sign() sets exp itself, so that it can stop at the session's end.
  const signOptions = {
    ...(options.issuer !== null && { iss: options.issuer }),
    ...(options.audience !== null && { aud: options.audience })
  }
  const verifier = (key: Buffer | string, algorithm: Algorithm): Verify =>
    createVerifier({ ...verifyOptions, key, algorithms: [algorithm] }) as Verify
  const signerOf = (key: Buffer | string, algorithm: Algorithm, kid: string | null): Sign =>
    createSigner({ ...signOptions, key, algorithm, ...(kid !== null && { kid }) }) as Sign

  if (options.secret !== null) {
    verifiers.set('', verifier(options.secret, 'HS256'))
    signer = signerOf(options.secret, 'HS256', null)
  }
  for (const { kid, alg, publicKey, privateKey } of options.keys) {
    verifiers.set(kid, verifier(publicKey.export({ type: 'spki', format: 'pem' }).toString(), alg as Algorithm))
    if (kid === options.signingKid && privateKey !== null) signer = signerOf(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), alg as Algorithm, kid)
    jwks.push({ ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as JsonWebKey)
  }

  // HS256 has one verifier and no kid; a key set always looks the kid up, even with one key,
  // so that a kid naming no key is refused whatever the size of the set.
  const hs256 = options.secret !== null ? verifiers.get('')! : null
  const cacheSize = Math.min(options.verifyCacheSize, MAX_CACHE_ENTRIES)
  const cache = cacheSize === 0 ? null : new VerifyCache<VerifiedToken>(cacheSize)
  let verifications = 0
  const pick = (token: string): Verify | undefined => hs256 ?? verifiers.get(headerKid(token) ?? '')

  const verifyUncached = (token: string): VerifiedToken => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new TokenInvalidError()
    const verifier = pick(token)
    if (verifier === undefined) throw new TokenInvalidError()
    let payload: Record<string, unknown>
    verifications++
    try {
      payload = verifier(token)
    } catch (error) {
      if ((error as { code?: string }).code === 'FAST_JWT_EXPIRED') throw new TokenExpiredError()
      throw new TokenInvalidError()
    }
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || !isStringArray(payload.roles)) throw new TokenInvalidError()
    // A token "from the future" is refused: beyond the leeway it would also claim to postdate
    // the revocation feed's start, which authenticateSession trusts by iat.
    const latest = Math.floor(Date.now() / 1000) + options.clockSkewSeconds
    if (typeof payload.iat !== 'number' || payload.iat > latest) throw new TokenInvalidError()
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > latest)) throw new TokenInvalidError()
    return new VerifiedToken(token, payload as AccessTokenClaims)
  }

  const lookup = (token: string): VerifiedToken => {
    if (cache === null) return verifyUncached(token)
    const hit = cache.get(token)
    if (hit !== undefined) return hit
    const entry = verifyUncached(token)
    cache.add(entry)
    return entry
  }

  return {
    ttlSeconds: options.ttlSeconds,
    jwks: options.secret === null ? { keys: jwks } : null,
    sign ({ userId, sessionId, roles, claims, notAfter, binding, authentication }) {
      const now = Math.floor(Date.now() / 1000)
      const expiresIn = Math.max(1, Math.min(options.ttlSeconds, Math.floor(notAfter / 1000) - now))
      const bound = binding == null ? undefined : { bnd: binding.kind, ...(binding.kind === 'dpop' && { cnf: { jkt: binding.thumbprint } }) }
      const authenticated = authentication == null ? undefined : { auth_time: authentication.authTime, amr: [...authentication.amr] }
      return { token: signer!({ ...extraClaims(claims), sub: userId, sid: sessionId, roles: [...roles], ...authenticated, ...bound, exp: now + expiresIn }), expiresIn }
    },
    get verifications () { return verifications },
    lookup,
    verify: (token) => lookup(token).claims
  }
}

/** The `kid` of a compact JWS header, or null; never throws. */
function headerKid (token: string): string | null {
  const end = token.indexOf('.')
  if (end <= 0) return null
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, end), 'base64url').toString('utf8'))
    const kid = (header as { kid?: unknown } | null)?.kid
    return typeof kid === 'string' ? kid : null
  } catch {
    return null
  }
}

export function isStringArray (value: unknown): value is string[] {
  if (!Array.isArray(value)) return false
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false
  return true
}
