/** authenticate, authenticateSession and requireRoles: preHandlers for the app's own routes. */
import { fastifyCookie } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { extraClaims, isStringArray, type AccessTokenClaims, type AccessTokens, type VerifiedToken } from './access-token.js'
import { BindingRequiredError, DpopProofInvalidError, DpopRequiredError, ForbiddenError, SessionRevokedError, TokenInvalidError, TokenMissingError } from '../errors.js'
import type { DpopVerifier } from '../binding/dpop/verifier.js'
import type { BindingKind } from '../session/binding.js'
import type { RevocationCache } from './revocations.js'
import type { SessionCore } from '../session/session-core.js'
import type { AuthUser } from '../types.js'
import { preHandler } from '../prehandler.js'

/** RFC 6750: no error code when no token was sent; `invalid_token` when one was refused. */
const CHALLENGE = 'Bearer'
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'

/** Requests whose access token came from the cookie: a browser attaches it by itself, cross-site too. */
const fromCookie = new WeakSet<FastifyRequest>()

/** True when authenticate took this request's access token from `accessToken.cookieName`. */
export function authenticatedByCookie (request: FastifyRequest): boolean {
  return fromCookie.has(request)
}

/** `(Bearer|DPoP) <token>` with any case and runs of spaces: what RFC 6750 and 9449 clients send. */
const AUTHORIZATION = /^(Bearer|DPoP) +([^\s]+) *$/i
/** The common spelling, tested without captures: the token is then everything after the 7th character. */
const PLAIN_BEARER = /^Bearer [^\s]+$/

/** The presented access token (the scheme is `credentials.dpop`), or null when none was sent. */
function credentials (request: FastifyRequest, cookieName: string | null, presented: { dpop: boolean }): string | null {
  const header = request.headers.authorization
  if (typeof header === 'string') {
    presented.dpop = false
    if (PLAIN_BEARER.test(header)) return header.slice(7)
    const match = AUTHORIZATION.exec(header)
    if (match === null) return null
    presented.dpop = match[1]!.length === 4
    return match[2]!
  }
  if (cookieName !== null) {
    const cookies = request.cookies ?? fastifyCookie.parse(request.headers.cookie ?? '')
    const value = cookies[cookieName]
    if (typeof value === 'string' && value !== '') {
      fromCookie.add(request)
      presented.dpop = false
      return value
    }
  }
  return null
}

/** The DPoP key an access token is bound to (`cnf.jkt`), or null. */
function boundKey (claims: AccessTokenClaims): string | null {
  const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt
  return typeof jkt === 'string' ? jkt : null
}

/** Shared by every user without extra claims or amr: nothing more for each cached token to keep. */
const NO_CLAIMS: Record<string, unknown> = Object.freeze({})
const NO_AMR = Object.freeze([]) as unknown as string[]

function isEmpty (object: Record<string, unknown>): boolean {
  for (const name in object) if (Object.hasOwn(object, name)) return false
  return true
}

/**
 * `request.user`: one fixed shape for every token, built once per cached token. Frozen through
 * roles and claims: the same object serves every request with this token, so a handler that
 * pushed a role would otherwise grant it to all of them. What authenticateSession (`iat`) and
 * requireBinding (`bnd`) read later lives in private fields: no WeakMap to fill per token, and
 * nothing of it in the user's JSON.
 */
class AuthenticatedUser implements AuthUser {
  readonly id: string
  readonly sessionId: string
  readonly roles: string[]
  readonly claims: Record<string, unknown>
  /** Only when the token has `auth_time` and `amr` (declared, not initialised: absent otherwise, as its JSON shows). */
  declare readonly authTime?: number
  readonly amr: string[]
  /** When the token was issued (iat, seconds): authenticateSession trusts the revocation feed only for tokens younger than it. */
  readonly #issuedAt: number
  /** The kind of key the token is bound to (`bnd`), when it is. */
  readonly #binding: BindingKind | null

  constructor (claims: AccessTokenClaims) {
    this.id = claims.sub
    this.sessionId = claims.sid
    // The claims' own arrays, frozen in place: the claims object is the cache entry's alone, and
    // copies would double what every cached token keeps alive.
    this.roles = Object.freeze(claims.roles) as string[]
    const extra = extraClaims(claims)
    this.claims = isEmpty(extra) ? NO_CLAIMS : Object.freeze(extra)
    const authenticated = typeof claims.auth_time === 'number' && isStringArray(claims.amr)
    if (authenticated) (this as { authTime?: number }).authTime = claims.auth_time
    this.amr = authenticated ? Object.freeze(claims.amr) as string[] : NO_AMR
    this.#issuedAt = claims.iat
    this.#binding = claims.bnd === 'dbsc' || claims.bnd === 'dpop' ? claims.bnd : null
    Object.freeze(this)
  }

  static issuedAt (user: AuthUser): number {
    return #issuedAt in user ? user.#issuedAt : 0
  }

  static binding (user: AuthUser): BindingKind | null {
    return #binding in user ? user.#binding : null
  }
}

/** The scheme the request's access token was sent with: a DPoP-bound token is always sent as DPoP (authenticate refuses it otherwise). */
export function tokenScheme (user: AuthUser): 'Bearer' | 'DPoP' {
  return AuthenticatedUser.binding(user) === 'dpop' ? 'DPoP' : 'Bearer'
}

function userOf (verified: VerifiedToken): AuthUser {
  return verified.user ?? (verified.user = new AuthenticatedUser(verified.claims))
}

/** The challenge of a refused token, by the scheme it came with. */
function invalidTokenChallenge (dpop: DpopVerifier | null, scheme: { dpop: boolean }): string {
  return scheme.dpop ? `DPoP error="invalid_token"${dpop === null ? '' : ', ' + dpop.algs}` : INVALID_TOKEN_CHALLENGE
}

/**
 * The check both authenticate and authenticateSession run: sets request.user and returns the
 * verified token, or throws (challenge set). A token bound to a DPoP key, or sent with the DPoP
 * scheme, needs its proof checked first: that alone is asynchronous, and returns a promise.
 */
export type AuthenticateCheck = (request: FastifyRequest, reply: FastifyReply) => VerifiedToken | Promise<VerifiedToken>

export function createAuthenticateCheck (tokens: AccessTokens, cookieName: string | null, dpop: DpopVerifier | null): AuthenticateCheck {
  return function check (request, reply) {
    const scheme = { dpop: false }
    const token = credentials(request, cookieName, scheme)
    if (token === null) {
      reply.header('www-authenticate', CHALLENGE)
      throw new TokenMissingError()
    }
    let verified: VerifiedToken
    try {
      verified = tokens.lookup(token)
    } catch (error) {
      reply.header('www-authenticate', invalidTokenChallenge(dpop, scheme))
      throw error
    }
    const jkt = boundKey(verified.claims)
    if (scheme.dpop || jkt !== null) {
      return proveKey(request, reply, dpop, token, scheme.dpop, verified.claims, jkt).then(() => {
        request.user = userOf(verified)
        return verified
      })
    }
    request.user = userOf(verified)
    return verified
  }
}

export function createAuthenticate (check: AuthenticateCheck): preHandlerAsyncHookHandler {
  return preHandler(check)
}

/**
 * RFC 9449 section 7: a DPoP-bound token needs the DPoP scheme and a proof by its key (with
 * `ath`); the DPoP scheme needs a DPoP-bound token. A bound token sent as Bearer is refused.
 */
async function proveKey (request: FastifyRequest, reply: FastifyReply, dpop: DpopVerifier | null, token: string, dpopScheme: boolean, claims: AccessTokenClaims, jkt: string | null): Promise<void> {
  const algs = dpop === null ? '' : ', ' + dpop.algs
  const session = { userId: claims.sub, sessionId: claims.sid }
  if (jkt === null) {
    reply.header('www-authenticate', `DPoP error="invalid_token"${algs}`)
    throw new TokenInvalidError()
  }
  // A bound token as Bearer, or with DPoP turned off since it was issued: no proof can be checked.
  if (!dpopScheme || dpop === null) {
    await dpop?.refused(request, 'unproved', session)
    reply.header('www-authenticate', `DPoP error="invalid_token"${algs}`)
    throw new DpopRequiredError()
  }
  const thumbprint = await dpop.verify(request, reply, { accessToken: token, ...session })
  if (thumbprint !== jkt) {
    await dpop.refused(request, 'key', session)
    reply.header('www-authenticate', `DPoP error="invalid_dpop_proof"${algs}`)
    throw new DpopProofInvalidError()
  }
}

/**
 * preHandler after authenticate: the access token must come from a session bound to a device
 * key (of this kind, when given), as its `bnd` claim says.
 */
export function createRequireBinding (dpop: DpopVerifier | null): (kind?: BindingKind) => preHandlerAsyncHookHandler {
  const challenge = dpop === null ? INVALID_TOKEN_CHALLENGE : `DPoP ${dpop.algs}`
  return function requireBinding (kind) {
    if (kind !== undefined && kind !== 'dbsc' && kind !== 'dpop') throw new TypeError("requireBinding takes 'dbsc', 'dpop' or nothing (either)")
    return async function requireBindingPreHandler (request, reply) {
      const user = request.user as AuthUser | null
      if (user === null || user === undefined) {
        reply.header('www-authenticate', CHALLENGE)
        throw new TokenMissingError()
      }
      const bound = AuthenticatedUser.binding(user)
      if (bound === null || (kind !== undefined && bound !== kind)) {
        reply.header('www-authenticate', challenge)
        throw new BindingRequiredError()
      }
    }
  }
}

/**
 * With a revocation feed (see revocations.ts) a token issued while the feed was complete costs no
 * store round trip; anything the feed cannot vouch for is checked against the store.
 */
export function createAuthenticateSession (check: AuthenticateCheck, sessions: SessionCore, revocations: RevocationCache | null): preHandlerAsyncHookHandler {
  const live = (request: FastifyRequest, reply: FastifyReply, verified: VerifiedToken): Promise<void> | undefined => {
    const { sub, sid, iat } = verified.claims
    const revoked = revocations === null ? null : revocations.isRevoked(sid, iat)
    if (revoked === false) return undefined
    if (revoked === true) refuse(reply)
    return sessions.isLive(sub, sid).then((isLive) => { if (!isLive) refuse(reply) })
  }
  return preHandler((request, reply) => {
    const verified = check(request, reply)
    return verified instanceof Promise ? verified.then((v) => live(request, reply, v)) : live(request, reply, verified)
  })
}

function refuse (reply: FastifyReply): never {
  reply.header('www-authenticate', INVALID_TOKEN_CHALLENGE)
  throw new SessionRevokedError()
}

export function requireRoles (...roles: string[]): preHandlerAsyncHookHandler {
  if (roles.length === 0 || roles.some((role) => typeof role !== 'string')) throw new TypeError('requireRoles needs one or more role names')
  return async function requireRolesPreHandler (request, reply) {
    const user = request.user as AuthUser | null
    if (user === null || user === undefined) {
      reply.header('www-authenticate', CHALLENGE)
      throw new TokenMissingError()
    }
    // request.user may come from another scheme (an app's own @fastify/jwt): a roles string would
    // match substrings ('superadmin'.includes('admin')), a missing one would throw.
    const held: unknown = user.roles
    if (!Array.isArray(held) || !roles.every((role) => held.includes(role))) throw new ForbiddenError()
  }
}
