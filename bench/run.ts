/**
 * `npm run bench` (3 alternating rounds, warm-up + 8 s each) or `npm run bench -- --quick`
 * (1 round, 1 s + 3 s): every scenario server in its own process on 127.0.0.1, autocannon with
 * 50 connections from this process, ratios against the baselines of the same round, CPU profiles
 * of what misses its target, Redis commands per refresh and memory per session, cost against the
 * live sessions (bench/scale.ts) and refresh on a 3-shard Cluster (bench/cluster.ts); written to
 * bench/RESULTS.md.
 *
 * Other flags: --rounds N, --warmup S, --measure S, --only B1,P1,scale,cluster (the ratios and
 * targets of the others are then n/a), --no-profile, --sessions N (memory measurement),
 * --scale-max N (largest live-session count: 1 000 000 by default, 10 000 with --quick,
 * 0 skips the scale runner), --no-cluster, --out FILE.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { startRedis } from '../support/redis-harness.js'
import { environment } from './lib/environment.js'
import { ensurePeers } from './lib/peers.js'
import { mainThreadProfile, summarizeProfile } from './lib/profile.js'
import { renderReport, type ProfiledScenario, type Report } from './lib/report.js'
import { DEFAULT_TOKENS, measure, SCENARIOS, type Measurement, type ScenarioId } from './lib/scenarios.js'
import { REPO_ROOT } from './lib/spawn.js'
import { formatNumber } from '../support/stats.js'
import { measureMemoryPerSession, type MemoryPerSession } from './redis-memory.js'
import { measureCluster } from './cluster.js'
import { measureScale, SCALE_SIZES } from './scale.js'

export interface BenchConfig {
  quick: boolean
  rounds: number
  warmupS: number
  measureS: number
  only: Set<ScenarioId> | null
  profile: boolean
  memorySessions: number
  /** bench/scale.ts: the live-session counts to measure at (empty: not run). */
  scaleSizes: number[]
  cluster: boolean
  /** Tokens / sessions each scenario mints at start. */
  tokens: number
  out: string
  command: string
}

function parseConfig (argv: string[]): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      measure: { type: 'string' },
      only: { type: 'string' },
      'no-profile': { type: 'boolean', default: false },
      sessions: { type: 'string' },
      'scale-max': { type: 'string' },
      'no-cluster': { type: 'boolean', default: false },
      out: { type: 'string' }
    }
  })
  const quick = values.quick === true
  const number = (value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback
    const n = Number(value)
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${value}`)
    return n
  }
  const parts = values.only === undefined ? null : new Set(values.only.split(',').map((id) => id.trim()))
  const runners = ['scale', 'cluster']
  for (const id of parts ?? []) if (!SCENARIOS.some((s) => s.id === id) && !runners.includes(id)) throw new Error(`unknown scenario ${id}; known: ${[...SCENARIOS.map((s) => s.id), ...runners].join(', ')}`)
  const only = parts === null ? null : new Set([...parts].filter((id) => !runners.includes(id)) as ScenarioId[])
  const scaleMax = number(values['scale-max'], quick ? 10_000 : 1_000_000)
  return {
    quick,
    rounds: number(values.rounds, quick ? 1 : 3),
    warmupS: number(values.warmup, quick ? 1 : 3),
    measureS: number(values.measure, quick ? 3 : 8),
    only,
    profile: values['no-profile'] !== true,
    memorySessions: number(values.sessions, quick ? 20_000 : 100_000),
    scaleSizes: parts !== null && !parts.has('scale') ? [] : [...SCALE_SIZES, 1_000_000].filter((size) => size <= scaleMax),
    cluster: values['no-cluster'] !== true && (parts === null || parts.has('cluster')),
    tokens: DEFAULT_TOKENS,
    out: values.out ?? `${REPO_ROOT}bench/RESULTS.md`,
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ')
  }
}

/** --quick profiles for at most this long after its round (a profile takes ~10 s). */
const QUICK_PROFILE_BUDGET_MS = 40_000

const log = (line: string): void => { process.stderr.write(`${line}\n`) }

function describe (m: Measurement): string {
  const base = `${formatNumber(m.rps)} req/s, p50 ${formatNumber(m.p50, m.p50 < 10 ? 1 : 0)} ms, p99 ${formatNumber(m.p99, m.p99 < 10 ? 1 : 0)} ms`
  const faults = m.errors + m.timeouts + m.non2xx > 0 ? `, errors ${m.errors}, timeouts ${m.timeouts}, non-2xx ${m.non2xx}` : ''
  return base + faults + (m.login !== undefined ? `; logins ${formatNumber(m.login.rps, 1)}/s` : '')
}

async function runBench (config: BenchConfig): Promise<Report> {
  const started = Date.now()
  const failures: Report['failures'] = []
  let scenarios = SCENARIOS.filter((s) => config.only === null || config.only.has(s.id))
  if (scenarios.some((s) => s.peers === true)) {
    const problem = ensurePeers(log)
    if (problem !== null) {
      // better-auth cannot run here: say why, and measure everything else.
      failures.push({ what: `peers in bench/peers (${scenarios.filter((s) => s.peers === true).map((s) => s.id).join(', ')} not run)`, message: problem })
      log(`[peers] ${problem}`)
      scenarios = scenarios.filter((s) => s.peers !== true)
    }
  }
  const env = environment()
  const needsRedis = scenarios.some((s) => s.redis)
  const redisServer = needsRedis ? await startRedis({ allowExternal: false }) : null
  const admin = redisServer === null ? null : new Redis(redisServer.url)
  const rounds: Array<Map<ScenarioId, Measurement>> = []
  const profiles: ProfiledScenario[] = []
  const skippedProfiles: ScenarioId[] = []
  let memory: MemoryPerSession[] = []
  try {
    for (let round = 0; round < config.rounds; round++) {
      // Alternate the order, so that a machine getting slower or faster shifts no scenario against its baseline.
      const order = round % 2 === 0 ? scenarios : [...scenarios].reverse()
      const results = new Map<ScenarioId, Measurement>()
      for (const scenario of order) {
        const t0 = Date.now()
        const label = `[round ${round + 1}/${config.rounds}] ${scenario.id.padEnd(8)}`
        try {
          const m = await measure(scenario, { warmupS: config.warmupS, measureS: config.measureS, tokens: config.tokens, redisUrl: redisServer?.url ?? null, admin })
          results.set(scenario.id, m)
          log(`${label} ${describe(m)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
        } catch (error) {
          // One broken scenario must not cost the others' numbers: it is reported instead.
          failures.push({ what: `${scenario.id}, round ${round + 1}`, message: (error as Error).message })
          log(`${label} FAILED: ${(error as Error).message.split('\n')[0]}`)
        }
      }
      rounds.push(results)
    }

    const draft: Report = { config, env, rounds, scenarios, profiles, skippedProfiles, failures, memory, seconds: 0, loadAverageAfter: [] }
    if (config.profile) {
      const dir = `${REPO_ROOT}bench/profiles`
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(dir, { recursive: true })
      const profilesStarted = Date.now()
      for (const id of scenariosToProfile(draft)) {
        // --quick keeps the profiles within a budget: the full run profiles every missed target.
        if (config.quick && Date.now() - profilesStarted > QUICK_PROFILE_BUDGET_MS) {
          skippedProfiles.push(id)
          continue
        }
        const scenario = scenarios.find((s) => s.id === id)!
        const scenarioDir = `${dir}/${id}`
        log(`[profile] ${id} under node --cpu-prof`)
        try {
          // Shorter than a measured run: a profile needs a few thousand samples, not a stable median.
          const m = await measure(scenario, { warmupS: Math.min(config.warmupS, 1), measureS: config.quick ? 2 : 5, tokens: config.tokens, redisUrl: redisServer?.url ?? null, admin, cpuProfileDir: scenarioDir })
          const file = `${dir}/${id}.cpuprofile`
          renameSync(mainThreadProfile(scenarioDir), file)
          profiles.push({ id, file: `bench/profiles/${id}.cpuprofile`, measurement: m, summary: summarizeProfile(file, m.window ?? null) })
        } catch (error) {
          failures.push({ what: `profile of ${id}`, message: (error as Error).message })
          log(`[profile] ${id} FAILED: ${(error as Error).message.split('\n')[0]}`)
        } finally {
          rmSync(scenarioDir, { recursive: true, force: true })
        }
      }
    }
  } finally {
    admin?.disconnect()
    await redisServer?.close()
  }

  let scale: Report['scale']
  if (config.scaleSizes.length > 0) {
    log(`[scale] cost per request at ${config.scaleSizes.join(', ')} live sessions`)
    scale = await measureScale({ sizes: config.scaleSizes, warmupS: Math.min(config.warmupS, 1), measureS: Math.min(config.measureS, 4), log, profile: config.profile })
    failures.push(...scale.failures)
  }
  let cluster: Report['cluster']
  if (config.cluster) {
    log('[cluster] refresh on one shard, then on a 3-shard Cluster')
    cluster = await measureCluster({ warmupS: config.warmupS, measureS: config.measureS, log })
    failures.push(...cluster.failures)
  }

  if (config.memorySessions > 0) {
    log(`[memory] ${config.memorySessions} sessions, 10 per user and 1 per user`)
    try {
      memory = [await measureMemoryPerSession(10, config.memorySessions), await measureMemoryPerSession(1, config.memorySessions)]
    } catch (error) {
      failures.push({ what: 'memory per session', message: (error as Error).message })
      log(`[memory] FAILED: ${(error as Error).message.split('\n')[0]}`)
    }
  }
  return { config, env, rounds, scenarios, profiles, skippedProfiles, failures, memory, ...(scale !== undefined && { scale }), ...(cluster !== undefined && { cluster }), seconds: (Date.now() - started) / 1000, loadAverageAfter: os.loadavg() }
}

/** The scenarios behind the missed targets, then their baselines (renderReport decides what is missed). */
function scenariosToProfile (draft: Report): ScenarioId[] {
  const missed = renderReport(draft, { targetsOnly: true }).targets.filter((t) => t.met === false)
  const ids = [...missed.map((t) => t.profile), ...missed.map((t) => t.baseline)]
  return [...new Set(ids)].filter((id): id is ScenarioId => id != null && draft.scenarios.some((s) => s.id === id))
}

// `--dpop`: DPoP on vs off, its own runner and report (bench/dpop.ts, bench/DPOP.md).
if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--dpop')) {
  await (await import('./dpop.js')).main(process.argv.slice(2).filter((arg) => arg !== '--dpop'))
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const config = parseConfig(process.argv.slice(2))
  log(`bench: ${config.rounds} round(s), ${config.warmupS} s warm-up + ${config.measureS} s measured per scenario${config.quick ? ' (quick)' : ''}`)
  const report = await runBench(config)
  const { markdown, targets } = renderReport(report)
  writeFileSync(config.out, markdown)
  for (const t of targets) log(`${t.met === true ? 'met   ' : t.met === false ? 'MISSED' : 'n/a   '} ${t.text}: ${t.measured}`)
  log(`wrote ${config.out} in ${report.seconds.toFixed(0)} s`)
  if (report.failures.length > 0) {
    log(`${report.failures.length} part(s) failed: see the Failures section of ${config.out}`)
    process.exitCode = 1
  }
}
