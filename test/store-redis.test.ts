import t from 'tap'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, redisStores } from './helpers/redis-clients.js'
import { storeContract } from './helpers/store-contract.js'

const server = await redisForTest(t)
storeContract(t, (limits, count = 1) => redisStores(t, () => connectRedis(t, server), limits, count))
