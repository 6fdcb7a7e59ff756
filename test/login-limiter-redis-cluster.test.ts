import t from 'tap'
import { RedisLoginLimiter } from '../src/login-limiter/redis-limiter.js'
import { loginLimiterContract } from './helpers/login-limiter-contract.js'
import { redisClusterForTest } from '../support/redis-harness.js'
import { connectCluster, uniquePrefix } from './helpers/redis-clients.js'

const cluster = await redisClusterForTest(t, { masters: 3 })
loginLimiterContract(t, async (limits, count = 1) => {
  const prefix = uniquePrefix('login')
  const clients = await Promise.all(Array.from({ length: count }, () => connectCluster(t, cluster)))
  return clients.map((redis) => new RedisLoginLimiter({ redis, prefix, limits }))
})
