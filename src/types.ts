/**
 * Public types and the one declaration-merging block: `request.user`, the decorators and
 * `fastify.refreshSessions` for TypeScript users.
 */
import type { preHandlerAsyncHookHandler } from 'fastify'
import type { SessionCore } from './session/session-core.js'
import type { Session, SessionStore } from './session/store.js'

/** What `authenticate` puts on `request.user`. */
export interface AuthUser {
  id: string
  sessionId: string
  roles: string[]
  /** Extra claims of the access token (everything but the registered and reserved ones). */
  claims: Record<string, unknown>
}

/** `fastify.refreshSessions`: the programmatic API. */
export interface RefreshSessionsApi {
  listSessions (userId: string): Promise<Session[]>
  /** True when the session existed (and belonged to userId). */
  revokeSession (userId: string, sessionId: string): Promise<boolean>
  revokeAllSessions (userId: string, options?: { except?: string | null }): Promise<number>
  /** argon2id with the plugin's parameters (OWASP defaults). */
  hashPassword (password: string): Promise<string>
  verifyPassword (hash: string, password: string): Promise<boolean>
  /** The session core: create, rotate, revoke and list sessions by refresh token or id. */
  readonly sessions: SessionCore
  /** The store under it (plain operations on ids and hashes; see SessionStore). */
  readonly store: SessionStore
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: verifies the Bearer access token and sets request.user; 401 otherwise. */
    authenticate: preHandlerAsyncHookHandler
    /** As authenticate, and also refuses (401 AUTH_SESSION_REVOKED) a token whose session was revoked. */
    authenticateSession: preHandlerAsyncHookHandler
    /** preHandler (after authenticate): 403 AUTH_FORBIDDEN unless the user has every listed role. */
    requireRoles (...roles: string[]): preHandlerAsyncHookHandler
    refreshSessions: RefreshSessionsApi
  }
}

// @fastify/jwt types `request.user` from this interface; we set it the same way, so an app that
// also uses @fastify/jwt sees one consistent type.
declare module '@fastify/jwt' {
  interface FastifyJWT {
    user: AuthUser
  }
}
