/**
 * The embedded store: a single process, nothing shared, nothing durable, and the same observable
 * behaviour as RedisStore (the contract suite runs against both, and a differential test runs
 * random operation sequences against both side by side). Each method does all its work
 * synchronously before its promise settles, which makes it as atomic as a Lua script; each
 * mirrors the script of the same name in ../redis/lua/, step for step, so that they cannot drift.
 *
 * Memory stays bounded: expired sessions are dropped when touched and by a periodic unref'd sweep,
 * as Redis drops expired keys.
 */
import { classifySecret, retire, verifierOf, type SecretHistory } from './retired-secrets.js'
import { INDEX_LINGER_MS, isExpired, sessionExpiry, validateLimits } from './session-ttl.js'
import type { BindInput, BindResult, CreateInput, CreateResult, RevocationWatcher, SetAuthenticationInput, RevokeBySecretInput, RevokeBySecretResult, RotateInput, Session, SessionLimits, SessionStore, StoredMetadata, StoreRotateResult } from './store.js'

interface SessionRecord extends SecretHistory {
  createdAt: number
  /** The newest secret sealed under its predecessor, for grace replies; null before the first rotation. */
  sealedSuccessor: Buffer | null
  metadata: StoredMetadata
}

interface UserSessions {
  /** Mirrors the Redis index: session id -> expiresAt, entries removed lazily. */
  index: Map<string, number>
  /** Mirrors the record keys; a record's expiresAt is its key's PXAT. */
  records: Map<string, { record: SessionRecord, expiresAt: number }>
  /** Mirrors the index key's PXAT. */
  expiresAt: number
}

export interface MemoryStoreOptions extends SessionLimits {
  /** How often expired sessions are swept out (default 60 s). */
  sweepIntervalMs?: number
  /** For tests: the clock (epoch ms) instead of Date.now. */
  clock?: () => number
}

export class MemoryStore implements SessionStore {
  readonly limits: SessionLimits
  readonly #users = new Map<string, UserSessions>()
  readonly #sweeper: NodeJS.Timeout
  readonly #watchers = new Set<RevocationWatcher>()
  readonly #now: () => number

  constructor (options: MemoryStoreOptions) {
    this.limits = validateLimits(options)
    this.#now = options.clock ?? Date.now
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 60_000).unref()
  }

  /** Session records held, expired ones included until swept: for tests and metrics. */
  get size (): number {
    let records = 0
    for (const user of this.#users.values()) records += user.records.size
    return records
  }

  async create ({ userId, sessionId, secretHash, metadata }: CreateInput): Promise<CreateResult> {
    const now = this.#now()
    const user = this.#user(userId, now) ?? this.#newUser(userId)
    dropEndedIndexEntries(user, now)
    const evicted: string[] = []
    const overflow = user.index.size - this.limits.maxSessionsPerUser + 1
    if (overflow > 0) {
      for (const [oldId] of sortedIndex(user).slice(0, overflow)) {
        this.#remove(user, oldId)
        evicted.push(oldId)
      }
      this.#announce(evicted)
    }
    const record: SessionRecord = { newest: verifierOf(secretHash), previous: null, older: Buffer.alloc(0), rotatedAt: 0, previousRotatedAt: 0, createdAt: now, sealedSuccessor: null, metadata: { ...metadata } }
    const expiresAt = sessionExpiry(this.limits, now, now)
    user.records.set(sessionId, { record, expiresAt })
    user.index.set(sessionId, expiresAt)
    user.expiresAt = Math.max(...user.index.values()) + INDEX_LINGER_MS
    return { session: toSession(userId, sessionId, record, expiresAt), evicted }
  }

  async rotate (input: RotateInput): Promise<StoreRotateResult> {
    const { userId, sessionId, presentedHash } = input
    const now = this.#now()
    const user = this.#user(userId, now)
    const record = user?.records.get(sessionId)?.record
    const expiresAt = record === undefined ? 0 : sessionExpiry(this.limits, record.createdAt, record.rotatedAt || record.createdAt)
    if (user === undefined || record === undefined || isExpired(expiresAt, now)) {
      // Gone or at its end: the index entry, while the index lives, tells expired from missing.
      if (user === undefined) return { outcome: 'missing' }
      user.records.delete(sessionId)
      const score = user.index.get(sessionId)
      if (score === undefined) return { outcome: 'missing' }
      user.index.delete(sessionId)
      return { outcome: score <= now ? 'expired' : 'missing' }
    }
    if (record.metadata.clientId !== input.clientId) return { outcome: 'invalid' }
    // Before the secret is classified: without the key, even a retired token cannot revoke the session.
    if (record.metadata.binding !== '' && record.metadata.binding !== input.binding) return { outcome: 'unbound' }

    switch (classifySecret(record, presentedHash, now, this.limits.reuseGraceMs)) {
      case 'newest': {
        Object.assign(record, retire(record, input.successorHash, now), { sealedSuccessor: input.sealedSuccessor })
        const boundNow = record.metadata.binding === '' && input.binding !== ''
        record.metadata.binding = input.binding
        const newExpiresAt = sessionExpiry(this.limits, record.createdAt, now)
        user.records.set(sessionId, { record, expiresAt: newExpiresAt })
        user.index.set(sessionId, newExpiresAt)
        user.expiresAt = Math.max(user.expiresAt, newExpiresAt + INDEX_LINGER_MS)
        return { outcome: 'rotated', session: toSession(userId, sessionId, record, newExpiresAt), boundNow }
      }
      case 'grace':
        return { outcome: 'grace', session: toSession(userId, sessionId, record, expiresAt), sealedSuccessor: record.sealedSuccessor! }
      case 'reused-predecessor':
        this.#revokeAsReused(user, sessionId)
        return { outcome: 'reused', reuse: 'predecessor' }
      case 'reused-older':
        this.#revokeAsReused(user, sessionId)
        return { outcome: 'reused', reuse: 'older' }
      case 'stale':
        return { outcome: 'stale' }
      default:
        return { outcome: 'invalid' }
    }
  }

  async revokeBySecret ({ userId, sessionId, presentedHash }: RevokeBySecretInput): Promise<RevokeBySecretResult> {
    const now = this.#now()
    const user = this.#user(userId, now)
    if (user === undefined) return 'missing'
    const entry = user.records.get(sessionId)
    if (entry === undefined || isExpired(entry.expiresAt, now)) {
      this.#remove(user, sessionId)
      return 'missing'
    }
    // Any class but unknown is a secret of this session; the grace window does not matter here.
    if (classifySecret(entry.record, presentedHash, now, 0) === 'unknown') return 'invalid'
    this.#remove(user, sessionId)
    this.#announce([sessionId])
    return 'revoked'
  }

  async revoke (userId: string, sessionId: string): Promise<boolean> {
    const now = this.#now()
    const user = this.#user(userId, now)
    if (user === undefined) return false
    const live = this.#isLive(user, sessionId, now)
    this.#remove(user, sessionId)
    if (live) this.#announce([sessionId])
    return live
  }

  async revokeAll (userId: string, exceptSessionId: string | null): Promise<number> {
    const now = this.#now()
    const user = this.#user(userId, now)
    if (user === undefined) return 0
    const revoked: string[] = []
    for (const sessionId of [...user.index.keys()]) {
      if (sessionId === exceptSessionId) continue
      if (this.#isLive(user, sessionId, now)) revoked.push(sessionId)
      this.#remove(user, sessionId)
    }
    if (revoked.length > 0) this.#announce(revoked)
    return revoked.length
  }

  async bind ({ userId, sessionId, binding }: BindInput): Promise<BindResult> {
    const record = this.#liveRecord(userId, sessionId)
    if (record === undefined) return 'missing'
    if (record.metadata.binding === binding) return 'bound'
    if (record.metadata.binding !== '') return 'conflict'
    record.metadata.binding = binding
    return 'bound'
  }

  async setAuthentication ({ userId, sessionId, authentication }: SetAuthenticationInput): Promise<boolean> {
    const record = this.#liveRecord(userId, sessionId)
    if (record === undefined) return false
    record.metadata.authentication = authentication
    return true
  }

  async list (userId: string): Promise<Session[]> {
    const now = this.#now()
    const user = this.#user(userId, now)
    if (user === undefined) return []
    dropEndedIndexEntries(user, now)
    const sessions: Session[] = []
    for (const sessionId of [...user.index.keys()]) {
      const record = user.records.get(sessionId)?.record
      if (record === undefined) {
        user.index.delete(sessionId)
        continue
      }
      const expiresAt = sessionExpiry(this.limits, record.createdAt, record.rotatedAt || record.createdAt)
      if (!isExpired(expiresAt, now)) sessions.push(toSession(userId, sessionId, record, expiresAt))
    }
    return sessions
  }

  async isLive (userId: string, sessionId: string): Promise<boolean> {
    const now = this.#now()
    const user = this.#user(userId, now)
    return user !== undefined && this.#isLive(user, sessionId, now)
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
    const now = this.#now()
    for (const watcher of this.#watchers) watcher.revoked(sessionIds, now)
  }

  /** The user's sessions; undefined (and forgotten) once the index has expired, as its Redis key would. */
  #user (userId: string, now: number): UserSessions | undefined {
    const user = this.#users.get(userId)
    if (user === undefined || !isExpired(user.expiresAt, now)) return user
    this.#users.delete(userId)
    return undefined
  }

  #newUser (userId: string): UserSessions {
    const user: UserSessions = { index: new Map(), records: new Map(), expiresAt: 0 }
    this.#users.set(userId, user)
    return user
  }

  /** The record while the session is live; its expiry is untouched (as the scripts' KEEPTTL). */
  #liveRecord (userId: string, sessionId: string): SessionRecord | undefined {
    const now = this.#now()
    const user = this.#user(userId, now)
    if (user === undefined || !this.#isLive(user, sessionId, now)) return undefined
    return user.records.get(sessionId)!.record
  }

  #isLive (user: UserSessions, sessionId: string, now: number): boolean {
    const entry = user.records.get(sessionId)
    return entry !== undefined && !isExpired(entry.expiresAt, now)
  }

  #revokeAsReused (user: UserSessions, sessionId: string): void {
    this.#remove(user, sessionId)
    this.#announce([sessionId])
  }

  #remove (user: UserSessions, sessionId: string): void {
    user.records.delete(sessionId)
    user.index.delete(sessionId)
  }

  #sweep (): void {
    const now = this.#now()
    for (const [userId, user] of this.#users) {
      if (isExpired(user.expiresAt, now)) {
        this.#users.delete(userId)
        continue
      }
      for (const [sessionId, entry] of user.records) {
        if (isExpired(entry.expiresAt, now)) user.records.delete(sessionId)
      }
    }
  }
}

/** Redis sorted-set order: by score, then by member. */
function sortedIndex (user: UserSessions): Array<[string, number]> {
  return [...user.index].sort(([a, scoreA], [b, scoreB]) => scoreA - scoreB || (a < b ? -1 : a > b ? 1 : 0))
}

/** ZREMRANGEBYSCORE -inf now. */
function dropEndedIndexEntries (user: UserSessions, now: number): void {
  for (const [sessionId, expiresAt] of user.index) {
    if (expiresAt <= now) user.index.delete(sessionId)
  }
}

function toSession (userId: string, id: string, record: SessionRecord, expiresAt: number): Session {
  const { userAgent, ip, clientId, data, authentication, binding } = record.metadata
  return {
    userId,
    id,
    createdAt: record.createdAt,
    lastUsedAt: record.rotatedAt || record.createdAt,
    expiresAt,
    userAgent: userAgent || null,
    ip: ip || null,
    clientId: clientId || null,
    data: data || null,
    authentication: authentication || null,
    binding: binding || null
  }
}
