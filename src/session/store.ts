/**
 * The SessionStore contract: small, promise-only and blind to HTTP, cookies and JWT.
 * Expected outcomes (a stale token, an unknown session) are returned as values; only
 * infrastructure faults throw, as StoreUnavailableError, which the plugin answers with 503.
 */

export interface SessionLimits {
  /** Sliding: a session unused for this long ends. */
  idleTtlMs: number
  /** Fixed at login: a session never lives longer than this. */
  absoluteTtlMs: number
  /** How long after a rotation the retired token still returns the newest one. */
  reuseGraceMs: number
  /** A login beyond this many live sessions evicts the one closest to expiry. */
  maxSessionsPerUser: number
}

export interface SessionMetadata {
  userAgent?: string | null
  ip?: string | null
  /** The client (audience) the session was created for; refresh must name the same one. */
  clientId?: string | null
  /** Opaque data kept with the session (the plugin keeps login-time claims here when there is no loadUser). */
  data?: string | null
}

export interface Session {
  userId: string
  /** Public id: shown in session lists, useless without the secret. */
  id: string
  createdAt: number
  /** Time of the last rotation, or createdAt when never refreshed. */
  lastUsedAt: number
  /** min(lastUsedAt + idleTtl, createdAt + absoluteTtl), epoch ms. */
  expiresAt: number
  userAgent: string | null
  ip: string | null
  clientId: string | null
  data: string | null
}

export interface CreatedSession {
  /** The refresh token: shown to the client once, never stored. */
  token: string
  session: Session
  /** Session ids removed to honour maxSessionsPerUser. */
  evicted: string[]
}

/** `predecessor`: the token retired by the latest rotation, presented after the grace window; `older`: one retired before that. */
export type ReuseKind = 'predecessor' | 'older'

export type RotateResult =
  | { outcome: 'rotated', token: string, session: Session }
  /** A replay of the just-retired token inside the grace window: the same newest token again. */
  | { outcome: 'grace', token: string, session: Session }
  /** A retired token after its grace window: the whole session has been revoked. */
  | { outcome: 'reused', userId: string, sessionId: string, reuse: ReuseKind }
  /**
   * The token retired by the rotation before the last, presented within that rotation's grace
   * window: a late duplicate of a request that was retried (e.g. after a store timeout), not
   * theft. Refused; the session is untouched.
   */
  | { outcome: 'stale', userId: string, sessionId: string }
  /** Malformed token, wrong secret, or a session of another client. */
  | { outcome: 'invalid' }
  /** No such session (never existed, revoked, evicted, or long expired). */
  | { outcome: 'missing', userId: string, sessionId: string }
  | { outcome: 'expired', userId: string, sessionId: string }

export interface RotateContext {
  /** The client the refresh is made for; must equal the session's clientId (null = none). */
  clientId?: string | null
}

export type RevokeByTokenResult =
  | { outcome: 'revoked', userId: string, sessionId: string }
  | { outcome: 'invalid' }
  | { outcome: 'missing' }

/** Receives the session ids revoked by any instance, and whether the feed is currently complete. */
export interface RevocationWatcher {
  revoked (sessionIds: string[]): void
  /** The feed is (again) receiving every announcement from now on. */
  ready (): void
  /** Announcements may be missed until the next ready(). */
  down (): void
}

export interface SessionStore {
  /** Start a session for userId and return its first refresh token. */
  create (userId: string, metadata?: SessionMetadata): Promise<CreatedSession>
  /** Exchange a refresh token for its successor (see RotateResult for every outcome). */
  rotate (token: string, context?: RotateContext): Promise<RotateResult>
  /** Logout: revoke the session the token belongs to, if the token is one of its own. */
  revokeByToken (token: string): Promise<RevokeByTokenResult>
  /** True when the session existed and is now revoked. */
  revoke (userId: string, sessionId: string): Promise<boolean>
  /** Revoke every session of userId but `except`; returns how many were revoked. */
  revokeAll (userId: string, options?: { except?: string | null }): Promise<number>
  /** The user's live sessions, newest first. */
  list (userId: string): Promise<Session[]>
  /** True while the session exists and has not expired. */
  isLive (userId: string, sessionId: string): Promise<boolean>
  /** Follow revocations made by any instance; returns a function that stops following. */
  watchRevocations? (watcher: RevocationWatcher): () => Promise<void>
  /** Stop timers; never closes a Redis client it did not create. */
  close (): Promise<void>
}
