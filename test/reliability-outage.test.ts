/**
 * Reliability (issue 6, item 1): a Redis outage under load.
 *
 * Two app instances (each its own ioredis client, real HTTP on 127.0.0.1) share one redis-server
 * with `appendonly yes` + `appendfsync always`. A bounded load of mixed login, refresh,
 * authenticate (GET /me) and authenticateSession (GET /me/strict) runs against both; Redis is
 * killed (SIGKILL) for 3 s, then started again on the same port and data dir. Asserted:
 *
 * - during the outage refresh and login answer 503 AUTH_STORE_UNAVAILABLE, fast (within the
 *   command timeout), and GET /me keeps answering 200;
 * - nothing answers 500 or any 5xx but 503, nothing hangs, every request completes;
 * - after the restart service comes back by itself (first 200 refresh) within 5 s;
 * - nothing is lost: every session alive at the outage refreshes again afterwards with the
 *   cookie its client held (rotation, or the grace window when the rotation ran but its answer
 *   was lost), no refresh ever answers 401, no reuse is detected.
 *
 * Short mode (CI): 16 users, 2 s load, 3 s outage, 5 s load. RELIABILITY_LONG=1: 32 users and
 * three outages in a row with longer load between them.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { buildApp, type TestUser } from './helpers/build-app.js'
import { latency, Recorder, runWorkers, tally, trackLateCommands, type Chain, type LateCommand, type Sample } from '../support/load.js'
import { round } from '../support/stats.js'
import { mulberry32 } from './helpers/random.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const LONG = process.env.RELIABILITY_LONG === '1'
const CONFIG = LONG
  ? { workers: 32, preMs: 10_000, outageMs: 3_000, betweenMs: 10_000, postMs: 15_000, outages: 3 }
  : { workers: 16, preMs: 2_000, outageMs: 3_000, betweenMs: 0, postMs: 5_000, outages: 1 }
/** The plugin's default command timeout (SPEC 3). */
const COMMAND_TIMEOUT_MS = 1_000
/**
 * A 503 must come within the command timeout; the margin is for this shared, noisy 2-core machine,
 * where the load generator, both apps and Redis share one event loop and two cores. A killed Redis
 * refuses connections, so the expected 503 is immediate (runs here: p99 about 300 ms under this
 * load, max about 330 ms): the bound is over 3x that plus a second, and still tells a timeout
 * from a wait for Redis to come back (3 s).
 */
const FAIL_FAST_BOUND_MS = COMMAND_TIMEOUT_MS + 1_000
/** No request, whatever happens, takes longer than this (a hang would). */
const MAX_LATENCY_MS = 5_000
/** A request that has not answered after this long is recorded as a hang (status 0). */
const HANG_MS = 10_000
/** SPEC 3 / issue 6: service comes back within 5 s of Redis, without restarting the apps. */
const RECOVERY_BOUND_MS = 5_000

const users: TestUser[] = Array.from({ length: CONFIG.workers }, (_, i) => ({
  id: `u-load-${i}`, username: `load-${i}`, password: `load-password-${i}`, roles: ['user']
}))

interface Outage {
  /** recorder times: SIGKILL sent, process gone, start() called, Redis answering again */
  stop: number
  stopped: number
  start: number
  started: number
}

t.test('Redis outage under load: 503 fast, /me 200, no 500, no hang, back within 5 s, nothing lost', async (t) => {
  const server = await redisForTest(t, { allowExternal: false, appendonly: true })
  const prefix = uniquePrefix('outage')
  // Each instance its own client, as separate processes would have. An app listens for 'error'
  // (ioredis prints every reconnect failure otherwise); we count them.
  let clientErrors = 0
  const late: LateCommand[][] = []
  const apps = await Promise.all([0, 1].map(async () => {
    const redis = await connectRedis(t, server)
    redis.on('error', () => { clientErrors++ })
    const built = await buildApp(t, { users, options: { redis, prefix } })
    late.push(trackLateCommands(redis, ['refreshSessionsRotateBuffer', 'refreshSessionsCreate'], COMMAND_TIMEOUT_MS))
    return built
  }))
  const bases: string[] = []
  for (const { app } of apps) {
    await app.listen({ port: 0, host: '127.0.0.1' })
    bases.push(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`)
  }

  const recorder = new Recorder()
  const outages: Outage[] = []
  let done = false
  const timeline = (async () => {
    try {
      await sleep(CONFIG.preMs)
      for (let i = 0; i < CONFIG.outages; i++) {
        if (i > 0) await sleep(CONFIG.betweenMs)
        const stop = recorder.now()
        await server.stop()
        const stopped = recorder.now()
        await sleep(CONFIG.outageMs)
        const start = recorder.now()
        await server.start()
        outages.push({ stop, stopped, start, started: recorder.now() })
      }
      await sleep(CONFIG.postMs)
    } finally {
      done = true
    }
  })()
  const plannedMs = CONFIG.preMs + CONFIG.outages * CONFIG.outageMs + (CONFIG.outages - 1) * CONFIG.betweenMs + CONFIG.postMs
  const loaded = await runWorkers({
    users: users.map(({ username, password }) => ({ username, password })),
    bases,
    recorder,
    hangMs: HANG_MS,
    plan: { protectedRequests: true, reloginRate: 0.05, thinkMs: 0, backoffMs: 50 },
    until: () => done,
    maxMs: plannedMs + 20_000,
    random: mulberry32(6)
  })
  await timeline
  const { samples } = recorder
  t.equal(outages.length, CONFIG.outages, 'the timeline ran to its end')

  // ---------------------------------------------------------------- nothing but 2xx/4xx/503
  const hangs = samples.filter((s) => s.status === 0)
  const networkErrors = samples.filter((s) => s.status === -1)
  const status500 = samples.filter((s) => s.status === 500)
  const otherServerErrors = samples.filter((s) => s.status >= 500 && s.status !== 503)
  const bad503 = samples.filter((s) => s.status === 503 && s.code !== 'AUTH_STORE_UNAVAILABLE')
  t.equal(hangs.length, 0, 'no request hung', { hangs: hangs.slice(0, 5) })
  t.equal(networkErrors.length, 0, 'no connection was refused or reset', { errors: networkErrors.slice(0, 5) })
  t.equal(status500.length, 0, 'nothing answered 500', { samples: status500.slice(0, 5) })
  t.equal(otherServerErrors.length, 0, 'no 5xx other than 503', { samples: otherServerErrors.slice(0, 5) })
  t.equal(bad503.length, 0, 'every 503 carries the code AUTH_STORE_UNAVAILABLE', { samples: bad503.slice(0, 5) })
  const slowest = latency(samples)
  t.ok(slowest.max <= MAX_LATENCY_MS, `every request completed, the slowest in ${slowest.max} ms (bound ${MAX_LATENCY_MS})`)

  // ---------------------------------------------------------------- during the outages
  const inside = (s: Sample, o: Outage): boolean => s.at >= o.stopped && s.at + s.ms <= o.start
  const during = samples.filter((s) => outages.some((o) => inside(s, o)))
  const duringStore = during.filter((s) => s.op === 'refresh' || s.op === 'login')
  t.ok(during.filter((s) => s.op === 'refresh').length > 0 && during.filter((s) => s.op === 'login').length > 0, 'refresh and login were tried during the outage')
  const storeNot503 = duringStore.filter((s) => s.status !== 503)
  t.equal(storeNot503.length, 0, 'during the outage every refresh and login answered 503', { samples: storeNot503.slice(0, 5) })
  const all503 = samples.filter((s) => s.status === 503)
  const latency503 = latency(all503)
  t.ok(latency503.max <= FAIL_FAST_BOUND_MS, `503s came fast: max ${latency503.max} ms, p99 ${latency503.p99} ms (command timeout ${COMMAND_TIMEOUT_MS} ms, bound ${FAIL_FAST_BOUND_MS})`)
  const meDuring = during.filter((s) => s.op === 'me')
  t.ok(meDuring.length > 0, `GET /me was tried during the outage (${meDuring.length} times)`)
  const meNot200 = samples.filter((s) => s.op === 'me' && s.status !== 200)
  t.equal(meNot200.length, 0, 'GET /me (authenticate, no store) answered 200 throughout, outage included', { samples: meNot200.slice(0, 5) })
  // authenticateSession needs the store once its revocation feed is down: 503 is right, a 401
  // would log a live session out.
  const strictOther = samples.filter((s) => s.op === 'strict' && s.status !== 200 && s.status !== 503)
  t.equal(strictOther.length, 0, 'GET /me/strict (authenticateSession) answered 200 or 503, never 401', { samples: strictOther.slice(0, 5) })

  // ---------------------------------------------------------------- recovery
  const recoveries = outages.map((o) => {
    const after = samples.filter((s) => s.op === 'refresh' && s.status === 200 && s.at >= o.stop)
    const firstOk = after.reduce<number | null>((min, s) => min === null || s.at + s.ms < min ? s.at + s.ms : min, null)
    // Every worker's first 200 refresh after the restart: when the last one got service back.
    const perWorker = new Map<number, number>()
    for (const s of after) perWorker.set(s.worker, Math.min(perWorker.get(s.worker) ?? Infinity, s.at + s.ms))
    const allWorkers = perWorker.size === users.length ? Math.max(...perWorker.values()) : null
    return {
      fromStarted: firstOk === null ? null : firstOk - o.started,
      fromStartCall: firstOk === null ? null : firstOk - o.start,
      allWorkersFromStarted: allWorkers === null ? null : allWorkers - o.started
    }
  })
  for (const [i, r] of recoveries.entries()) {
    t.ok(r.fromStarted !== null && r.fromStarted <= RECOVERY_BOUND_MS, `outage ${i + 1}: first 200 refresh ${round(r.fromStarted ?? NaN)} ms after Redis answered again (${round(r.fromStartCall ?? NaN)} ms after start() was called)`)
    t.ok(r.allWorkersFromStarted !== null && r.allWorkersFromStarted <= RECOVERY_BOUND_MS, `outage ${i + 1}: every user refreshed again within ${round(r.allWorkersFromStarted ?? NaN)} ms`)
  }

  // ---------------------------------------------------------------- nothing lost
  const chains = loaded.flatMap((u) => u.chains)
  const lost = chains.filter((c) => c.lost !== null)
  const unresolved = chains.filter((c) => c.pending)
  const wrongSession = chains.reduce((n, c) => n + c.wrongSession, 0)
  const aliveAt = (c: Chain, at: number): boolean => c.createdAt < at && (c.supersededAt === null || c.supersededAt > at) && (c.lost === null || c.lost.at > at)
  const notContinued = outages.flatMap((o) => chains.filter((c) => aliveAt(c, o.stop) && (c.lastOkAt === null || c.lastOkAt < o.started)))
  t.equal(lost.length, 0, 'no refresh chain was lost (no 401 from refresh)', { lost: lost.slice(0, 5) })
  t.equal(unresolved.length, 0, 'no chain was left retrying a 503 at the end', { unresolved: unresolved.slice(0, 5) })
  t.equal(wrongSession, 0, 'every 200 refresh answered for the session of its cookie')
  t.equal(notContinued.length, 0, 'every session alive at the outage refreshed again after the restart (appendonly: nothing lost)', { chains: notContinued.slice(0, 5) })
  const lateRan = late.flat().filter((l) => !l.outcome.startsWith('error') && l.ms > COMMAND_TIMEOUT_MS)
  t.equal(lateRan.length, 0, 'no store command ran after its request had answered 503', { late: lateRan.slice(0, 5) })
  const commandErrors: Record<string, number> = {}
  for (const l of late.flat()) commandErrors[l.outcome] = (commandErrors[l.outcome] ?? 0) + 1
  const reuse = apps.flatMap(({ events }) => events.onReuseDetected ?? [])
  t.equal(reuse.length, 0, 'no reuse was detected: every retry of a 503 converged')
  const refreshEvents = apps.flatMap(({ events }) => (events.onRefresh ?? []) as Array<{ grace: boolean }>)
  const graceReplies = refreshEvents.filter((e) => e.grace).length
  const recoveredAfter503 = chains.reduce((n, c) => n + c.recoveredAfter503, 0)
  t.ok(recoveredAfter503 >= outages.length, `chains retried their cookie after a 503 and refreshed (${recoveredAfter503} times)`)

  // ---------------------------------------------------------------- report
  const elapsedS = round(recorder.now() / 1000, 1)
  const byOp = (op: string): number => samples.filter((s) => s.op === op).length
  t.comment(`outage under load (${LONG ? 'long' : 'short'} mode): ${samples.length} requests in ${elapsedS} s, ${users.length} concurrent users over 2 instances, ${outages.length} outage(s) of ${CONFIG.outageMs / 1000} s`)
  t.comment(`  requests: login ${byOp('login')}, refresh ${byOp('refresh')}, /me ${byOp('me')}, /me/strict ${byOp('strict')}; during the outage(s): ${during.length}`)
  t.comment(`  503: ${all503.length} (latency p50 ${latency503.p50} ms, p99 ${latency503.p99} ms, max ${latency503.max} ms); 500: ${status500.length}; other 5xx: ${otherServerErrors.length}; hangs: ${hangs.length}; network errors: ${networkErrors.length}; ioredis client errors: ${clientErrors}`)
  t.comment(`  store commands (rotate, create) that failed or answered late: ${JSON.stringify(commandErrors)}`)
  t.comment(`  latency all: p50 ${slowest.p50} ms, p99 ${slowest.p99} ms, max ${slowest.max} ms`)
  for (const [i, r] of recoveries.entries()) {
    t.comment(`  recovery ${i + 1}: first 200 refresh ${round((r.fromStarted ?? NaN) / 1000, 2)} s after Redis answered (${round((r.fromStartCall ?? NaN) / 1000, 2)} s after start()), all users ${round((r.allWorkersFromStarted ?? NaN) / 1000, 2)} s`)
  }
  t.comment(`  sessions: ${chains.length} chains, lost ${lost.length}, unresolved ${unresolved.length}; retries after a 503 that refreshed: ${recoveredAfter503}; grace replies: ${graceReplies}; reuse detected: ${reuse.length}`)
  t.comment(`  by status: ${JSON.stringify(tally(samples))}`)
})
