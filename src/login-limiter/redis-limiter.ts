/**
 * Failed-login limits shared by every app instance, on an ioredis Redis or Cluster: reserve and
 * release are one Lua script each (one round trip); every call fails fast with
 * StoreUnavailableError (503) like the session store. Reserve checks and counts in one script, so
 * attempts sent at the same instant, to any number of instances, cannot all pass.
 *
 * Keys: see redis/keys.ts (both counters of one attempt share the ip's hash tag, so each script
 * runs on one Cluster slot). Values are plain counters with the window's TTL; no username is
 * stored, only a digest.
 */
import type { Cluster, Redis, Result } from 'ioredis'
import { attemptIds, validateLoginLimits } from './limiter.js'
import type { LoginLimiter, LoginLimits } from './limiter.js'
import { failFast, validateCommandTimeout } from '../redis/fail-fast.js'
import { StoreUnavailableError } from '../errors.js'
import { DEFAULTS } from '../defaults.js'
import { loginKeys, validatePrefix } from '../redis/keys.js'
import { defineScripts, scriptSource } from '../redis/scripts.js'
import { WriteDeadlines } from '../redis/write-deadline.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    refreshSessionsLoginReserve (ipKey: string, userKey: string, now: string, deadline: string, ipMax: number, userMax: number, ipWindowMs: number, userWindowMs: number): Result<number | 'late', Context>
    refreshSessionsLoginRelease (ipKey: string, userKey: string, now: string, deadline: string): Result<number | 'late', Context>
  }
}

const SCRIPTS = {
  refreshSessionsLoginReserve: scriptSource('login-reserve-2.lua'),
  refreshSessionsLoginRelease: scriptSource('login-release-2.lua')
}

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
  readonly #deadlines: WriteDeadlines

  constructor (options: RedisLoginLimiterOptions) {
    this.#redis = options.redis
    this.#prefix = validatePrefix(options.prefix ?? DEFAULTS.prefix)
    this.#limits = validateLoginLimits(options.limits)
    this.#timeoutMs = validateCommandTimeout(options.commandTimeoutMs)
    this.#deadlines = new WriteDeadlines(this.#redis, this.#timeoutMs)
    defineScripts(this.#redis, SCRIPTS)
  }

  async reserve (username: string, ip: string): Promise<number> {
    const [ipKey, userKey] = this.#keys(username, ip)
    const { perIp, perUserIp } = this.#limits
    return await this.#write(() => this.#redis.refreshSessionsLoginReserve(ipKey, userKey, '', this.#deadlines.deadline(), perIp.max, perUserIp.max, perIp.windowMs, perUserIp.windowMs))
  }

  async release (username: string, ip: string): Promise<void> {
    const [ipKey, userKey] = this.#keys(username, ip)
    await this.#write(() => this.#redis.refreshSessionsLoginRelease(ipKey, userKey, '', this.#deadlines.deadline()))
  }

  async close (): Promise<void> {
    // Our timer only: the Redis client belongs to the caller, closing it is theirs to do.
    this.#deadlines.close()
  }

  /** A script that answers 'late' counted nothing (see redis/write-deadline.ts). */
  async #write (command: () => Promise<number | 'late'>): Promise<number> {
    const reply = await failFast(this.#redis, this.#timeoutMs, command)
    if (reply === 'late') throw new StoreUnavailableError({ cause: new Error('the command reached redis after its deadline and wrote nothing') })
    return reply
  }

  #keys (username: string, ip: string): [ipKey: string, userKey: string] {
    const ids = attemptIds(username, ip)
    return loginKeys(this.#prefix, ids.ip, ids.user)
  }
}
