/**
 * The SessionStore contract: what a store must do, in plain operations on ids, hashes and sealed
 * bytes. A store never sees a refresh token or a secret (the session core, `session-core.ts`,
 * owns the token format) and knows nothing of HTTP, cookies or JWT.
 *
 * Each operation is atomic (RedisStore: one Lua script, one round trip; MemoryStore: synchronous
 * work before the promise settles) and applies the session rules of `session-ttl.ts` and
 * `retired-secrets.ts`. Expected outcomes are returned as values; only infrastructure faults
 * throw, as StoreUnavailableError, which the plugin answers with 503.
 */
import type { SessionLimits } from './session-ttl.js'

export type { SessionLimits }

/** Metadata kept with a session, already clipped to its maximum lengths by the core ('' = none). */
export interface StoredMetadata {
  userAgent: string
  ip: string
  /** The client (audience) the session was created for; a rotation must name the same one. */
  clientId: string
  /** Opaque data (the plugin keeps login-time claims here when there is no loadUser). */
  data: string
  /** How and when the user proved who they are, encoded by the core: kept through rotations, replaced only by setAuthentication. */
  authentication: string
  /** The key the session is bound to (`<kind>:<thumbprint>`); '' = not bound. */
  binding: string
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
  authentication: string | null
  /** `<kind>:<thumbprint>` of the key the session is bound to; null = not bound. */
  binding: string | null
}

export interface CreateInput {
  userId: string
  sessionId: string
  /** SHA-256 of the first secret. */
  secretHash: Buffer
  metadata: StoredMetadata
}

export interface CreateResult {
  session: Session
  /** Session ids removed to honour maxSessionsPerUser (the ones closest to expiry). */
  evicted: string[]
}

export interface RotateInput {
  userId: string
  sessionId: string
  presentedHash: Buffer
  /** SHA-256 of the successor secret, kept only when the presented secret is the newest. */
  successorHash: Buffer
  /** What the core needs to rebuild the successor from the presented secret (sealed, opaque to the store): returned by later grace replies. */
  sealedSuccessor: Buffer
  /** Must equal the session's clientId ('' = none), or the outcome is `invalid`. */
  clientId: string
  /**
   * The binding the request proved possession of ('' = none). A bound session refuses any other
   * (`unbound`); an unbound session rotated with one becomes bound to it.
   */
  binding: string
}

/** `predecessor`: the token retired by the latest rotation, presented after the grace window; `older`: one retired before that. */
export type ReuseKind = 'predecessor' | 'older'

export type StoreRotateResult =
  /** The session now has the successor as its newest secret; `boundNow`: this rotation bound an unbound session. */
  | { outcome: 'rotated', session: Session, boundNow: boolean }
  /** The predecessor within the grace window: the successor sealed under it, as stored by the rotation that retired it. */
  | { outcome: 'grace', session: Session, sealedSuccessor: Buffer }
  /** A retired secret after its grace window: the whole session has been revoked. */
  | { outcome: 'reused', reuse: ReuseKind }
  /** Retired by the rotation before the last, within that rotation's grace window: refused, the session untouched. */
  | { outcome: 'stale' }
  /** A wrong secret, or a session of another client: refused, the session untouched. */
  | { outcome: 'invalid' }
  /** A bound session, and the request did not prove its key: refused before the secret is looked at, the session untouched. */
  | { outcome: 'unbound' }
  /** No such session (never existed, revoked, evicted, or long expired). */
  | { outcome: 'missing' }
  /** The session has reached its end (and is now gone). */
  | { outcome: 'expired' }

export interface RevokeBySecretInput {
  userId: string
  sessionId: string
  presentedHash: Buffer
}

/** `revoked` when the secret was the newest, the predecessor or a remembered older one; `invalid` for another secret; `missing` for no live session. */
export type RevokeBySecretResult = 'revoked' | 'invalid' | 'missing'

export interface BindInput {
  userId: string
  sessionId: string
  /** `<kind>:<thumbprint>` */
  binding: string
}

/** `bound`: the session is now (or already was) bound to this binding; `conflict`: to another one, unchanged; `missing`: no live session. */
export type BindResult = 'bound' | 'conflict' | 'missing'

export interface SetAuthenticationInput {
  userId: string
  sessionId: string
  authentication: string
}

/** Receives the session ids revoked by any instance, and whether the feed is currently complete. */
export interface RevocationWatcher {
  /** revokedAt: when the revoking operation ran (epoch ms, the store's clock). */
  revoked (sessionIds: string[], revokedAt: number): void
  /** The feed is (again) receiving every announcement from now on. */
  ready (): void
  /** Announcements may be missed until the next ready(). */
  down (): void
}

export interface SessionStore {
  /** The limits this store applies (TTL, grace, per-user cap). */
  readonly limits: SessionLimits
  /** Store a new session, first evicting the user's sessions beyond the cap. */
  create (input: CreateInput): Promise<CreateResult>
  /** Classify the presented secret (see retired-secrets.ts) and rotate, replay, revoke or refuse. */
  rotate (input: RotateInput): Promise<StoreRotateResult>
  /** Bind a live session to a key; a bound session keeps its binding for life. */
  bind (input: BindInput): Promise<BindResult>
  /** Replace a live session's authentication, nothing else (no rotation, no new TTL); false when there is no live session. */
  setAuthentication (input: SetAuthenticationInput): Promise<boolean>
  /** Logout: revoke the session if the presented secret is one of its own. */
  revokeBySecret (input: RevokeBySecretInput): Promise<RevokeBySecretResult>
  /** True when the session was live and is now revoked. */
  revoke (userId: string, sessionId: string): Promise<boolean>
  /** Revoke every session of userId but `exceptSessionId`; returns how many live ones were revoked. */
  revokeAll (userId: string, exceptSessionId: string | null): Promise<number>
  /** The user's live sessions, in no particular order. */
  list (userId: string): Promise<Session[]>
  /** True while the session exists and has not expired. */
  isLive (userId: string, sessionId: string): Promise<boolean>
  /** Follow revocations made by any instance; returns a function that stops following. */
  watchRevocations? (watcher: RevocationWatcher): () => Promise<void>
  /** Stop timers; never closes a Redis client it did not create. */
  close (): Promise<void>
}
