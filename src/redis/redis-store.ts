/**
 * The production store: one Lua script per operation on an ioredis Redis or Cluster, one round
 * trip each. Every call fails fast with StoreUnavailableError (503) when Redis is down or slow,
 * and works again by itself when ioredis reconnects.
 */
import { readFileSync } from 'node:fs'
import type { Cluster, Redis, Result } from 'ioredis'
import { formatRefreshToken, hashSecret, isValidSessionId, isValidUserId, mintSecret, mintSessionId, openSuccessor, parseRefreshToken, sealSuccessor } from '../session/refresh-token.js'
import { DEFAULT_COMMAND_TIMEOUT_MS, failFast } from './fail-fast.js'
import { DEFAULT_PREFIX, userKeys, validatePrefix } from './keys.js'
import { clip, INDEX_LINGER_MS, MAX_CLIENT_ID_LENGTH, MAX_DATA_LENGTH, MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH, OLDER_SECRET_FINGERPRINT_BYTES, OLDER_SECRETS_REMEMBERED, validateLimits } from '../session/session-ttl.js'
import type { CreatedSession, RevocationWatcher, RevokeByTokenResult, RotateContext, RotateResult, Session, SessionLimits, SessionMetadata, SessionStore } from '../session/store.js'

type Arg = string | Buffer | number

declare module 'ioredis' {
  interface RedisCommander<Context> {
    refreshSessionsCreate (index: string, session: string, ...args: Arg[]): Result<Array<number | string>, Context>
    refreshSessionsRotate (index: string, session: string, ...args: Arg[]): Result<Array<number | string>, Context>
    refreshSessionsRotateBuffer (index: string, session: string, ...args: Arg[]): Result<Array<number | Buffer>, Context>
    refreshSessionsRevokeByToken (index: string, session: string, ...args: Arg[]): Result<number, Context>
    refreshSessionsRevoke (index: string, session: string, sessionId: string, channel: string): Result<number, Context>
    refreshSessionsRevokeAll (index: string, except: string, channel: string): Result<number, Context>
    refreshSessionsList (index: string, idleTtlMs: number, absoluteTtlMs: number): Result<Array<number | string>, Context>
  }
}

const SCRIPTS = {
  refreshSessionsCreate: 'create-2.lua',
  refreshSessionsRotate: 'rotate-2.lua',
  refreshSessionsRevokeByToken: 'revoke-by-token-2.lua',
  refreshSessionsRevoke: 'revoke-2.lua',
  refreshSessionsRevokeAll: 'revoke-all-1.lua',
  refreshSessionsList: 'list-1.lua'
} as const

function loadScript (file: string): { lua: string, numberOfKeys: number } {
  const lua = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8')
  return { lua, numberOfKeys: Number(/-(\d+)\.lua$/.exec(file)![1]) }
}

const definitions = Object.entries(SCRIPTS).map(([name, file]) => [name, loadScript(file)] as const)

export interface RedisStoreOptions extends SessionLimits {
  redis: Redis | Cluster
  /** Key prefix, so several apps can share one Redis (default `rs:`). */
  prefix?: string
  /** A command that has not answered after this long is a StoreUnavailableError (default 1000). */
  commandTimeoutMs?: number
  /** Pub/sub channel on which revoked session ids are announced (default `<prefix>revoked`; false: none). */
  revocationChannel?: string | false
}

export class RedisStore implements SessionStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #limits: SessionLimits
  readonly #timeoutMs: number
  /** '' when revocations are not announced. */
  readonly #channel: string

  constructor (options: RedisStoreOptions) {
    this.#redis = options.redis
    this.#prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX)
    this.#limits = validateLimits(options)
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
    this.#channel = options.revocationChannel === false ? '' : (options.revocationChannel ?? `${this.#prefix}revoked`)
    for (const [name, definition] of definitions) {
      // defineCommand is idempotent per name; several stores may share one client.
      if (typeof (this.#redis as unknown as Record<string, unknown>)[name] !== 'function') this.#redis.defineCommand(name, definition)
    }
  }

  async create (userId: string, metadata: SessionMetadata = {}): Promise<CreatedSession> {
    if (!isValidUserId(userId)) throw new TypeError('userId must be a non-empty string of at most 256 bytes')
    const sessionId = mintSessionId()
    const secret = mintSecret()
    const keys = userKeys(this.#prefix, userId)
    const userAgent = clip(metadata.userAgent, MAX_USER_AGENT_LENGTH)
    const ip = clip(metadata.ip, MAX_IP_LENGTH)
    const clientId = clip(metadata.clientId, MAX_CLIENT_ID_LENGTH)
    const data = clip(metadata.data, MAX_DATA_LENGTH)
    const reply = await this.#call(() => this.#redis.refreshSessionsCreate(
      keys.index, keys.session(sessionId), sessionId, hashSecret(secret),
      this.#limits.idleTtlMs, this.#limits.absoluteTtlMs, this.#limits.maxSessionsPerUser,
      userAgent, ip, clientId, INDEX_LINGER_MS, data, this.#channel
    ))
    const [createdAt, expiresAt, ...evicted] = reply
    return {
      token: formatRefreshToken({ userId, sessionId, secret }),
      session: toSession(userId, sessionId, [createdAt!, createdAt!, expiresAt!, userAgent, ip, clientId, data]),
      evicted: evicted.map(String)
    }
  }

  async rotate (token: string, context: RotateContext = {}): Promise<RotateResult> {
    const parts = parseRefreshToken(token)
    if (parts === null) return { outcome: 'invalid' }
    const { userId, sessionId, secret } = parts
    const keys = userKeys(this.#prefix, userId)
    const successor = mintSecret()
    const reply = await this.#call(() => this.#redis.refreshSessionsRotateBuffer(
      keys.index, keys.session(sessionId), sessionId, hashSecret(secret), hashSecret(successor),
      sealSuccessor(secret, successor), this.#limits.idleTtlMs, this.#limits.absoluteTtlMs,
      this.#limits.reuseGraceMs, clip(context.clientId, MAX_CLIENT_ID_LENGTH),
      OLDER_SECRET_FINGERPRINT_BYTES, OLDER_SECRETS_REMEMBERED, INDEX_LINGER_MS, this.#channel
    ))
    const outcome = String(reply[0])
    switch (outcome) {
      case 'rotated':
        return { outcome, token: formatRefreshToken({ userId, sessionId, secret: successor }), session: toSession(userId, sessionId, reply.slice(1, 8)) }
      case 'grace': {
        const newest = openSuccessor(secret, reply[8] as Buffer)
        return { outcome, token: formatRefreshToken({ userId, sessionId, secret: newest }), session: toSession(userId, sessionId, reply.slice(1, 8)) }
      }
      case 'reused':
        return { outcome, userId, sessionId, reuse: String(reply[1]) === 'older' ? 'older' : 'predecessor' }
      case 'missing':
      case 'expired':
      case 'stale':
        return { outcome, userId, sessionId }
      default:
        return { outcome: 'invalid' }
    }
  }

  async revokeByToken (token: string): Promise<RevokeByTokenResult> {
    const parts = parseRefreshToken(token)
    if (parts === null) return { outcome: 'invalid' }
    const { userId, sessionId, secret } = parts
    const keys = userKeys(this.#prefix, userId)
    const result = await this.#call(() => this.#redis.refreshSessionsRevokeByToken(
      keys.index, keys.session(sessionId), sessionId, hashSecret(secret), OLDER_SECRET_FINGERPRINT_BYTES, this.#channel
    ))
    if (result === 1) return { outcome: 'revoked', userId, sessionId }
    return { outcome: result === 0 ? 'missing' : 'invalid' }
  }

  async revoke (userId: string, sessionId: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    const keys = userKeys(this.#prefix, userId)
    return await this.#call(() => this.#redis.refreshSessionsRevoke(keys.index, keys.session(sessionId), sessionId, this.#channel)) === 1
  }

  async revokeAll (userId: string, options: { except?: string | null } = {}): Promise<number> {
    if (!isValidUserId(userId)) return 0
    const except = isValidSessionId(options.except) ? options.except : ''
    return await this.#call(() => this.#redis.refreshSessionsRevokeAll(userKeys(this.#prefix, userId).index, except, this.#channel))
  }

  async list (userId: string): Promise<Session[]> {
    if (!isValidUserId(userId)) return []
    const flat = await this.#call(() => this.#redis.refreshSessionsList(userKeys(this.#prefix, userId).index, this.#limits.idleTtlMs, this.#limits.absoluteTtlMs))
    const sessions: Session[] = []
    for (let i = 0; i < flat.length; i += 8) sessions.push(toSession(userId, String(flat[i]), flat.slice(i + 1, i + 8)))
    return sessions.sort(newestFirst)
  }

  async isLive (userId: string, sessionId: string): Promise<boolean> {
    if (!isValidUserId(userId) || !isValidSessionId(sessionId)) return false
    return await this.#call(() => this.#redis.exists(userKeys(this.#prefix, userId).session(sessionId))) === 1
  }

  /**
   * Follow the revocations announced by every instance, on a subscriber connection of our own
   * (duplicated from the client we were given, so it is ours to close).
   */
  watchRevocations (watcher: RevocationWatcher): () => Promise<void> {
    if (this.#channel === '') throw new Error('revocations are not announced: revocationChannel is false')
    const channel = this.#channel
    const subscriber = this.#redis.duplicate()
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) watcher.revoked(message.split(','))
    })
    // (Re)subscribe on every ready: only once SUBSCRIBE has answered are announcements received.
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).then(() => watcher.ready(), () => watcher.down())
    })
    for (const event of ['close', 'reconnecting', 'end', '-node']) subscriber.on(event, () => watcher.down())
    subscriber.on('error', () => watcher.down())
    return async () => {
      watcher.down()
      subscriber.disconnect()
    }
  }

  async close (): Promise<void> {
    // The Redis client belongs to the caller: closing it is theirs to do.
  }

  /** One Redis call, failing fast: see fail-fast.ts. */
  async #call<T> (command: () => Promise<T>): Promise<T> {
    return await failFast(this.#redis, this.#timeoutMs, command)
  }
}

/** [createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data] as Redis returns them. */
function toSession (userId: string, id: string, fields: Array<number | string | Buffer>): Session {
  const text = (value: unknown): string | null => {
    const s = value === undefined ? '' : String(value)
    return s === '' ? null : s
  }
  return {
    userId,
    id,
    createdAt: Number(fields[0]),
    lastUsedAt: Number(fields[1]),
    expiresAt: Number(fields[2]),
    userAgent: text(fields[3]),
    ip: text(fields[4]),
    clientId: text(fields[5]),
    data: text(fields[6])
  }
}

export function newestFirst (a: Session, b: Session): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
