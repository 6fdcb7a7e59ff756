/**
 * "Cost that does not grow" (issue 14): refresh, login and `authenticateSession` cost per request
 * at 1 000, 10 000, 100 000 and 1 000 000 live sessions (--scale-max lowers the largest), and the
 * session list against the user's own sessions (1, 10, 100) while 100 000 others exist.
 *
 * P3-floor runs as the reference (an EVALSHA of `return ARGV[1]`, a sign and a cookie: the same
 * Redis and machine, nothing that reads the keyspace) before the first path of each size and after
 * every path, and growth is judged on each path's cost relative to the mean of the references run
 * right before and right after it: a machine that got busier between two sizes moves both, a
 * keyspace that made a path dearer moves only the path. Two references a path, one of them shared
 * with the next path: a single reference run moves by a quarter on this machine, and took a
 * path's ratio with it.
 *
 * One redis-server of its own. The live sessions are real ones, created through the session core
 * on the RedisStore under the prefix the measured apps use (BENCH_PREFIX), one per user `fill-N`,
 * many creates in flight at once (ioredis writes them back to back: pipelined). Each path runs in
 * a scenario process of its own (bench/scenarios/p2, p3, s-login, s-list), as in bench/run.ts;
 * after each, the sessions its users made are deleted, so the count stays the filled one.
 *
 * Run alone: `npx tsx bench/scale.ts [--quick] [--scale-max 1000000]`; `npm run bench` runs it too.
 */
import { Redis } from 'ioredis'
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { sessionKeys } from '../src/redis/keys.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { startRedis } from '../support/redis-harness.js'
import { formatNumber } from '../support/stats.js'
import { USER_AGENT } from './redis-memory.js'
import { bearer, chain, DEFAULT_TOKENS, login, measure, type Measurement, type Scenario } from './lib/scenarios.js'
import type { TargetCheck } from './lib/report.js'
import { mainThreadProfile, summarizeProfile, type ProfileSummary } from './lib/profile.js'
import { REPO_ROOT } from './lib/spawn.js'

const PREFIX = 'scale:'
const IP = '203.0.113.45'
const LIMITS = { idleTtlMs: 7 * 86_400_000, absoluteTtlMs: 30 * 86_400_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }
const FILL_IN_FLIGHT = 2000
/** The filler's deadline per command: on a loaded machine thousands in flight can wait longer than the plugin's 1 s. */
const FILL_TIMEOUT_MS = 60_000
/** Sessions of the listing user, while LIST_OTHERS others exist. */
const LIST_SESSIONS = [1, 10, 100] as const
const LIST_OTHERS = 100_000
/** "Flat": the cost at the largest size at most this many times the cost at the smallest. */
export const FLAT_RATIO = 1.25

export const SCALE_SIZES = [1000, 10_000, 100_000] as const

export type ScalePath = 'refresh' | 'login' | 'authenticateSession' | 'list'
export const SCALE_PATHS: readonly ScalePath[] = ['refresh', 'login', 'authenticateSession', 'list']

export interface ScalePoint {
  /** Sessions filled before the path ran (the path's own users add theirs while it runs). */
  sessions: number
  /** DBSIZE when the path started: every key, records and per-user indexes. */
  keys: number
  paths: Partial<Record<ScalePath, Measurement>>
  /** P3-floor run right before and right after each path at this size: the references its cost is taken against. */
  references: Partial<Record<ScalePath, Measurement[]>>
}
export interface ListPoint { sessions: number, others: number, m: Measurement }
export interface ScaleProfile { path: ScalePath, sessions: number, file: string, measurement: Measurement, summary: ProfileSummary }
export interface ScaleResult {
  points: ScalePoint[]
  /** Paths whose cost grew past FLAT_RATIO, profiled at the largest size. */
  profiles: ScaleProfile[]
  list: ListPoint[]
  /** Sessions created per second while filling. */
  fillRate: number
  seconds: number
  failures: Array<{ what: string, message: string }>
}

const env = { BENCH_PREFIX: PREFIX }
const REFERENCE: Scenario = { id: 'P3-floor', file: 'p3-floor.ts', title: 'floor', redis: true, kind: 'http', load: chain }
function pathScenario (path: ScalePath, listSessions = 10): Scenario {
  switch (path) {
    case 'refresh':
      return { id: 'P3', file: 'p3-refresh.ts', title: 'refresh', redis: true, kind: 'http', load: chain, env }
    case 'authenticateSession':
      // With a store check on every request (P2-store): the path whose cost could grow with the
      // live sessions; the feed's steady state asks Redis nothing.
      return { id: 'P2', file: 'p2-authenticate-session.ts', title: 'authenticateSession', redis: true, kind: 'http', load: bearer, env: { ...env, BENCH_P2_TOKENS: 'before-feed' } }
    case 'login':
      return { id: 'P4', file: 's-login.ts', title: 'login (cheap argon2)', redis: true, kind: 'http', load: login, env }
    case 'list':
      return { id: 'P2', file: 's-list.ts', title: `GET /auth/sessions, ${listSessions} sessions`, redis: true, kind: 'http', load: (data) => ({ kind: 'bearer', path: '/auth/sessions', tokens: data.tokens! }), env: { ...env, BENCH_LIST_SESSIONS: String(listSessions) } }
  }
}

/** Deletes every session of the measured apps' users (`user-N` below `users`, and the listing user). */
async function dropAppSessions (redis: Redis, users: number): Promise<void> {
  const names = [...Array.from({ length: users }, (_, i) => `user-${i}`), 'user-list']
  for (let i = 0; i < names.length; i += 500) {
    const keys = names.slice(i, i + 500).map((name) => sessionKeys(PREFIX, name))
    // A user's only session lives in the index key itself (a string then, not a sorted set).
    const ids = await Promise.all(keys.map(async (k) => await redis.type(k.index) === 'zset' ? await redis.zrange(k.index, 0, -1) : []))
    const doomed = keys.flatMap((k, j) => [k.index, k.revokedMark, ...ids[j]!.map((id) => k.sessionBase + id)])
    for (let d = 0; d < doomed.length; d += 1000) await redis.unlink(...doomed.slice(d, d + 1000))
  }
}

async function fill (core: SessionCore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += FILL_IN_FLIGHT) {
    await Promise.all(Array.from({ length: Math.min(FILL_IN_FLIGHT, to - i) }, async (_, j) => await core.create(`fill-${i + j}`, { userAgent: USER_AGENT, ip: IP })))
  }
}

export interface ScaleOptions {
  sizes: readonly number[]
  warmupS: number
  measureS: number
  log: (line: string) => void
  /** Profile the paths that grew (node --cpu-prof at the largest size) into bench/profiles/scale-<path>.cpuprofile. */
  profile?: boolean
}

export async function measureScale (options: ScaleOptions): Promise<ScaleResult> {
  const started = Date.now()
  const server = await startRedis({ allowExternal: false })
  const admin = new Redis(server.url)
  const core = new SessionCore(new RedisStore({ redis: admin, prefix: PREFIX, commandTimeoutMs: FILL_TIMEOUT_MS, ...LIMITS }))
  const points: ScalePoint[] = []
  const list: ListPoint[] = []
  const profiles: ScaleProfile[] = []
  const failures: ScaleResult['failures'] = []
  let filled = 0
  let fillMs = 0
  const run = async (what: string, scenario: Scenario, cpuProfileDir?: string): Promise<Measurement | undefined> => {
    const t0 = Date.now()
    try {
      const m = await measure(scenario, { warmupS: options.warmupS, measureS: options.measureS, tokens: DEFAULT_TOKENS, redisUrl: server.url, admin, ...(cpuProfileDir !== undefined && { cpuProfileDir }) })
      options.log(`[scale] ${what}: ${formatNumber(m.rps)} req/s, server ${formatNumber((m.serverCpuUs ?? 0) / Math.max(1, m.total), 1)} + Redis ${formatNumber((m.redisCpuUs ?? 0) / Math.max(1, m.total), 1)} µs CPU per request (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
      return m
    } catch (error) {
      failures.push({ what: `scale: ${what}`, message: (error as Error).message })
      options.log(`[scale] ${what} FAILED: ${(error as Error).message.split('\n')[0]}`)
      return undefined
    } finally {
      await dropAppSessions(admin, DEFAULT_TOKENS)
    }
  }
  try {
    for (const size of options.sizes) {
      const t0 = Date.now()
      await fill(core, filled, size)
      fillMs += Date.now() - t0
      options.log(`[scale] ${formatNumber(size)} sessions filled (+${formatNumber(size - filled)} in ${((Date.now() - t0) / 1000).toFixed(1)} s)`)
      filled = size
      const point: ScalePoint = { sessions: size, keys: await admin.dbsize(), paths: {}, references: {} }
      let before = await run(`reference (P3-floor) at ${formatNumber(size)}`, REFERENCE)
      for (const path of SCALE_PATHS) {
        const m = await run(`${path} at ${formatNumber(size)}`, pathScenario(path))
        if (m !== undefined) point.paths[path] = m
        const after = await run(`reference (P3-floor) after ${path} at ${formatNumber(size)}`, REFERENCE)
        point.references[path] = [before, after].filter((r) => r !== undefined)
        before = after
      }
      points.push(point)
      if (size === LIST_OTHERS) {
        for (const sessions of LIST_SESSIONS) {
          const m = sessions === 10 ? point.paths.list : await run(`list of ${sessions} at ${formatNumber(size)}`, pathScenario('list', sessions))
          if (m !== undefined) list.push({ sessions, others: size, m })
        }
      }
    }
    // The live sessions are still there: profile what grew, at the largest size.
    const partial: ScaleResult = { points, profiles, list, fillRate: 0, seconds: 0, failures }
    for (const path of SCALE_PATHS) {
      const g = growth(partial, path)
      if (options.profile !== true || g === null || g.ratio <= FLAT_RATIO) continue
      const dir = `${REPO_ROOT}bench/profiles/scale-${path}`
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(dir, { recursive: true })
      try {
        const m = await run(`${path} at ${formatNumber(filled)} under node --cpu-prof`, pathScenario(path), dir)
        if (m === undefined) continue
        const file = `${REPO_ROOT}bench/profiles/scale-${path}.cpuprofile`
        renameSync(mainThreadProfile(dir), file)
        profiles.push({ path, sessions: filled, file: `bench/profiles/scale-${path}.cpuprofile`, measurement: m, summary: summarizeProfile(file, m.window ?? null) })
      } catch (error) {
        failures.push({ what: `scale: profile of ${path}`, message: (error as Error).message })
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } finally {
    admin.disconnect()
    await server.close()
  }
  return { points, profiles, list, fillRate: filled / Math.max(0.001, fillMs / 1000), seconds: (Date.now() - started) / 1000, failures }
}

// ------------------------------------------------------------------ report

const perRequest = (m: Measurement, us: number | undefined): number => us === undefined ? Number.NaN : us / Math.max(1, m.total)
const serverCpu = (m: Measurement): number => perRequest(m, m.serverCpuUs)
const redisCpu = (m: Measurement): number => perRequest(m, m.redisCpuUs)
const totalCpu = (m: Measurement): number => serverCpu(m) + redisCpu(m)
/** The mean cost of the references around a path at one size; NaN when none ran. */
const referenceCpu = (point: ScalePoint, path: ScalePath): number => {
  const references = point.references[path] ?? []
  return references.reduce((sum, m) => sum + totalCpu(m), 0) / references.length
}
const TITLES: Record<ScalePath, string> = { refresh: 'refresh (POST /auth/refresh)', login: 'login (cheap argon2)', authenticateSession: '`authenticateSession` (GET /me)', list: 'session list, 10 sessions (GET /auth/sessions)' }

/**
 * Largest size's cost over the smallest's, per path (server + Redis CPU per request): `ratio`
 * relative to the reference measured at each size (when both were), `raw` without it.
 */
function growth (result: ScaleResult, path: ScalePath): { ratio: number, raw: number, relative: boolean, from: number, to: number } | null {
  const measured = result.points.filter((p) => p.paths[path] !== undefined)
  if (measured.length < 2) return null
  const first = measured[0]!
  const last = measured[measured.length - 1]!
  const raw = totalCpu(last.paths[path]!) / totalCpu(first.paths[path]!)
  const [before, after] = [referenceCpu(first, path), referenceCpu(last, path)]
  const relative = Number.isFinite(before) && Number.isFinite(after)
  const ratio = relative ? raw / (after / before) : raw
  return { ratio, raw, relative, from: first.sessions, to: last.sessions }
}

export function scaleTargets (result: ScaleResult | undefined): TargetCheck[] {
  const paths: ScalePath[] = ['refresh', 'login', 'authenticateSession']
  const targets: TargetCheck[] = paths.map((path) => {
    const g = result === undefined ? null : growth(result, path)
    return {
      text: `#14 ${path} cost per request flat from ${formatNumber(SCALE_SIZES[0])} to ${formatNumber(result === undefined ? 1_000_000 : Math.max(...result.points.map((p) => p.sessions)))} live sessions (server + Redis CPU at the largest ≤ ${FLAT_RATIO} × at the smallest, each against the references run around it)`,
      measured: g === null ? 'n/a' : `${g.ratio.toFixed(2)}× (${formatNumber(g.from)} → ${formatNumber(g.to)}${g.relative ? `; ${g.raw.toFixed(2)}× without the reference` : ''})`,
      met: g === null ? null : g.ratio <= FLAT_RATIO,
      profile: null
    }
  })
  const one = result?.list.find((l) => l.sessions === 1)
  const hundred = result?.list.find((l) => l.sessions === 100)
  const listGrowth = result === undefined ? null : growth(result, 'list')
  const linear = one === undefined || hundred === undefined ? null : redisCpu(hundred.m) / redisCpu(one.m)
  targets.push({
    text: '#14 session list linear in the user\'s sessions only (Redis CPU for 100 sessions ≤ 100 × for 1, and 10 sessions\' list flat in the live sessions)',
    measured: linear === null ? 'n/a' : `100 vs 1 session: ${linear.toFixed(1)}× Redis CPU; 10 sessions' list ${listGrowth === null ? 'n/a' : `${listGrowth.ratio.toFixed(2)}× from ${formatNumber(listGrowth.from)} to ${formatNumber(listGrowth.to)} live sessions`}`,
    met: linear === null ? null : linear <= 100 && (listGrowth === null || listGrowth.ratio <= FLAT_RATIO),
    profile: null
  })
  return targets
}

export function renderScale (result: ScaleResult): string[] {
  const out: string[] = []
  const f1 = (v: number): string => formatNumber(v, 1)
  out.push('## Cost that does not grow (bench/scale.ts)', '')
  out.push(`Live sessions pre-filled through the session core on the RedisStore (one per user, ${formatNumber(result.fillRate)} creates/s with ${formatNumber(FILL_IN_FLIGHT)} in flight), under the prefix the measured apps use; each path then ran in its own process for a warm-up and a measured run; its own users' sessions were deleted after it. Login uses cheap argon2 (m=1024, t=1) so that the store's part is visible. Cost is server + Redis CPU per request (µs). The reference P3-floor (an EVALSHA of \`return ARGV[1]\`, a sign and a cookie: the same Redis and machine, no read of the keyspace) ran before the first path of each size and after every path; "flat" means a path's cost relative to the mean of the two references around it, at the largest size, is at most ${FLAT_RATIO}× that at the smallest. One run of each path per size: on a machine busy with other work a single run's CPU per request moves by a third or more, which the references take out when it moves the whole machine; the Redis part, which a larger keyspace could make dearer, is the steadier column. ${formatNumber(result.seconds)} s in all.`, '')
  const sizes = result.points.map((p) => p.sessions)
  out.push(`| path | ${sizes.map((s) => `${formatNumber(s)} sessions`).join(' | ')} | largest / smallest, against the reference (raw) |`)
  out.push(`|---|${sizes.map(() => '---|').join('')}---|`)
  for (const path of SCALE_PATHS) {
    const cells = result.points.map((p) => {
      const m = p.paths[path]
      return m === undefined ? 'n/a' : `${f1(totalCpu(m))} (${f1(serverCpu(m))} + ${f1(redisCpu(m))}), ${formatNumber(m.rps)} req/s`
    })
    const g = growth(result, path)
    out.push(`| ${TITLES[path]} | ${cells.join(' | ')} | ${g === null ? 'n/a' : g.relative ? `${g.ratio.toFixed(2)}× (${g.raw.toFixed(2)}×)` : `${g.ratio.toFixed(2)}×`} |`)
  }
  const references = result.points.map((p) => {
    const costs = [...new Set(SCALE_PATHS.flatMap((path) => p.references[path] ?? []))].map(totalCpu)
    return costs.length === 0 ? 'n/a' : `${f1(Math.min(...costs))}–${f1(Math.max(...costs))}`
  })
  out.push(`| reference: P3-floor, before the first path and after each | ${references.join(' | ')} | |`)
  out.push('', 'Cells: server + Redis CPU µs per request (server + Redis), then req/s; the reference row, its lowest and highest cost at that size. Keys in Redis when each size was measured: ' + result.points.map((p) => `${formatNumber(p.sessions)} → ${formatNumber(p.keys)}`).join(', ') + ' (a record and a per-user index per filled session).', '')
  if (result.list.length > 0) {
    out.push(`Session list of one user while ${formatNumber(LIST_OTHERS)} other sessions exist (GET /auth/sessions, the list script reads the user's index and each of its records):`, '')
    out.push('| user\'s sessions | req/s | p50 ms | server CPU µs/req | Redis CPU µs/req | Redis CPU per listed session |')
    out.push('|---|---|---|---|---|---|')
    for (const l of result.list) out.push(`| ${l.sessions} | ${formatNumber(l.m.rps)} | ${formatNumber(l.m.p50, 1)} | ${f1(serverCpu(l.m))} | ${f1(redisCpu(l.m))} | ${formatNumber(redisCpu(l.m) / l.sessions, 2)} |`)
    out.push('')
  }
  for (const p of result.profiles) {
    const perRequest = (ms: number): string => formatNumber(1000 * ms / Math.max(1, p.measurement.total), 1)
    out.push(`### Profile: ${p.path} at ${formatNumber(p.sessions)} live sessions (grew past ${FLAT_RATIO}×)`, '')
    out.push(`\`${p.file}\` (git-ignored): ${formatNumber(p.measurement.rps)} req/s under the profiler, JS thread busy ${perRequest(p.summary.busyMs)} µs per request. The profile covers the server's JS thread; Redis' share of the growth is the Redis column above.`, '')
    out.push('| owner | µs per request |', '|---|---|')
    for (const owner of p.summary.owners.slice(0, 8)) out.push(`| ${owner.name} | ${perRequest(owner.ms)} |`)
    out.push('', '| hottest functions (self) | µs per request |', '|---|---|')
    for (const fn of p.summary.functions.slice(0, 8)) out.push(`| \`${fn.name.replace(/\|/g, '\\|')}\` | ${perRequest(fn.ms)} |`)
    out.push('')
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'scale-max': { type: 'string' } } })
  const max = Number(values['scale-max'] ?? 1_000_000)
  const sizes = [...SCALE_SIZES, 1_000_000].filter((s) => s <= max)
  const log = (line: string): void => { process.stderr.write(`${line}\n`) }
  const result = await measureScale({ sizes, warmupS: values.quick === true ? 1 : 2, measureS: values.quick === true ? 3 : 5, log, profile: true })
  console.log(renderScale(result).join('\n'))
  for (const t of scaleTargets(result)) console.log(`${t.met === true ? 'met   ' : t.met === false ? 'MISSED' : 'n/a   '} ${t.text}: ${t.measured}`)
  for (const f of result.failures) console.log(`FAILED ${f.what}: ${f.message}`)
}
