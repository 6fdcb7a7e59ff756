import t from 'tap'
import { redisClusterForTest } from '../support/redis-harness.js'
import { connectCluster, redisStores } from './helpers/redis-clients.js'
import { storeContract } from './helpers/store-contract.js'

const cluster = await redisClusterForTest(t, { masters: 3 })
storeContract(t, (limits, count = 1) => redisStores(t, () => connectCluster(t, cluster), limits, count))
