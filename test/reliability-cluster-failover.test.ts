/**
 * Reliability (issue 6, item 2): Redis Cluster failover under refresh load.
 *
 * A 3-master + 3-replica Cluster (cluster-node-timeout 2000 ms in the harness), one app on an
 * ioredis Cluster client, users spread over the three shards (their hash tag `{b64url(userId)}`
 * picks the slot). Every user refreshes in a loop (real HTTP, keep-alive); one master is killed
 * (SIGKILL). Measured and asserted:
 *
 * - users on the other two shards never see anything but 200;
 * - users on the killed shard see 503 AUTH_STORE_UNAVAILABLE (never a 500, never a hang) until
 *   its replica is promoted and ioredis follows, then 200 again, within RECOVERY_BOUND_MS;
 * - their sessions are intact on the promoted replica: each chain continues with the cookie its
 *   client held. A rotation the master acknowledged but had not yet replicated would come back as
 *   401 (the client's newest token is unknown to the replica): counted and reported as lost.
 *
 * What it took (measured with ioredis 5.11 / Redis 7.0 on this machine):
 * - `cluster-require-full-coverage no` on every node. With the default `yes`, every master
 *   answers CLUSTERDOWN from the moment the dead master is flagged FAIL until its replica is
 *   promoted (~1.2 s here): users on the healthy shards got 503s (8-11 per failover).
 * - ioredis `retryDelayOnFailover: 0, retryDelayOnClusterDown: 0` (FAILOVER_CLUSTER_OPTIONS).
 *   With the defaults (100 ms, up to 16 tries) ioredis keeps re-sending a command after the plugin
 *   has answered 503, and the rotation runs later anyway (measured: 10 such late rotations in one
 *   failover; in another, 3 sessions on HEALTHY shards were lost with 401 AUTH_REFRESH_INVALID).
 *   The first test below reproduces that case deterministically; the store now answers such a
 *   late duplicate `stale` (refused, session untouched) instead of treating it as reuse.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster, Redis } from 'ioredis'
import { buildApp, type TestUser } from './helpers/build-app.js'
import { latency, Recorder, runWorkers, tally, trackLateCommands, type Sample } from '../support/load.js'
import { round } from '../support/stats.js'
import { redisClusterForTest } from '../support/redis-harness.js'
import { connectCluster, FAIL_FAST, uniquePrefix } from './helpers/redis-clients.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'

// ioredis's own slot function (a dependency of ioredis, without type declarations).
const keySlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number

const USERS_PER_SHARD = 4
/** Load before the kill, and after the killed shard is back. */
const BEFORE_MS = 2_000
const AFTER_MS = 3_000
/**
 * The killed shard must be back within this long after the kill: cluster-node-timeout (2 s) to
 * flag the master FAIL, the replica's election delay (0.5-1 s), then ioredis refreshing its slot
 * map; the rest is margin for this shared, noisy 2-core machine.
 */
const RECOVERY_BOUND_MS = 15_000
/**
 * The plugin's default command timeout, and how much later a 503 may come on this machine: a
 * killed master refuses connections, so the expected 503 is immediate (runs here: max about
 * 350 ms under this load); the bound is over 3x that plus a second.
 */
const COMMAND_TIMEOUT_MS = 1_000
const FAIL_FAST_BOUND_MS = COMMAND_TIMEOUT_MS + 1_000
const HANG_MS = 10_000

/**
 * The ioredis Cluster options this test found necessary (the README should tell users):
 * - enableOfflineQueue false: fail fast (as for a single Redis);
 * - retryDelayOnFailover 0 and retryDelayOnClusterDown 0: ioredis's defaults (100 ms) queue a
 *   failed command and send it again up to maxRedirections (16) times, i.e. for longer than the
 *   plugin's command timeout: the request answers 503, and the rotation may still run afterwards
 *   (measured: 10 such late rotations in one failover). With 0 a command fails at once and the
 *   slot map is refreshed on the next MOVED; recovery after the promotion still takes ~0.2 s.
 */
const FAILOVER_CLUSTER_OPTIONS = { enableOfflineQueue: false, retryDelayOnFailover: 0, retryDelayOnClusterDown: 0, clusterRetryStrategy: () => 100 } as const

function userKeyOf (prefix: string, userId: string): string {
  return `${prefix}{${Buffer.from(userId, 'utf8').toString('base64url')}}:sessions`
}

async function admin<T> (node: { host: string, port: number }, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(node.port, node.host, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return await fn(redis)
  } finally {
    redis.disconnect()
  }
}

const cluster = await redisClusterForTest(t, { masters: 3, replicasPerMaster: 1 })
// What it takes for the other shards to keep working while one fails over (measured: see the
// report in the failover test): by default (`yes`) every master refuses every command with
// CLUSTERDOWN from the moment the dead master is flagged FAIL until its replica is promoted
// (~1.2 s here, longer than the 1 s command timeout). Operators should set it on every node.
for (const node of [...cluster.masters, ...cluster.replicas]) {
  await admin(node, (redis) => redis.config('SET', 'cluster-require-full-coverage', 'no'))
}

t.test('a rotation that runs after its request answered 503 must not revoke the session', async (t) => {
  const limits = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }
  const redis = await connectCluster(t, cluster)
  const store = new SessionCore(new RedisStore({ redis, prefix: uniquePrefix('late'), commandTimeoutMs: COMMAND_TIMEOUT_MS, ...limits }))
  const { token: t1 } = await store.create('u-late')

  // A deterministic model of ioredis's retry queues (retryDelayOnFailover, retryDelayOnClusterDown,
  // retryDelayOnTryAgain: 100 ms each, up to 16 times): with ioredis's defaults the failover below
  // measured rotations that ran up to ~1.5 s after the call, i.e. after the request had answered
  // 503. Here the next rotate command is sent 1.5 s late, by the client, as that queue does.
  const target = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  let holdNext = true
  const send = target.refreshSessionsRotateBuffer!
  let heldBack: string | null = null
  target.refreshSessionsRotateBuffer = function (this: unknown, ...args: unknown[]) {
    if (!holdNext) return send.apply(this, args)
    holdNext = false
    return sleep(1_500).then(() => send.apply(this, args)).then((reply) => {
      heldBack = String(Array.isArray(reply) ? reply[0] : reply)
      return reply
    })
  }

  await t.rejects(store.rotate(t1), { code: 'AUTH_STORE_UNAVAILABLE' }, 'the refresh answers 503 at the command timeout')
  // The client retries with the cookie it holds (the held-back command has not run yet), gets a
  // new token, and refreshes again before the held-back command finally runs.
  const second = await store.rotate(t1)
  t.equal(second.outcome, 'rotated', 'the retry with the same cookie rotates')
  const third = second.outcome === 'rotated' ? await store.rotate(second.token) : second
  t.equal(third.outcome, 'rotated', 'the next refresh rotates')
  await sleep(1_000) // the held-back rotation of t1 has run by now
  const fourth = third.outcome === 'rotated' ? await store.rotate(third.token) : third
  t.equal(fourth.outcome, 'rotated', 'the session is still alive: a command whose caller gave up changed nothing')
  t.equal(heldBack, 'late', 'the held-back command ran past its deadline and wrote nothing')
  t.comment(`late rotation: 503, then ${second.outcome}, ${third.outcome}; the held-back command answered ${String(heldBack)}; the next refresh: ${fourth.outcome}`)
})

t.test('Cluster failover under refresh load: other shards never fail, the killed shard comes back with its sessions', async (t) => {
  const prefix = uniquePrefix('failover')
  // The README says only `enableOfflineQueue: false`; the retry delays are what this test found
  // necessary (see FAILOVER_CLUSTER_OPTIONS and the header).
  const redis = new Cluster(cluster.nodes, { ...FAILOVER_CLUSTER_OPTIONS, redisOptions: FAIL_FAST })
  let clientErrors = 0
  redis.on('error', () => { clientErrors++ })
  redis.on('node error', () => { clientErrors++ })
  t.teardown(() => redis.disconnect())
  await new Promise<void>((resolve, reject) => { redis.once('ready', resolve); redis.once('error', reject) })

  // Users on every shard: the master that serves each user's hash tag.
  const masterOf = (userId: string): string => redis.slots[keySlot(userKeyOf(prefix, userId))]![0]!
  const masterKeys = cluster.masters.map((m) => `${m.host}:${m.port}`)
  const users: TestUser[] = []
  const shardOf: string[] = []
  const perMaster = new Map<string, number>(masterKeys.map((k) => [k, 0]))
  for (let i = 0; users.length < USERS_PER_SHARD * masterKeys.length && i < 10_000; i++) {
    const id = `u-shard-${i}`
    const master = masterOf(id)
    if ((perMaster.get(master) ?? USERS_PER_SHARD) >= USERS_PER_SHARD) continue
    perMaster.set(master, perMaster.get(master)! + 1)
    users.push({ id, username: `shard-${i}`, password: `shard-password-${i}`, roles: ['user'] })
    shardOf.push(master)
  }
  t.same([...perMaster.values()], masterKeys.map(() => USERS_PER_SHARD), `${USERS_PER_SHARD} users on each of the ${masterKeys.length} masters`)

  const { app, events } = await buildApp(t, { users, options: { redis, prefix } })
  const late = trackLateCommands(redis, ['refreshSessionsRotateBuffer'], COMMAND_TIMEOUT_MS)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const victim = cluster.masters[0]!
  const victimKey = `${victim.host}:${victim.port}`
  const recorder = new Recorder()
  let killedAt = -1
  let promotedAt: number | null = null
  let done = false

  // Watch the replicas (own plain connections, not the app's): when one of them becomes master.
  const watchers = cluster.replicas.map((r) => new Redis(r.port, r.host, { ...FAIL_FAST, lazyConnect: false }))
  for (const w of watchers) { w.on('error', () => {}); t.teardown(() => w.disconnect()) }

  const killedShardBack = (): boolean => {
    // Every user of the killed shard has had a 200 refresh answered after the kill.
    const back = new Set(recorder.samples.filter((s) => s.op === 'refresh' && s.status === 200 && s.at >= killedAt && shardOf[s.worker] === victimKey).map((s) => s.worker))
    return back.size === USERS_PER_SHARD
  }
  const timeline = (async () => {
    try {
      await sleep(BEFORE_MS)
      killedAt = recorder.now()
      await victim.stop()
      const bound = Date.now() + RECOVERY_BOUND_MS + 5_000
      while (Date.now() < bound && (promotedAt === null || !killedShardBack())) {
        if (promotedAt === null) {
          const roles = await Promise.all(watchers.map((w) => w.role().catch(() => null)))
          if (roles.some((role) => Array.isArray(role) && role[0] === 'master')) promotedAt = recorder.now()
        }
        await sleep(100)
      }
      await sleep(AFTER_MS)
    } finally {
      done = true
    }
  })()
  const loaded = await runWorkers({
    users: users.map(({ username, password }) => ({ username, password })),
    bases: [base],
    recorder,
    hangMs: HANG_MS,
    plan: { protectedRequests: false, reloginRate: 0, thinkMs: 10, backoffMs: 50 },
    until: () => done,
    maxMs: BEFORE_MS + RECOVERY_BOUND_MS + AFTER_MS + 20_000
  })
  await timeline
  const { samples } = recorder
  const refreshes = samples.filter((s) => s.op === 'refresh')
  const onVictim = (s: Sample): boolean => shardOf[s.worker] === victimKey

  // ---------------------------------------------------------------- no 500, no hang
  const broken = samples.filter((s) => s.status <= 0 || (s.status >= 500 && s.status !== 503) || (s.status === 503 && s.code !== 'AUTH_STORE_UNAVAILABLE'))
  t.equal(broken.length, 0, 'no 500, no other 5xx, no hang, no network error; every 503 is AUTH_STORE_UNAVAILABLE', { samples: broken.slice(0, 5) })
  const all503 = latency(samples.filter((s) => s.status === 503))
  t.ok(all503.max <= FAIL_FAST_BOUND_MS, `503s came within the command timeout: max ${all503.max} ms (bound ${FAIL_FAST_BOUND_MS})`)

  // ---------------------------------------------------------------- the other shards
  const othersAfterKill = refreshes.filter((s) => !onVictim(s) && s.at + s.ms >= killedAt)
  const othersFailed = othersAfterKill.filter((s) => s.status !== 200)
  t.ok(othersAfterKill.length > 0, `the other shards were refreshed during the failover (${othersAfterKill.length} times)`)
  t.equal(othersFailed.length, 0, 'sessions on the other shards never failed during the failover', { samples: othersFailed.slice(0, 5), tally: tally(othersFailed) })
  const othersLatency = latency(othersAfterKill)

  // ---------------------------------------------------------------- the killed shard
  const victimAfterKill = refreshes.filter((s) => onVictim(s) && s.at + s.ms >= killedAt)
  const victimFailed = victimAfterKill.filter((s) => s.status !== 200)
  const firstFail = victimFailed.length === 0 ? null : Math.min(...victimFailed.map((s) => s.at))
  const lastFailEnd = victimFailed.length === 0 ? null : Math.max(...victimFailed.map((s) => s.at + s.ms))
  // Per user: the first 200 answered after its last failure.
  const backAt: number[] = []
  for (let worker = 0; worker < users.length; worker++) {
    if (shardOf[worker] !== victimKey) continue
    const mine = victimAfterKill.filter((s) => s.worker === worker)
    const lastFail = Math.max(killedAt, ...mine.filter((s) => s.status !== 200).map((s) => s.at + s.ms))
    const ok = mine.find((s) => s.status === 200 && s.at >= lastFail)
    if (ok !== undefined) backAt.push(ok.at + ok.ms)
  }
  const recoveredAt = backAt.length === USERS_PER_SHARD ? Math.max(...backAt) : null
  const recoveryMs = recoveredAt === null ? null : recoveredAt - killedAt
  t.ok(victimFailed.length > 0, `the killed shard's users saw the outage (${victimFailed.length} refreshes answered ${JSON.stringify(tally(victimFailed))})`)
  t.ok(recoveryMs !== null && recoveryMs <= RECOVERY_BOUND_MS, `every user of the killed shard refreshed again ${round((recoveryMs ?? NaN) / 1000, 2)} s after the kill (bound ${RECOVERY_BOUND_MS / 1000} s)`)
  t.ok(promotedAt !== null, `a replica was promoted ${round(((promotedAt ?? NaN) - killedAt) / 1000, 2)} s after the kill`)

  // ---------------------------------------------------------------- sessions intact
  const chains = loaded.flatMap((u) => u.chains)
  const victimChains = chains.filter((c) => shardOf[c.worker] === victimKey)
  const lost = victimChains.filter((c) => c.lost !== null)
  const otherLost = chains.filter((c) => shardOf[c.worker] !== victimKey && c.lost !== null)
  const notContinued = victimChains.filter((c) => c.createdAt < killedAt && (c.lastOkAt === null || c.lastOkAt < killedAt || c.pending))
  t.equal(otherLost.length, 0, 'no session lost on the other shards')
  // A rotation acknowledged by the master but not yet replicated when it died (Redis replication is
  // asynchronous) would leave the client holding a token the promoted replica never saw: 401
  // AUTH_REFRESH_INVALID and a logged-out user. On loopback the replica is microseconds behind,
  // so we expect none; if this fails, that is what happened (see the comment below the test).
  t.equal(lost.length, 0, 'no session of the killed shard was lost (the replica had every acknowledged rotation)', { lost })
  t.equal(notContinued.length, 0, 'every session of the killed shard refreshed again after the failover with the cookie its client held', { chains: notContinued })
  const lateRan = late.filter((l) => !l.outcome.startsWith('error') && l.ms > COMMAND_TIMEOUT_MS)
  t.equal(lateRan.length, 0, 'no rotate command ran after its request had answered 503 (ioredis did not retry behind the plugin)', { late: lateRan.slice(0, 5) })
  const reuse = events.onReuseDetected ?? []
  const grace = ((events.onRefresh ?? []) as Array<{ grace: boolean }>).filter((e) => e.grace).length
  t.equal(reuse.length, 0, 'no reuse detected')

  // ---------------------------------------------------------------- report
  const s = (ms: number | null): string => ms === null ? 'n/a' : `${round(ms / 1000, 2)} s`
  t.comment(`cluster failover: ${samples.length} requests in ${round(recorder.now() / 1000, 1)} s, ${users.length} users (${USERS_PER_SHARD} per shard, 1 app), killed master ${victimKey}`)
  t.comment(`  killed shard: first failure ${s(firstFail === null ? null : firstFail - killedAt)} after the kill, last failure answered ${s(lastFailEnd === null ? null : lastFailEnd - killedAt)} after it => ${s(firstFail === null || lastFailEnd === null ? null : lastFailEnd - firstFail)} of 503s; replica promoted ${s(promotedAt === null ? null : promotedAt - killedAt)} after the kill; every user back ${s(recoveryMs)} after the kill`)
  t.comment(`  killed shard answers after the kill: ${JSON.stringify(tally(victimAfterKill))}`)
  t.comment(`  other shards after the kill: ${othersAfterKill.length} refreshes, ${othersFailed.length} not 200, latency p50 ${othersLatency.p50} ms, p99 ${othersLatency.p99} ms, max ${othersLatency.max} ms`)
  t.comment(`  503 latency: p50 ${all503.p50} ms, p99 ${all503.p99} ms, max ${all503.max} ms; ioredis error events: ${clientErrors}`)
  const lateTally: Record<string, number> = {}
  for (const l of late) lateTally[l.outcome] = (lateTally[l.outcome] ?? 0) + 1
  t.comment(`  rotate commands that failed, or answered after the ${COMMAND_TIMEOUT_MS} ms timeout: ${late.length} ${JSON.stringify(lateTally)}; slowest ${late.length === 0 ? 0 : Math.max(...late.map((l) => l.ms))} ms`)
  t.comment(`  sessions: ${chains.length} chains, lost on the killed shard ${lost.length}${lost.length > 0 ? ` (${lost.map((c) => c.lost!.code).join(', ')})` : ''}, lost elsewhere ${otherLost.length}; retries after a 503 that refreshed: ${chains.reduce((n, c) => n + c.recoveredAfter503, 0)}; grace replies ${grace}; reuse detected ${reuse.length}`)
})
