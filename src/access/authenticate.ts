/** authenticate, authenticateSession and requireRoles: preHandlers for the app's own routes. */
import { fastifyCookie } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { extraClaims, type AccessTokenClaims, type AccessTokens } from './access-token.js'
import { BindingRequiredError, DpopProofInvalidError, DpopRequiredError, ForbiddenError, SessionRevokedError, TokenInvalidError, TokenMissingError } from '../errors.js'
import type { DpopVerifier } from '../binding/dpop/verifier.js'
import type { BindingKind } from '../session/binding.js'
import type { RevocationCache } from './revocations.js'
import type { SessionCore } from '../session/session-core.js'
import type { AuthUser } from '../types.js'

/** RFC 6750: no error code when no token was sent; `invalid_token` when one was refused. */
const CHALLENGE = 'Bearer'
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'

/** Requests whose access token came from the cookie: a browser attaches it by itself, cross-site too. */
const fromCookie = new WeakSet<FastifyRequest>()

/** True when authenticate took this request's access token from `accessToken.cookieName`. */
export function authenticatedByCookie (request: FastifyRequest): boolean {
  return fromCookie.has(request)
}

interface Credentials {
  token: string
  /** `Authorization: DPoP <token>`: a proof of the token's key goes with it. */
  dpop: boolean
}

function credentials (request: FastifyRequest, cookieName: string | null): Credentials | null {
  const header = request.headers.authorization
  if (typeof header === 'string') {
    const match = /^(Bearer|DPoP) +([^\s]+) *$/i.exec(header)
    return match === null ? null : { token: match[2]!, dpop: match[1]!.length === 4 }
  }
  if (cookieName !== null) {
    const cookies = request.cookies ?? fastifyCookie.parse(request.headers.cookie ?? '')
    const value = cookies[cookieName]
    if (typeof value === 'string' && value !== '') {
      fromCookie.add(request)
      return { token: value, dpop: false }
    }
  }
  return null
}

/** The DPoP key an access token is bound to (`cnf.jkt`), or null. */
function boundKey (claims: AccessTokenClaims): string | null {
  const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt
  return typeof jkt === 'string' ? jkt : null
}

/** Cached per verified payload: the verify cache (access-token.ts) hands back the same object for a reused token. */
const users = new WeakMap<AccessTokenClaims, AuthUser>()
/** When each user's token was issued (iat, seconds): authenticateSession trusts the revocation feed only for tokens younger than it. */
const issuedAt = new WeakMap<AuthUser, number>()
/** The kind of key each user's token is bound to (`bnd`), when it is: requireBinding reads it. */
const bindings = new WeakMap<AuthUser, BindingKind>()

/** The scheme the request's access token was sent with: a DPoP-bound token is always sent as DPoP (authenticate refuses it otherwise). */
export function tokenScheme (user: AuthUser): 'Bearer' | 'DPoP' {
  return bindings.get(user) === 'dpop' ? 'DPoP' : 'Bearer'
}

function userOf (claims: AccessTokenClaims): AuthUser {
  let user = users.get(claims)
  if (user === undefined) {
    // Frozen through roles and claims: the same object serves every request with this token, so a
    // handler that pushed a role would otherwise grant it to all of them.
    const authenticated = typeof claims.auth_time === 'number' && Array.isArray(claims.amr) && claims.amr.every((value) => typeof value === 'string')
    user = Object.freeze({
      id: claims.sub,
      sessionId: claims.sid,
      roles: Object.freeze([...claims.roles]) as string[],
      claims: Object.freeze(extraClaims(claims)),
      ...(authenticated && { authTime: claims.auth_time }),
      amr: Object.freeze(authenticated ? [...claims.amr!] : []) as string[]
    })
    users.set(claims, user)
    issuedAt.set(user, claims.iat)
    if (claims.bnd === 'dbsc' || claims.bnd === 'dpop') bindings.set(user, claims.bnd)
  }
  return user
}

export function createAuthenticate (tokens: AccessTokens, cookieName: string | null, dpop: DpopVerifier | null): preHandlerAsyncHookHandler {
  return async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const presented = credentials(request, cookieName)
    if (presented === null) {
      reply.header('www-authenticate', CHALLENGE)
      throw new TokenMissingError()
    }
    let claims: AccessTokenClaims
    try {
      claims = tokens.verify(presented.token)
    } catch (error) {
      reply.header('www-authenticate', presented.dpop ? `DPoP error="invalid_token"${dpop === null ? '' : ', ' + dpop.algs}` : INVALID_TOKEN_CHALLENGE)
      throw error
    }
    const jkt = boundKey(claims)
    if (presented.dpop || jkt !== null) await proveKey(request, reply, dpop, presented, claims, jkt)
    request.user = userOf(claims)
  }
}

/**
 * RFC 9449 section 7: a DPoP-bound token needs the DPoP scheme and a proof by its key (with
 * `ath`); the DPoP scheme needs a DPoP-bound token. A bound token sent as Bearer is refused.
 */
async function proveKey (request: FastifyRequest, reply: FastifyReply, dpop: DpopVerifier | null, presented: Credentials, claims: AccessTokenClaims, jkt: string | null): Promise<void> {
  const algs = dpop === null ? '' : ', ' + dpop.algs
  const session = { userId: claims.sub, sessionId: claims.sid }
  if (jkt === null) {
    reply.header('www-authenticate', `DPoP error="invalid_token"${algs}`)
    throw new TokenInvalidError()
  }
  // A bound token as Bearer, or with DPoP turned off since it was issued: no proof can be checked.
  if (!presented.dpop || dpop === null) {
    await dpop?.refused(request, 'unproved', session)
    reply.header('www-authenticate', `DPoP error="invalid_token"${algs}`)
    throw new DpopRequiredError()
  }
  const thumbprint = await dpop.verify(request, reply, { accessToken: presented.token, ...session })
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
      const bound = bindings.get(user)
      if (bound === undefined || (kind !== undefined && bound !== kind)) {
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
export function createAuthenticateSession (authenticate: preHandlerAsyncHookHandler, sessions: SessionCore, revocations: RevocationCache | null): preHandlerAsyncHookHandler {
  return async function authenticateSession (request, reply) {
    await authenticate.call(this, request, reply)
    const { user } = request
    const revoked = revocations?.isRevoked(user.sessionId, issuedAt.get(user) ?? 0) ?? null
    if (revoked === true || (revoked === null && !await sessions.isLive(user.id, user.sessionId))) {
      reply.header('www-authenticate', INVALID_TOKEN_CHALLENGE)
      throw new SessionRevokedError()
    }
  }
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
