/**
 * The session core: the one module that owns the refresh token (mint, parse, hash, seal) and
 * turns the routes' questions (create, rotate, revoke, list) into plain store operations on ids,
 * hashes and sealed bytes. Every input is validated here, before any of it reaches a store key.
 *
 * The one-round-trip refresh stays one round trip: rotate mints the successor before it asks the
 * store, which keeps it only if the presented secret was the newest.
 */
import { formatRefreshToken, hashSecret, isValidSessionId, isValidUserId, MAX_USER_ID_BYTES, mintSecret, mintSeed, mintSessionId, openSuccessor, ParsedRefreshToken, parseRefreshToken, SEED_BYTES, successorOf } from './refresh-token.js'
import type { BindResult, ReuseKind, RevocationWatcher, Session, SessionLimits, SessionStore, StoredMetadata } from './store.js'
import { formatBinding, type Binding } from './binding.js'

/** Metadata is kept for display and bounded, so that a session's size in the store is too. */
const MAX_USER_AGENT_LENGTH = 256
const MAX_IP_LENGTH = 64
const MAX_CLIENT_ID_LENGTH = 128
const MAX_DATA_LENGTH = 4096
const MAX_AUTHENTICATION_LENGTH = 256

export interface SessionMetadata {
  userAgent?: string | null
  ip?: string | null
  /** The client (audience) the session was created for; refresh must name the same one. */
  clientId?: string | null
  /** Opaque data kept with the session (the plugin keeps login-time claims here when there is no loadUser). */
  data?: string | null
  /** How and when the user proved who they are (opaque here), kept unchanged through rotations. */
  authentication?: string | null
  /** The key the new session is bound to from the start (null = not bound). */
  binding?: Binding | null
}

export interface CreatedSession {
  /** The refresh token: shown to the client once, never stored. */
  token: string
  session: Session
  /** Session ids removed to honour maxSessionsPerUser. */
  evicted: string[]
}

export type RotateResult =
  /** `boundNow`: this rotation bound the (until then unbound) session to the proved key. */
  | { outcome: 'rotated', token: string, session: Session, boundNow: boolean }
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
  /** The session is bound to a key the request did not prove: refused, the session untouched (not revoked). */
  | { outcome: 'unbound', userId: string, sessionId: string }
  /** No such session (never existed, revoked, evicted, or long expired). */
  | { outcome: 'missing', userId: string, sessionId: string }
  | { outcome: 'expired', userId: string, sessionId: string }

export interface RotateContext {
  /** The client the refresh is made for; must equal the session's clientId (null = none). */
  clientId?: string | null
  /** The key the request proved it holds: required by a session bound to it, and binds an unbound one. */
  binding?: Binding | null
}

export type RevokeByTokenResult =
  | { outcome: 'revoked', userId: string, sessionId: string }
  | { outcome: 'invalid' }
  | { outcome: 'missing' }

function clip (value: string | null | undefined, max: number): string {
  if (typeof value !== 'string') return ''
  return value.length > max ? value.slice(0, max) : value
}

/** Newest first; ties (same millisecond) by id, so that every store lists in one order. */
function newestFirst (a: Session, b: Session): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

interface Mint {
  sessionId: () => string
  secret: () => string
  /** A successor's fresh bytes (SEED_BYTES); without it, the first bytes of a minted secret. */
  seed?: () => Buffer
}

export interface SessionCoreOptions {
  /** For tests only: where session ids, secrets and successor seeds come from (default: the CSPRNG). */
  mint?: Mint
}

const CSPRNG: Required<Mint> = { sessionId: mintSessionId, secret: mintSecret, seed: mintSeed }

export class SessionCore {
  readonly store: SessionStore
  readonly #mint: Required<Mint>

  constructor (store: SessionStore, options: SessionCoreOptions = {}) {
    this.store = store
    const mint = options.mint ?? CSPRNG
    this.#mint = { ...mint, seed: mint.seed ?? (() => Buffer.from(mint.secret(), 'base64url').subarray(0, SEED_BYTES)) }
  }

  get limits (): SessionLimits {
    return this.store.limits
  }

  /** Start a session for userId and return its first refresh token. */
  async create (userId: string, metadata: SessionMetadata = {}): Promise<CreatedSession> {
    if (!isValidUserId(userId)) throw new TypeError(`userId must be a non-empty string of at most ${MAX_USER_ID_BYTES} bytes`)
    const sessionId = this.#mint.sessionId()
    const secret = this.#mint.secret()
    const { session, evicted } = await this.store.create({
      userId,
      sessionId,
      secretHash: hashSecret(secret),
      metadata: {
        userAgent: clip(metadata.userAgent, MAX_USER_AGENT_LENGTH),
        ip: clip(metadata.ip, MAX_IP_LENGTH),
        clientId: clip(metadata.clientId, MAX_CLIENT_ID_LENGTH),
        data: clip(metadata.data, MAX_DATA_LENGTH),
        authentication: clip(metadata.authentication, MAX_AUTHENTICATION_LENGTH),
        binding: metadata.binding == null ? '' : formatBinding(metadata.binding)
      } satisfies StoredMetadata
    })
    return { token: formatRefreshToken({ userId, sessionId, secret }), session, evicted }
  }

  /**
   * Exchange a refresh token for its successor (see RotateResult for every outcome). Takes the
   * token, or what parse() made of it, so that a caller that needed its session id first parses once.
   */
  async rotate (token: string | ParsedRefreshToken, context: RotateContext = {}): Promise<RotateResult> {
    const parts = token instanceof ParsedRefreshToken ? token : parseRefreshToken(token)
    if (parts === null) return { outcome: 'invalid' }
    const { userId, sessionId, secret } = parts
    const { secret: successor, sealed } = successorOf(secret, this.#mint.seed())
    const result = await this.store.rotate({
      userId,
      sessionId,
      presentedHash: hashSecret(secret),
      successorHash: hashSecret(successor),
      sealedSuccessor: sealed,
      clientId: clip(context.clientId, MAX_CLIENT_ID_LENGTH),
      binding: context.binding == null ? '' : formatBinding(context.binding)
    })
    switch (result.outcome) {
      case 'rotated':
        return { outcome: 'rotated', token: formatRefreshToken({ userId, sessionId, secret: successor }), session: result.session, boundNow: result.boundNow }
      case 'grace':
        return { outcome: 'grace', token: formatRefreshToken({ userId, sessionId, secret: openSuccessor(secret, result.sealedSuccessor) }), session: result.session }
      case 'reused':
        return { outcome: 'reused', userId, sessionId, reuse: result.reuse }
      case 'invalid':
        return { outcome: 'invalid' }
      default:
        return { outcome: result.outcome, userId, sessionId }
    }
  }

  /** The session id a refresh token names, without judging its secret; null when it is not a refresh token. */
  sessionIdOf (token: string): string | null {
    return parseRefreshToken(token)?.sessionId ?? null
  }

  /** A refresh token's validated parts (its secret not judged), for rotate; null when it is not a refresh token. */
  parse (token: string): ParsedRefreshToken | null {
    return parseRefreshToken(token)
  }

  /** Logout: revoke the session the token belongs to, if the token is one of its own. */
  async revokeByToken (token: string): Promise<RevokeByTokenResult> {
    const parts = parseRefreshToken(token)
    if (parts === null) return { outcome: 'invalid' }
    const { userId, sessionId, secret } = parts
    const outcome = await this.store.revokeBySecret({ userId, sessionId, presentedHash: hashSecret(secret) })
    return outcome === 'revoked' ? { outcome, userId, sessionId } : { outcome }
  }

  /** Bind a live session to a key; a bound session keeps its binding for life (`conflict` for another key). */
  async bind (userId: string, sessionId: string, binding: Binding): Promise<BindResult> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return 'missing'
    return await this.store.bind({ userId, sessionId, binding: formatBinding(binding) })
  }

  /** Replace how and when the user proved who they are, without rotating anything; false when the session is not live. */
  async setAuthentication (userId: string, sessionId: string, authentication: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    if (authentication.length > MAX_AUTHENTICATION_LENGTH) throw new TypeError(`authentication must be at most ${MAX_AUTHENTICATION_LENGTH} characters`)
    return await this.store.setAuthentication({ userId, sessionId, authentication })
  }

  /** True when the session existed (and belonged to userId) and is now revoked. */
  async revoke (userId: string, sessionId: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    return await this.store.revoke(userId, sessionId)
  }

  /** Revoke every session of userId but `except`; returns how many were revoked. */
  async revokeAll (userId: string, options: { except?: string | null } = {}): Promise<number> {
    if (!isValidUserId(userId)) return 0
    return await this.store.revokeAll(userId, isValidSessionId(options.except) ? options.except : null)
  }

  /** The user's live sessions, newest first. */
  async list (userId: string): Promise<Session[]> {
    if (!isValidUserId(userId)) return []
    return (await this.store.list(userId)).sort(newestFirst)
  }

  /** True while the session exists and has not expired. */
  async isLive (userId: string, sessionId: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    return await this.store.isLive(userId, sessionId)
  }

  /** Follow revocations made by any instance, when the store can tell them; null otherwise. */
  watchRevocations (watcher: RevocationWatcher): (() => Promise<void>) | null {
    return this.store.watchRevocations?.(watcher) ?? null
  }

  async close (): Promise<void> {
    await this.store.close()
  }
}
