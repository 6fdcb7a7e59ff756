/**
 * The production store: one Lua script per operation on an ioredis Redis or Cluster, one round
 * trip each. Every call fails fast with StoreUnavailableError (503) when Redis is down or slow,
 * and works again by itself when ioredis reconnects.
 */
import type { Cluster, Redis, Result } from 'ioredis'
import { FINGERPRINT_BYTES, OLDER_SECRETS_REMEMBERED, VERIFIER_BYTES, verifierOf } from '../session/retired-secrets.js'
import { INDEX_LINGER_MS, validateLimits } from '../session/session-ttl.js'
import type { BindInput, BindResult, CreateInput, CreateResult, RevocationWatcher, SetAuthenticationInput, RevokeBySecretInput, RevokeBySecretResult, RotateInput, Session, SessionLimits, SessionStore, StoreRotateResult } from '../session/store.js'
import { StoreUnavailableError } from '../errors.js'
import { DEFAULTS } from '../defaults.js'
import { failFast } from './fail-fast.js'
import { revocationChannel, sessionKeys, validatePrefix } from './keys.js'
import { defineScripts, scriptSource } from './scripts.js'
import { decodeBinding, decodeIp, encodeBinding, encodeIp } from './compact-fields.js'
import { decodeUserAgent, encodeUserAgent } from './user-agent.js'
import { WriteDeadlines } from './write-deadline.js'

type Arg = string | Buffer | number

declare module 'ioredis' {
  interface RedisCommander<Context> {
    refreshSessionsCreate (index: string, session: string, sessionBase: string, ...args: Arg[]): Result<Array<number | string> | 'late', Context>
    refreshSessionsRotateBuffer (index: string, session: string, revokedMark: string, ...args: Arg[]): Result<Array<number | Buffer> | Buffer, Context>
    refreshSessionsRevokeBySecret (index: string, session: string, ...args: Arg[]): Result<number | 'late', Context>
    refreshSessionsRevoke (index: string, session: string, now: string, deadline: string, sessionId: string, channel: string): Result<number | 'late', Context>
    refreshSessionsRevokeAll (index: string, sessionBase: string, revokedMark: string, now: string, deadline: string, except: string, channel: string, absoluteTtlMs: number): Result<number | 'late', Context>
    refreshSessionsBind (index: string, session: string, revokedMark: string, now: string, deadline: string, sessionId: string, binding: Arg, bindingText: string): Result<BindResult | 'late', Context>
    refreshSessionsSetAuthentication (index: string, session: string, revokedMark: string, now: string, deadline: string, sessionId: string, authentication: string): Result<number | 'late', Context>
    refreshSessionsListBuffer (index: string, sessionBase: string, now: string, idleTtlMs: number, absoluteTtlMs: number): Result<Array<number | Buffer>, Context>
    refreshSessionsIsLive (index: string, session: string, now: string, sessionId: string): Result<number, Context>
  }
}

const SCRIPTS = {
  refreshSessionsCreate: scriptSource('create-3.lua', { sessionRules: true }),
  refreshSessionsRotate: scriptSource('rotate-3.lua', { sessionRules: true }),
  refreshSessionsRevokeBySecret: scriptSource('revoke-by-secret-2.lua', { sessionRules: true }),
  refreshSessionsRevoke: scriptSource('revoke-2.lua', { sessionRules: true }),
  refreshSessionsRevokeAll: scriptSource('revoke-all-3.lua', { sessionRules: true }),
  refreshSessionsBind: scriptSource('bind-3.lua', { sessionRules: true }),
  refreshSessionsSetAuthentication: scriptSource('set-authentication-3.lua', { sessionRules: true }),
  refreshSessionsList: scriptSource('list-2.lua', { sessionRules: true }),
  refreshSessionsIsLive: scriptSource('is-live-2.lua', { sessionRules: true })
}

export interface RedisStoreOptions extends SessionLimits {
  redis: Redis | Cluster
  /** Key prefix, so several apps can share one Redis (default `rs:`). */
  prefix?: string
  /** A command that has not answered after this long is a StoreUnavailableError (default 1000). */
  commandTimeoutMs?: number
  /** Pub/sub channel on which revoked session ids are announced (default `<prefix>revoked`; false: none). */
  revocationChannel?: string | false
  /** For tests only: the time the scripts use instead of Redis TIME (epoch ms). */
  clock?: () => number
}

export class RedisStore implements SessionStore {
  readonly limits: SessionLimits
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #timeoutMs: number
  /** '' when revocations are not announced. */
  readonly #channel: string
  readonly #clock: (() => number) | undefined
  readonly #deadlines: WriteDeadlines
  /** rotate-3.lua's ARGV[5]: what every rotation of this store passes unchanged, as one argument. */
  readonly #rotateSettings: string

  constructor (options: RedisStoreOptions) {
    this.#redis = options.redis
    this.#prefix = validatePrefix(options.prefix ?? DEFAULTS.prefix)
    this.limits = validateLimits(options)
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs
    this.#channel = options.revocationChannel === false ? '' : (options.revocationChannel ?? revocationChannel(this.#prefix))
    this.#clock = options.clock
    this.#deadlines = new WriteDeadlines(this.#redis, this.#timeoutMs, options.clock)
    const { idleTtlMs, absoluteTtlMs, reuseGraceMs } = this.limits
    this.#rotateSettings = [idleTtlMs, absoluteTtlMs, reuseGraceMs, FINGERPRINT_BYTES, OLDER_SECRETS_REMEMBERED, INDEX_LINGER_MS, VERIFIER_BYTES].join(':')
    defineScripts(this.#redis, SCRIPTS)
  }

  async create ({ userId, sessionId, secretHash, metadata }: CreateInput): Promise<CreateResult> {
    const keys = sessionKeys(this.#prefix, userId)
    const { userAgent, ip, clientId, data, authentication, binding } = metadata
    const [createdAt, expiresAt, ...evicted] = await this.#write(() => this.#redis.refreshSessionsCreate(
      keys.index, keys.sessionBase + sessionId, keys.sessionBase, this.#now(), this.#deadlines.deadline(), sessionId, verifierOf(secretHash),
      this.limits.idleTtlMs, this.limits.absoluteTtlMs, this.limits.maxSessionsPerUser,
      encodeUserAgent(userAgent), encodeIp(ip), clientId, data, INDEX_LINGER_MS, this.#channel, authentication, encodeBinding(binding)
    ))
    return {
      session: { userId, id: sessionId, createdAt: Number(createdAt), lastUsedAt: Number(createdAt), expiresAt: Number(expiresAt), userAgent: textOrNull(userAgent), ip: textOrNull(ip), clientId: textOrNull(clientId), data: textOrNull(data), authentication: textOrNull(authentication), binding: textOrNull(binding) },
      evicted: evicted.map(String)
    }
  }

  async rotate (input: RotateInput): Promise<StoreRotateResult> {
    const { userId, sessionId } = input
    const keys = sessionKeys(this.#prefix, userId)
    // The three secrets' bytes in one argument (see rotate-3.lua): fewer, larger arguments cost ioredis less to write.
    const secrets = Buffer.concat([input.presentedHash, verifierOf(input.successorHash), input.sealedSuccessor])
    const reply = await this.#write(() => this.#redis.refreshSessionsRotateBuffer(
      keys.index, keys.sessionBase + sessionId, keys.revokedMark, this.#now(), this.#deadlines.deadline(), sessionId, secrets, this.#rotateSettings,
      input.clientId, this.#channel, input.binding === '' ? '' : encodeBinding(input.binding), input.binding
    ))
    const outcome = String(reply[0])
    switch (outcome) {
      case 'rotated':
        return { outcome, session: toSession(userId, sessionId, reply.slice(1, 10)), boundNow: reply[10] === 1 }
      case 'grace':
        return { outcome, session: toSession(userId, sessionId, reply.slice(1, 10)), sealedSuccessor: reply[10] as Buffer }
      case 'reused':
        return { outcome, reuse: String(reply[1]) === 'older' ? 'older' : 'predecessor' }
      case 'missing':
      case 'expired':
      case 'stale':
      case 'unbound':
        return { outcome }
      default:
        return { outcome: 'invalid' }
    }
  }

  async revokeBySecret ({ userId, sessionId, presentedHash }: RevokeBySecretInput): Promise<RevokeBySecretResult> {
    const keys = sessionKeys(this.#prefix, userId)
    const result = await this.#write(() => this.#redis.refreshSessionsRevokeBySecret(
      keys.index, keys.sessionBase + sessionId, this.#now(), this.#deadlines.deadline(), sessionId, presentedHash, FINGERPRINT_BYTES, this.#channel
    ))
    return result === 1 ? 'revoked' : result === 0 ? 'missing' : 'invalid'
  }

  async revoke (userId: string, sessionId: string): Promise<boolean> {
    const keys = sessionKeys(this.#prefix, userId)
    return await this.#write(() => this.#redis.refreshSessionsRevoke(keys.index, keys.sessionBase + sessionId, this.#now(), this.#deadlines.deadline(), sessionId, this.#channel)) === 1
  }

  async revokeAll (userId: string, exceptSessionId: string | null): Promise<number> {
    const keys = sessionKeys(this.#prefix, userId)
    return await this.#write(() => this.#redis.refreshSessionsRevokeAll(keys.index, keys.sessionBase, keys.revokedMark, this.#now(), this.#deadlines.deadline(), exceptSessionId ?? '', this.#channel, this.limits.absoluteTtlMs))
  }

  async bind ({ userId, sessionId, binding }: BindInput): Promise<BindResult> {
    const keys = sessionKeys(this.#prefix, userId)
    return await this.#write(() => this.#redis.refreshSessionsBind(keys.index, keys.sessionBase + sessionId, keys.revokedMark, this.#now(), this.#deadlines.deadline(), sessionId, encodeBinding(binding), binding))
  }

  async setAuthentication ({ userId, sessionId, authentication }: SetAuthenticationInput): Promise<boolean> {
    const keys = sessionKeys(this.#prefix, userId)
    return await this.#write(() => this.#redis.refreshSessionsSetAuthentication(keys.index, keys.sessionBase + sessionId, keys.revokedMark, this.#now(), this.#deadlines.deadline(), sessionId, authentication)) === 1
  }

  async list (userId: string): Promise<Session[]> {
    const keys = sessionKeys(this.#prefix, userId)
    const flat = await this.#call(() => this.#redis.refreshSessionsListBuffer(keys.index, keys.sessionBase, this.#now(), this.limits.idleTtlMs, this.limits.absoluteTtlMs))
    const sessions: Session[] = []
    for (let i = 0; i < flat.length; i += 10) sessions.push(toSession(userId, String(flat[i]), flat.slice(i + 1, i + 10)))
    return sessions
  }

  async isLive (userId: string, sessionId: string): Promise<boolean> {
    const keys = sessionKeys(this.#prefix, userId)
    return await this.#call(() => this.#redis.refreshSessionsIsLive(keys.index, keys.sessionBase + sessionId, this.#now(), sessionId)) === 1
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
      if (from !== channel) return
      const separator = message.indexOf(':')
      watcher.revoked(message.slice(separator + 1).split(','), Number(message.slice(0, separator)))
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

  /** Measure Redis' clock against ours now (also done at start, on every reconnect and every minute). */
  async measureClock (): Promise<void> {
    await this.#call(() => this.#deadlines.measure())
  }

  async close (): Promise<void> {
    // Our timer only: the Redis client belongs to the caller, closing it is theirs to do.
    this.#deadlines.close()
  }

  /** '' lets the scripts read Redis TIME. */
  #now (): string {
    return this.#clock === undefined ? '' : String(this.#clock())
  }

  /** One Redis call, failing fast: see fail-fast.ts. */
  async #call<T> (command: () => Promise<T>): Promise<T> {
    return await failFast(this.#redis, this.#timeoutMs, command)
  }

  /** A write script: one that answers 'late' wrote nothing, and the caller gets the 503 it would have had. */
  async #write<T> (command: () => Promise<T | 'late' | Buffer>): Promise<T> {
    const reply = await this.#call(command)
    if (reply === 'late' || (Buffer.isBuffer(reply) && reply.toString() === 'late')) {
      throw new StoreUnavailableError({ cause: new Error('the command reached redis after its deadline and wrote nothing') })
    }
    return reply as T
  }
}

/** [createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data, authentication, binding] as a script returns them (Buffers: the record's encodings). */
function toSession (userId: string, id: string, fields: Array<number | Buffer>): Session {
  return {
    userId,
    id,
    createdAt: Number(fields[0]),
    lastUsedAt: Number(fields[1]),
    expiresAt: Number(fields[2]),
    userAgent: textOrNull(decodeUserAgent(field(fields, 3).toString('utf8'))),
    ip: textOrNull(decodeIp(field(fields, 4))),
    clientId: textOrNull(field(fields, 5).toString('utf8')),
    data: textOrNull(field(fields, 6).toString('utf8')),
    authentication: textOrNull(field(fields, 7).toString('utf8')),
    binding: textOrNull(decodeBinding(field(fields, 8)))
  }
}

function field (fields: Array<number | Buffer>, i: number): Buffer {
  const value = fields[i]
  return Buffer.isBuffer(value) ? value : Buffer.from(value === undefined ? '' : String(value))
}

function textOrNull (value: string): string | null {
  return value === '' ? null : value
}
