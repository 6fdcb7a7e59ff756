/**
 * The embedded store: a single process, nothing shared, nothing durable, and the same observable
 * behaviour as RedisStore (the contract suite runs against both). Each method does all its work
 * synchronously before its promise settles, which makes it as atomic as a Lua script.
 *
 * Memory stays bounded: expired sessions are dropped when touched and by a periodic unref'd sweep,
 * as Redis drops expired keys.
 */
import { formatRefreshToken, hashSecret, isValidSessionId, isValidUserId, mintSecret, mintSessionId, openSuccessor, parseRefreshToken, sealSuccessor } from './refresh-token.js'
import { clip, INDEX_LINGER_MS, MAX_CLIENT_ID_LENGTH, MAX_DATA_LENGTH, MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH, OLDER_SECRET_FINGERPRINT_BYTES, OLDER_SECRETS_REMEMBERED, sessionExpiry, validateLimits } from './session-ttl.js'
import { newestFirst } from '../redis/redis-store.js'
import type { CreatedSession, RevocationWatcher, RevokeByTokenResult, RotateContext, RotateResult, Session, SessionLimits, SessionMetadata, SessionStore } from './store.js'

interface SessionRecord {
  newest: Buffer
  previous: Buffer | null
  sealedSuccessor: Buffer | null
  /** Fingerprints of secrets retired before `previous`, newest first. */
  older: Buffer[]
  createdAt: number
  /** 0 until the first rotation, as in the Redis record. */
  rotatedAt: number
  /** When older[0] was retired (the rotation before the last); 0: none. */
  previousRotatedAt: number
  userAgent: string
  ip: string
  clientId: string
  data: string
}

interface UserSessions {
  /** Mirrors the Redis index: session id -> expiresAt, entries removed lazily. */
  index: Map<string, number>
  records: Map<string, { record: SessionRecord, expiresAt: number }>
  /** Mirrors the index key's TTL: its latest session's expiry plus INDEX_LINGER_MS. */
  expiresAt: number
}

export interface MemoryStoreOptions extends SessionLimits {
  /** How often expired sessions are swept out (default 60 s). */
  sweepIntervalMs?: number
}

export class MemoryStore implements SessionStore {
  readonly #limits: SessionLimits
  readonly #users = new Map<string, UserSessions>()
  readonly #sweeper: NodeJS.Timeout
  readonly #watchers = new Set<RevocationWatcher>()

  constructor (options: MemoryStoreOptions) {
    this.#limits = validateLimits(options)
    this.#sweeper = setInterval(() => this.#sweep(Date.now()), options.sweepIntervalMs ?? 60_000).unref()
  }

  async create (userId: string, metadata: SessionMetadata = {}): Promise<CreatedSession> {
    if (!isValidUserId(userId)) throw new TypeError('userId must be a non-empty string of at most 256 bytes')
    const now = Date.now()
    const user = this.#user(userId, now, true)!
    dropExpiredIndexEntries(user, now)
    const evicted: string[] = []
    const overflow = user.index.size - this.#limits.maxSessionsPerUser + 1
    if (overflow > 0) {
      for (const [sessionId] of sortedIndex(user).slice(0, overflow)) {
        user.index.delete(sessionId)
        user.records.delete(sessionId)
        evicted.push(sessionId)
      }
      this.#announce(evicted)
    }
    const sessionId = mintSessionId()
    const secret = mintSecret()
    const record: SessionRecord = {
      newest: hashSecret(secret),
      previous: null,
      sealedSuccessor: null,
      older: [],
      createdAt: now,
      rotatedAt: 0,
      previousRotatedAt: 0,
      userAgent: clip(metadata.userAgent, MAX_USER_AGENT_LENGTH),
      ip: clip(metadata.ip, MAX_IP_LENGTH),
      clientId: clip(metadata.clientId, MAX_CLIENT_ID_LENGTH),
      data: clip(metadata.data, MAX_DATA_LENGTH)
    }
    const expiresAt = sessionExpiry(this.#limits, now, now)
    this.#put(user, sessionId, record, expiresAt)
    return { token: formatRefreshToken({ userId, sessionId, secret }), session: toSession(userId, sessionId, record, expiresAt), evicted }
  }

  async rotate (token: string, context: RotateContext = {}): Promise<RotateResult> {
    const parts = parseRefreshToken(token)
    if (parts === null) return { outcome: 'invalid' }
    const { userId, sessionId, secret } = parts
    const now = Date.now()
    const user = this.#user(userId, now, false)
    const entry = user?.records.get(sessionId)
    if (user === undefined || entry === undefined || entry.expiresAt < now) {
      // A Redis key is gone once its PXAT has passed; the index entry tells expired from missing.
      if (entry !== undefined) user!.records.delete(sessionId)
      const score = user?.index.get(sessionId)
      if (score === undefined) return { outcome: 'missing', userId, sessionId }
      user!.index.delete(sessionId)
      return { outcome: score <= now ? 'expired' : 'missing', userId, sessionId }
    }
    const { record } = entry
    const expiresAt = sessionExpiry(this.#limits, record.createdAt, record.rotatedAt || record.createdAt)
    if (expiresAt <= now) {
      this.#remove(user, sessionId)
      return { outcome: 'expired', userId, sessionId }
    }
    if (record.clientId !== clip(context.clientId, MAX_CLIENT_ID_LENGTH)) return { outcome: 'invalid' }

    const presented = hashSecret(secret)
    if (presented.equals(record.newest)) {
      const successor = mintSecret()
      if (record.previous !== null) {
        record.older = [record.previous.subarray(0, OLDER_SECRET_FINGERPRINT_BYTES), ...record.older].slice(0, OLDER_SECRETS_REMEMBERED)
        record.previousRotatedAt = record.rotatedAt
      }
      record.previous = presented
      record.newest = hashSecret(successor)
      record.sealedSuccessor = sealSuccessor(secret, successor)
      record.rotatedAt = now
      const newExpiresAt = sessionExpiry(this.#limits, record.createdAt, now)
      this.#put(user, sessionId, record, newExpiresAt)
      return { outcome: 'rotated', token: formatRefreshToken({ userId, sessionId, secret: successor }), session: toSession(userId, sessionId, record, newExpiresAt) }
    }
    if (record.previous !== null && presented.equals(record.previous)) {
      if (now - record.rotatedAt <= this.#limits.reuseGraceMs) {
        const newest = openSuccessor(secret, record.sealedSuccessor!)
        return { outcome: 'grace', token: formatRefreshToken({ userId, sessionId, secret: newest }), session: toSession(userId, sessionId, record, expiresAt) }
      }
      this.#remove(user, sessionId)
      this.#announce([sessionId])
      return { outcome: 'reused', userId, sessionId, reuse: 'predecessor' }
    }
    const olderIndex = olderPosition(record, presented)
    if (olderIndex === 0 && now - record.previousRotatedAt <= this.#limits.reuseGraceMs) return { outcome: 'stale', userId, sessionId }
    if (olderIndex !== -1) {
      this.#remove(user, sessionId)
      this.#announce([sessionId])
      return { outcome: 'reused', userId, sessionId, reuse: 'older' }
    }
    return { outcome: 'invalid' }
  }

  async revokeByToken (token: string): Promise<RevokeByTokenResult> {
    const parts = parseRefreshToken(token)
    if (parts === null) return { outcome: 'invalid' }
    const { userId, sessionId, secret } = parts
    const now = Date.now()
    const user = this.#user(userId, now, false)
    const entry = user?.records.get(sessionId)
    if (user === undefined || entry === undefined || entry.expiresAt < now) {
      user?.index.delete(sessionId)
      user?.records.delete(sessionId)
      return { outcome: 'missing' }
    }
    const presented = hashSecret(secret)
    const { record } = entry
    const known = presented.equals(record.newest) || (record.previous?.equals(presented) ?? false) || isOlder(record, presented)
    if (!known) return { outcome: 'invalid' }
    this.#remove(user, sessionId)
    this.#announce([sessionId])
    return { outcome: 'revoked', userId, sessionId }
  }

  async revoke (userId: string, sessionId: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    const now = Date.now()
    const user = this.#user(userId, now, false)
    if (user === undefined) return false
    const entry = user.records.get(sessionId)
    this.#remove(user, sessionId)
    const existed = entry !== undefined && entry.expiresAt >= now
    if (existed) this.#announce([sessionId])
    return existed
  }

  async revokeAll (userId: string, options: { except?: string | null } = {}): Promise<number> {
    if (!isValidUserId(userId)) return 0
    const now = Date.now()
    const user = this.#user(userId, now, false)
    if (user === undefined) return 0
    const revoked: string[] = []
    for (const sessionId of [...user.index.keys()]) {
      if (sessionId === options.except) continue
      const entry = user.records.get(sessionId)
      if (entry !== undefined && entry.expiresAt >= now) revoked.push(sessionId)
      this.#remove(user, sessionId)
    }
    if (revoked.length > 0) this.#announce(revoked)
    return revoked.length
  }

  async list (userId: string): Promise<Session[]> {
    if (!isValidUserId(userId)) return []
    const now = Date.now()
    const user = this.#user(userId, now, false)
    if (user === undefined) return []
    dropExpiredIndexEntries(user, now)
    const sessions: Session[] = []
    for (const sessionId of user.index.keys()) {
      const entry = user.records.get(sessionId)
      if (entry === undefined || entry.expiresAt < now) {
        this.#remove(user, sessionId)
        continue
      }
      const { record } = entry
      const expiresAt = sessionExpiry(this.#limits, record.createdAt, record.rotatedAt || record.createdAt)
      if (expiresAt > now) sessions.push(toSession(userId, sessionId, record, expiresAt))
    }
    return sessions.sort(newestFirst)
  }

  async isLive (userId: string, sessionId: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    const now = Date.now()
    const entry = this.#user(userId, now, false)?.records.get(sessionId)
    return entry !== undefined && entry.expiresAt >= now
  }

  /** One process: every revocation is seen, so the feed is ready at once and never down. */
  watchRevocations (watcher: RevocationWatcher): () => Promise<void> {
    this.#watchers.add(watcher)
    watcher.ready()
    return async () => { this.#watchers.delete(watcher) }
  }

  async close (): Promise<void> {
    clearInterval(this.#sweeper)
  }

  #announce (sessionIds: string[]): void {
    for (const watcher of this.#watchers) watcher.revoked(sessionIds)
  }

  /** The user's sessions; undefined (and forgotten) once the whole index has expired, as its Redis key would. */
  #user (userId: string, now: number, create: boolean): UserSessions | undefined {
    let user = this.#users.get(userId)
    if (user !== undefined && user.expiresAt < now) {
      this.#users.delete(userId)
      user = undefined
    }
    if (user === undefined && create) {
      user = { index: new Map(), records: new Map(), expiresAt: 0 }
      this.#users.set(userId, user)
    }
    return user
  }

  #put (user: UserSessions, sessionId: string, record: SessionRecord, expiresAt: number): void {
    user.records.set(sessionId, { record, expiresAt })
    user.index.set(sessionId, expiresAt)
    user.expiresAt = Math.max(...user.index.values()) + INDEX_LINGER_MS
  }

  #remove (user: UserSessions, sessionId: string): void {
    user.records.delete(sessionId)
    user.index.delete(sessionId)
  }

  #sweep (now: number): void {
    for (const [userId, user] of this.#users) {
      if (user.expiresAt < now) {
        this.#users.delete(userId)
        continue
      }
      for (const [sessionId, entry] of user.records) {
        if (entry.expiresAt < now) user.records.delete(sessionId)
      }
    }
  }
}

function olderPosition (record: SessionRecord, presented: Buffer): number {
  const fingerprint = presented.subarray(0, OLDER_SECRET_FINGERPRINT_BYTES)
  return record.older.findIndex((older) => older.equals(fingerprint))
}

function isOlder (record: SessionRecord, presented: Buffer): boolean {
  return olderPosition(record, presented) !== -1
}

/** Redis sorted-set order: by score, then by member. */
function sortedIndex (user: UserSessions): Array<[string, number]> {
  return [...user.index].sort(([a, scoreA], [b, scoreB]) => scoreA - scoreB || (a < b ? -1 : a > b ? 1 : 0))
}

function dropExpiredIndexEntries (user: UserSessions, now: number): void {
  for (const [sessionId, expiresAt] of user.index) {
    if (expiresAt <= now) user.index.delete(sessionId)
  }
}

function toSession (userId: string, id: string, record: SessionRecord, expiresAt: number): Session {
  return {
    userId,
    id,
    createdAt: record.createdAt,
    lastUsedAt: record.rotatedAt || record.createdAt,
    expiresAt,
    userAgent: record.userAgent || null,
    ip: record.ip || null,
    clientId: record.clientId || null,
    data: record.data || null
  }
}
