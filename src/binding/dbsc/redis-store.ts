/**
 * The DBSC store on Redis (or a Cluster: one key per command): `SET ... PX` writes with the TTL,
 * `GETDEL` takes a challenge once however many instances race for it (Redis 7, which the session
 * scripts require anyway). Every command fails fast, as the session store's do.
 */
import type { Cluster, Redis } from 'ioredis'
import { failFast } from '../../redis/fail-fast.js'
import { dbscChallengeKey, dbscSessionKey } from '../../redis/keys.js'
import type { DbscStore } from './store.js'

export class RedisDbscStore implements DbscStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor ({ redis, prefix, commandTimeoutMs }: { redis: Redis | Cluster, prefix: string, commandTimeoutMs: number }) {
    this.#redis = redis
    this.#prefix = prefix
    this.#timeoutMs = commandTimeoutMs
  }

  async putChallenge (digest: string, record: string, ttlMs: number): Promise<void> {
    await failFast(this.#redis, this.#timeoutMs, async () => await this.#redis.set(dbscChallengeKey(this.#prefix, digest), record, 'PX', ttlMs))
  }

  async takeChallenge (digest: string): Promise<string | null> {
    return await failFast(this.#redis, this.#timeoutMs, async () => await this.#redis.getdel(dbscChallengeKey(this.#prefix, digest)))
  }

  async putSessionKey (sessionId: string, record: string, ttlMs: number): Promise<void> {
    await failFast(this.#redis, this.#timeoutMs, async () => await this.#redis.set(dbscSessionKey(this.#prefix, sessionId), record, 'PX', ttlMs))
  }

  async getSessionKey (sessionId: string): Promise<string | null> {
    return await failFast(this.#redis, this.#timeoutMs, async () => await this.#redis.get(dbscSessionKey(this.#prefix, sessionId)))
  }
}
