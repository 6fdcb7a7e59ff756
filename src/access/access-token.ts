/**
 * Access tokens: JWT through @fastify/jwt (fast-jwt underneath), one registration per key inside
 * an encapsulated scope, so none of its decorators (`fastify.jwt`, `request.jwtVerify`,
 * `request.user`) reach the app, which may register its own @fastify/jwt.
 *
 * Every verifier is pinned to its key's one algorithm: `none`, algorithm confusion (HS256 signed
 * with a public key) and unknown kids are refused; `jku` / `jwk` / `x5u` headers are never read.
 * Verified tokens are cached (each until its `exp`), since clients reuse one token for minutes.
 * The cache is ours, not fast-jwt's: fast-jwt's also stores failures, so a flood of distinct bogus
 * tokens would fill the heap and push valid tokens out. Only successes enter ours.
 */
import fastifyJwt from '@fastify/jwt'
import type { JsonWebKey } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { TokenExpiredError, TokenInvalidError } from '../errors.js'
import type { ResolvedKey } from './key-set.js'
import type { Binding } from '../session/binding.js'
import type { Authentication } from '../session/authentication.js'
import type { AuthUser } from '../types.js'

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
export class VerifiedToken {
  readonly claims: AccessTokenClaims
  readonly expiresAtMs: number
  user: AuthUser | null = null
  /** The cache's insertion count when this entry was (re)inserted: its age in insertions. */
  stamp = 0

  constructor (claims: AccessTokenClaims) {
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

interface JwtNamespace {
  sign (payload: Record<string, unknown>): string
  verify (token: string): Record<string, unknown>
}

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

export async function registerAccessTokens (fastify: FastifyInstance, options: AccessTokenSettings): Promise<AccessTokens> {
  const verifiers = new Map<string, JwtNamespace>()
  let signer: JwtNamespace | undefined
  const jwks: JsonWebKey[] = []
  const verify = {
    cache: false,
    // nbf is checked below with the clock-skew leeway (fast-jwt's clockTolerance would stretch exp too).
    ignoreNotBefore: true,
    // fast-jwt checks iss / aud only when present: configured ones must be required too.
    requiredClaims: ['sub', 'sid', 'exp', 'iat', ...(options.issuer !== null ? ['iss'] : []), ...(options.audience !== null ? ['aud'] : [])],
    ...(options.issuer !== null && { allowedIss: options.issuer }),
    ...(options.audience !== null && { allowedAud: options.audience })
  }
  // No expiresIn here: sign() sets exp itself, so that it can stop at the session's end.
  const sign = {
    ...(options.issuer !== null && { iss: options.issuer }),
    ...(options.audience !== null && { aud: options.audience })
  }

  await fastify.register(async function accessTokenScope (scope) {
    let index = 0
    const register = async (kid: string | null, secret: unknown, algorithm: string): Promise<JwtNamespace> => {
      const namespace = `refreshSessions${index++}`
      await scope.register(fastifyJwt, {
        namespace,
        decoratorName: 'refreshSessionsJwtPayload',
        secret: secret as string,
        sign: { ...sign, algorithm: algorithm as 'HS256', ...(kid !== null && { kid }) },
        verify: { ...verify, algorithms: [algorithm as 'HS256'] }
      })
      return (scope.jwt as unknown as Record<string, JwtNamespace>)[namespace]!
    }
    if (options.secret !== null) {
      signer = await register(null, options.secret, 'HS256')
      verifiers.set('', signer)
      return
    }
    for (const { kid, alg, publicKey, privateKey } of options.keys) {
      const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
      const privatePem = privateKey?.export({ type: 'pkcs8', format: 'pem' }).toString()
      const jwt = await register(kid, { public: publicPem, ...(privatePem !== undefined && { private: privatePem }) }, alg)
      verifiers.set(kid, jwt)
      if (kid === options.signingKid) signer = jwt
      jwks.push({ ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as JsonWebKey)
    }
  })

  // HS256 has one verifier and no kid; a key set always looks the kid up, even with one key,
  // so that a kid naming no key is refused whatever the size of the set.
  const hs256 = options.secret !== null ? verifiers.get('')! : null
  const cacheSize = Math.min(options.verifyCacheSize, MAX_CACHE_ENTRIES)
  /**
   * Token -> its entry (the same object on every hit), in insertion order, oldest first. An LRU
   * that moves a hit to the back only once it has aged into the older half of the cache: a token
   * used at any moment stays for at least cacheSize / 2 new tokens after that use, and the hot
   * set of a busy API costs one lookup per request instead of a delete and an insert.
   */
  const cache = new Map<string, VerifiedToken>()
  const halfLife = Math.max(1, cacheSize >>> 1)
  let stamps = 0
  let verifications = 0
  const pick = (token: string): JwtNamespace | undefined => hs256 ?? verifiers.get(headerKid(token) ?? '')

  const verifyUncached = (token: string): VerifiedToken => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new TokenInvalidError()
    const verifier = pick(token)
    if (verifier === undefined) throw new TokenInvalidError()
    let payload: Record<string, unknown>
    verifications++
    try {
      payload = verifier.verify(token)
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
    return new VerifiedToken(payload as AccessTokenClaims)
  }

  const lookup = (token: string): VerifiedToken => {
    if (cacheSize === 0) return verifyUncached(token)
    const hit = cache.get(token)
    if (hit !== undefined) {
      if (hit.expiresAtMs > Date.now()) {
        if (stamps - hit.stamp >= halfLife) {
          cache.delete(token)
          cache.set(token, hit)
          hit.stamp = ++stamps
        }
        return hit
      }
      cache.delete(token)
    }
    const entry = verifyUncached(token)
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!)
    cache.set(token, entry)
    entry.stamp = ++stamps
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
      return { token: signer!.sign({ ...extraClaims(claims), sub: userId, sid: sessionId, roles: [...roles], ...authenticated, ...bound, exp: now + expiresIn }), expiresIn }
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
