/**
 * Issue 6, item 3: the randomised race model (see helpers/race-model.ts for what is checked).
 * Two store instances on separate connections (like two app instances) on one Redis, on a
 * 3-master Cluster, and the MemoryStore (one instance twice), with a real 150 ms grace window.
 *
 *   RACE_SEED=<n>  reproduce a run's choices (the seed is printed with every run and failure)
 *   RACE_LONG=1    ten times the batches (~2 min per backend: run it with a longer timeout,
 *                  `RACE_LONG=1 npx tap --timeout=1800 test/race-model.test.ts`)
 */
import t, { type Test } from 'tap'
import { MemoryStore } from '../src/session/memory-store.js'
import { SessionCore } from '../src/session/session-core.js'
import type { SessionLimits } from '../src/session/store.js'
import { RaceModel, raceSeed, type RaceStats } from './helpers/race-model.js'
import { redisClusterForTest, redisForTest } from '../support/redis-harness.js'
import { connectCluster, connectRedis, redisStores } from './helpers/redis-clients.js'

const LONG = process.env.RACE_LONG === '1'
const BATCHES = LONG ? 1500 : 150
const GRACE_MS = 150
const CAP = 3
const USERS = 3
const LIMITS: SessionLimits = { idleTtlMs: 3_600_000, absoluteTtlMs: 7_200_000, reuseGraceMs: GRACE_MS, maxSessionsPerUser: CAP }
const seed = raceSeed()

t.comment(`race model: RACE_SEED=${seed}, ${BATCHES} batches per backend${LONG ? ' (RACE_LONG)' : ''}`)

async function race (t: Test, label: string, stores: SessionCore[]): Promise<void> {
  const model = new RaceModel(stores, { seed, batches: BATCHES, graceMs: GRACE_MS, cap: CAP, users: USERS, label }, label)
  const started = Date.now()
  const stats: RaceStats = await model.run()
  t.comment(`${label}: RACE_SEED=${seed}: ${stats.operations} operations in ${stats.batches} batches (${stats.storms} storms) on ${stats.sessions} sessions, ` +
    `${stats.overlappingPairs} overlapping same-session pairs, ${stats.orderedInBatch} ordered same-session pairs within batches, ${Date.now() - started} ms`)
  t.comment(`${label} outcomes: ${Object.entries(stats.outcomes).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`)
  t.comment(`${label} rotate by token choice: ${Object.entries(stats.rotateByTag).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`)
  for (const violation of stats.violations) t.fail(violation)
  t.equal(stats.violations.length, 0, `${label}: no violation of the model (RACE_SEED=${seed})`)
  // The run must have exercised what it claims to.
  for (const outcome of ['rotate:rotated', 'rotate:grace', 'rotate:reused-predecessor', 'rotate:reused-older', 'rotate:missing', 'rotate:unbound', 'logout:revoked', 'revoke:true', 'create:evicting']) {
    t.ok((stats.outcomes[outcome] ?? 0) > 0, `${label}: exercised ${outcome} (${stats.outcomes[outcome] ?? 0})`)
  }
  t.ok(stats.overlappingPairs > 100, `${label}: real races (${stats.overlappingPairs} overlapping pairs)`)
}

t.test('MemoryStore', async (t) => {
  const sessions = new SessionCore(new MemoryStore(LIMITS))
  t.teardown(() => sessions.close())
  await race(t, 'memory', [sessions, sessions])
})

t.test('RedisStore: two instances on one Redis', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  await race(t, 'redis', await redisStores(t, () => connectRedis(t, server), LIMITS, 2))
})

t.test('RedisStore: two instances on a 3-master Cluster', async (t) => {
  const cluster = await redisClusterForTest(t, { masters: 3 })
  await race(t, 'cluster', await redisStores(t, () => connectCluster(t, cluster), LIMITS, 2))
})
