/** test/store-redis.test.ts on an ioredis 6 client (the `ioredis-6` alias of the dev dependencies). */
import t from 'tap'
import type { Redis as Redis5 } from 'ioredis'
import { Redis } from 'ioredis-6'
import { redisForTest } from '../support/redis-harness.js'
import { redisStores } from './helpers/redis-clients.js'
import { storeContract } from './helpers/store-contract.js'

const server = await redisForTest(t)
storeContract(t, (limits, count = 1) => redisStores(t, connectRedis6, limits, count))

/** As helpers/redis-clients' connectRedis (fail fast, reconnect forever), with ioredis 6. */
async function connectRedis6 (): Promise<Redis5> {
  const redis = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 })
  t.teardown(() => redis.disconnect())
  await new Promise((resolve, reject) => { redis.once('ready', resolve).once('error', reject) })
  // The test helpers are typed on the ioredis the project compiles against (5); the client is 6.
  return redis as unknown as Redis5
}
