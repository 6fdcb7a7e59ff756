/**
 * Public types and the one declaration-merging block: `request.user`, the decorators and
 * `fastify.refreshSessions` for TypeScript users.
 */
// @fastify/jwt's own `declare module 'fastify'` block is what puts `user` on FastifyRequest. Kept in
// the emitted .d.ts (`preserve`), so the published declarations type request.user even when the app
// never imports @fastify/jwt (an elided `import type {}` or the augmentation below do not load it).
/// <reference types="@fastify/jwt" preserve="true" />
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { RequireRecentAuthOptions } from './access/require-recent-auth.js'
import type { ReauthenticateOptions } from './http/reauthenticate.js'
import type { AccessTokenResponse, TokenResponse } from './http/schemas.js'
import type { SessionUser, StartSessionOptions } from './http/start-session.js'
import type { SessionCore } from './session/session-core.js'
import type { Session, SessionStore } from './session/store.js'

/**
 * The extra claims of an access token (what `findUser` / `loadUser` return under `claims`). Apps
 * type theirs by declaration merging:
 *
 *     declare module 'fastify-refresh-sessions' {
 *       interface AuthUserClaims { tenant?: string }
 *     }
 */
export interface AuthUserClaims {
  [claim: string]: unknown
}

/** What `authenticate` puts on `request.user`. */
export interface AuthUser {
  id: string
  sessionId: string
  roles: string[]
  /** Extra claims of the access token (everything but the registered and reserved ones). */
  claims: AuthUserClaims
  /**
   * When the user last proved who they are in this session (sign-in or re-authentication), epoch
   * seconds: the token's `auth_time`. Undefined for a session started before the plugin kept it.
   */
  authTime?: number
  /** How (the token's `amr`: `['pwd']` after a password, what the app passed to startSession or reauthenticate otherwise); [] when authTime is undefined. */
  amr: string[]
}

/** `fastify.refreshSessions`: the programmatic API. */
export interface RefreshSessionsApi {
  /**
   * Start a session for a user the app has authenticated some other way (passkey, OAuth, magic
   * link...): as POST /login does after the password (metadata, per-user cap, onLogin, refresh
   * cookie and/or body, DPoP / DBSC binding). Resolves to login's token response body.
   */
  startSession (request: FastifyRequest, reply: FastifyReply, user: SessionUser, options: StartSessionOptions): Promise<TokenResponse>
  /**
   * After authenticate: the session of request.user re-authenticated just now by `amr`. Only its
   * auth_time and amr change (no new session, no rotation, other sessions untouched); resolves to
   * a new access token (no refresh token). 401 AUTH_SESSION_REVOKED when the session is gone.
   */
  reauthenticate (request: FastifyRequest, reply: FastifyReply, options: ReauthenticateOptions): Promise<AccessTokenResponse>
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
  /** The login routes' argon2 calls running and waiting now (option argon2Queue); null when it is false. */
  readonly argon2Queue: { readonly running: number, readonly queued: number, readonly concurrency: number } | null
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: verifies the Bearer access token and sets request.user; 401 otherwise. */
    authenticate: preHandlerAsyncHookHandler
    /** As authenticate, and also refuses (401 AUTH_SESSION_REVOKED) a token whose session was revoked. */
    authenticateSession: preHandlerAsyncHookHandler
    /** preHandler (after authenticate): 403 AUTH_FORBIDDEN unless the user has every listed role. */
    requireRoles (...roles: string[]): preHandlerAsyncHookHandler
    /** preHandler (after authenticate): 401 AUTH_BINDING_REQUIRED unless the token's session is bound to a device key (of this kind, when given). */
    requireBinding (kind?: 'dbsc' | 'dpop'): preHandlerAsyncHookHandler
    /**
     * preHandler (after authenticate): 401 AUTH_STEP_UP_REQUIRED, with an RFC 9470
     * `insufficient_user_authentication` challenge, unless the token's auth_time is at most maxAge
     * old and its amr names one of `amr`.
     */
    requireRecentAuth (options: RequireRecentAuthOptions): preHandlerAsyncHookHandler
    refreshSessions: RefreshSessionsApi
  }
}

/**
 * Every type `request.user` can hold in the app: this plugin's `AuthUser`, plus whatever the app
 * adds for users it authenticates another way (its own @fastify/jwt tokens, API keys...):
 *
 *     declare module 'fastify-refresh-sessions' {
 *       interface RequestUserTypes { apiKey: ApiKeyUser }
 *     }
 *
 * `request.user` is then `AuthUser | ApiKeyUser`.
 */
export interface RequestUserTypes {
  refreshSessions: AuthUser
}

/** What this plugin adds to @fastify/jwt's `FastifyJWT` (through `extends`, see below). */
export interface RefreshSessionsJWT {
  user: RequestUserTypes[keyof RequestUserTypes]
}

// @fastify/jwt types `request.user` as `FastifyJWT['user']`. Inherited rather than declared, so an
// app that keeps its own `FastifyJWT { user: ... }` declaration overrides it instead of failing with
// TS2717 ("Subsequent property declarations must have the same type"); its type must then accept
// every RequestUserTypes member (TypeScript 7 checks that, TS2430).
declare module '@fastify/jwt' {
  interface FastifyJWT extends RefreshSessionsJWT {}
}
