/**
 * Failed-login limits shared by every app instance, on an ioredis Redis or Cluster: check and
 * fail are one Lua script each (one round trip), succeed one DEL; every call fails fast with
 * StoreUnavailableError (503) like the session store.
 *
 * Keys (slot strategy as in store/keys.ts: both counters of one attempt share the ip's hash tag,
 * so each script runs on one Cluster slot):
 *
 *   <prefix>login:{<b64url ip>}:ip                      failures from the ip
 *   <prefix>login:{<b64url ip>}:u:<b64url user digest>  failures for the username from the ip
 *
 * Values are plain counters with the window's TTL; no username is stored, only a digest.
 */
import { readFileSync } from 'node:fs'
import type { Cluster, Redis, Result } from 'ioredis'
import { attemptIds, validateLoginLimits } from './login-limiter.js'
import type { LoginLimiter, LoginLimits } from './login-limiter.js'
import { failFast, validateCommandTimeout } from './store/fail-fast.js'
import { DEFAULT_PREFIX, validatePrefix } from './store/keys.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    refreshSessionsLoginFail (ipKey: string, userKey: string, ipWindowMs: number, userWindowMs: number): Result<number[], Context>
    refreshSessionsLoginCheck (ipKey: string, userKey: string, ipMax: number, userMax: number): Result<number, Context>
  }
}

const SCRIPTS = {
  refreshSessionsLoginFail: 'login-fail-2.lua',
  refreshSessionsLoginCheck: 'login-check-2.lua'
} as const

const definitions = Object.entries(SCRIPTS).map(([name, file]) => [name, {
  lua: readFileSync(new URL(`./store/lua/${file}`, import.meta.url), 'utf8'),
  numberOfKeys: 2
}] as const)

export interface RedisLoginLimiterOptions {
  redis: Redis | Cluster
  /** Key prefix, the same as the session store's by default (`rs:`). */
  prefix?: string
  limits?: LoginLimits
  /** A command that has not answered after this long is a StoreUnavailableError (default 1000). */
  commandTimeoutMs?: number
}

export class RedisLoginLimiter implements LoginLimiter {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #limits: LoginLimits
  readonly #timeoutMs: number

  constructor (options: RedisLoginLimiterOptions) {
    this.#redis = options.redis
    this.#prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX)
    this.#limits = validateLoginLimits(options.limits)
    this.#timeoutMs = validateCommandTimeout(options.commandTimeoutMs)
    for (const [name, definition] of definitions) {
      // defineCommand is idempotent per name; several limiters may share one client.
      if (typeof (this.#redis as unknown as Record<string, unknown>)[name] !== 'function') this.#redis.defineCommand(name, definition)
    }
  }

  async check (username: string, ip: string): Promise<number> {
    const [ipKey, userKey] = this.#keys(username, ip)
    const { perIp, perUserIp } = this.#limits
    return await failFast(this.#redis, this.#timeoutMs, () => this.#redis.refreshSessionsLoginCheck(ipKey, userKey, perIp.max, perUserIp.max))
  }

  async fail (username: string, ip: string): Promise<void> {
    const [ipKey, userKey] = this.#keys(username, ip)
    const { perIp, perUserIp } = this.#limits
    await failFast(this.#redis, this.#timeoutMs, () => this.#redis.refreshSessionsLoginFail(ipKey, userKey, perIp.windowMs, perUserIp.windowMs))
  }

  async succeed (username: string, ip: string): Promise<void> {
    const [, userKey] = this.#keys(username, ip)
    await failFast(this.#redis, this.#timeoutMs, () => this.#redis.del(userKey))
  }

  async close (): Promise<void> {
    // The Redis client belongs to the caller: closing it is theirs to do.
  }

  #keys (username: string, ip: string): [ipKey: string, userKey: string] {
    const ids = attemptIds(username, ip)
    const base = `${this.#prefix}login:{${ids.ip}}:`
    return [base + 'ip', base + 'u:' + ids.user]
  }
}
