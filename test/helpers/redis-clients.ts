/** ioredis clients for tests, configured the way the README tells users to: fail fast, reconnect forever. */
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { RedisStore } from '../../src/redis/redis-store.js'
import { SessionCore } from '../../src/session/session-core.js'
import type { SessionLimits } from '../../src/session/store.js'

interface Teardown { teardown (fn: () => unknown): void }

export const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => 100
}

/** A key prefix of its own for every store a test makes: tests never flush, never collide. */
export function uniquePrefix (label = 'test'): string {
  return `rs-${label}-${randomBytes(4).toString('hex')}:`
}

export async function connectRedis (t: Teardown, server: { url: string }, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(server.url, { ...FAIL_FAST, ...options })
  t.teardown(() => redis.disconnect())
  await once(redis, 'ready')
  return redis
}

export async function connectCluster (t: Teardown, cluster: { nodes: Array<{ host: string, port: number }> }): Promise<Cluster> {
  const redis = new Cluster(cluster.nodes, { enableOfflineQueue: false, redisOptions: FAIL_FAST, clusterRetryStrategy: () => 100 })
  t.teardown(() => redis.disconnect())
  await once(redis, 'ready')
  return redis
}

/** `count` session cores on RedisStores sharing one prefix, each on its own connection, like separate app instances. */
export async function redisStores (t: Teardown, connect: () => Promise<Redis | Cluster>, limits: SessionLimits, count: number): Promise<SessionCore[]> {
  const prefix = uniquePrefix()
  const clients = await Promise.all(Array.from({ length: count }, connect))
  return clients.map((redis) => new SessionCore(new RedisStore({ redis, prefix, ...limits })))
}
