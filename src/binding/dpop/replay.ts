/**
 * The DPoP `jti` replay check: a proof's jti is claimed once, in one command, for as long as a
 * proof with it could still pass the `iat` check. Shared by every instance on the plugin's Redis
 * (`SET key 1 NX PX ttl`: one round trip, the TTL set by the same command); in memory without one.
 *
 * The key is a digest of the key thumbprint and the jti (`redis/keys.ts`): neither is stored as
 * sent, and two keys' jtis never collide.
 */
import { sha256 } from '../../sha256.js'
import type { Cluster, Redis } from 'ioredis'
import { failFast } from '../../redis/fail-fast.js'
import { dpopJtiKey } from '../../redis/keys.js'

export interface ReplayGuard {
  /** True the first time this (thumbprint, jti) is seen within ttlMs; false for a replay. Throws StoreUnavailableError when Redis cannot answer. */
  claim (thumbprint: string, jti: string, ttlMs: number): Promise<boolean>
}

/** 128 bits: a collision would refuse one honest proof, never accept a replay. */
function digest (thumbprint: string, jti: string): string {
  return sha256(`${thumbprint}\0${jti}`).subarray(0, 16).toString('base64url')
}

export class RedisReplayGuard implements ReplayGuard {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor (redis: Redis | Cluster, prefix: string, timeoutMs: number) {
    this.#redis = redis
    this.#prefix = prefix
    this.#timeoutMs = timeoutMs
  }

  async claim (thumbprint: string, jti: string, ttlMs: number): Promise<boolean> {
    const key = dpopJtiKey(this.#prefix, digest(thumbprint, jti))
    return await failFast(this.#redis, this.#timeoutMs, () => this.#redis.set(key, '1', 'PX', ttlMs, 'NX')) === 'OK'
  }
}

/**
 * One process: a Map in insertion order. Every entry lives the same ttl, so insertion order is
 * expiry order and a sweep stops at the first live entry; the Map holds at most the proofs of one
 * ttl.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, number>()
  readonly #now: () => number

  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  get size (): number {
    return this.#seen.size
  }

  async claim (thumbprint: string, jti: string, ttlMs: number): Promise<boolean> {
    const now = this.#now()
    for (const [key, expiresAt] of this.#seen) {
      if (expiresAt > now) break
      this.#seen.delete(key)
    }
    const key = digest(thumbprint, jti)
    if (this.#seen.has(key)) return false
    this.#seen.set(key, now + ttlMs)
    return true
  }
}
