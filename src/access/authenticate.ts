/** authenticate, authenticateSession and requireRoles: preHandlers for the app's own routes. */
import { fastifyCookie } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { extraClaims, type AccessTokenClaims, type AccessTokens } from './access-token.js'
import { ForbiddenError, SessionRevokedError, TokenMissingError } from '../errors.js'
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

function bearerToken (request: FastifyRequest, cookieName: string | null): string | null {
  const header = request.headers.authorization
  if (typeof header === 'string') {
    const match = /^Bearer +([^\s]+) *$/i.exec(header)
    return match === null ? null : match[1]!
  }
  if (cookieName !== null) {
    const cookies = request.cookies ?? fastifyCookie.parse(request.headers.cookie ?? '')
    const value = cookies[cookieName]
    if (typeof value === 'string' && value !== '') {
      fromCookie.add(request)
      return value
    }
  }
  return null
}

/** Cached per verified payload: the verify cache (access-token.ts) hands back the same object for a reused token. */
const users = new WeakMap<AccessTokenClaims, AuthUser>()
/** When each user's token was issued (iat, seconds): authenticateSession trusts the revocation feed only for tokens younger than it. */
const issuedAt = new WeakMap<AuthUser, number>()

function userOf (claims: AccessTokenClaims): AuthUser {
  let user = users.get(claims)
  if (user === undefined) {
    // Frozen through roles and claims: the same object serves every request with this token, so a
    // handler that pushed a role would otherwise grant it to all of them.
    user = Object.freeze({ id: claims.sub, sessionId: claims.sid, roles: Object.freeze([...claims.roles]) as string[], claims: Object.freeze(extraClaims(claims)) })
    users.set(claims, user)
    issuedAt.set(user, claims.iat)
  }
  return user
}

export function createAuthenticate (tokens: AccessTokens, cookieName: string | null): preHandlerAsyncHookHandler {
  return async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const token = bearerToken(request, cookieName)
    if (token === null) {
      reply.header('www-authenticate', CHALLENGE)
      throw new TokenMissingError()
    }
    try {
      request.user = userOf(tokens.verify(token))
    } catch (error) {
      reply.header('www-authenticate', INVALID_TOKEN_CHALLENGE)
      throw error
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
