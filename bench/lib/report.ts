/** bench/RESULTS.md: machine, versions, per-scenario tables, same-round ratios, targets, Redis figures, profiles. */
import type { BenchConfig } from '../run.js'
import { USER_AGENT, type MemoryPerSession } from '../redis-memory.js'
import { encodeUserAgent } from '../../src/redis/user-agent.js'
import type { Environment } from './environment.js'
import { CONNECTIONS, type LoadResult } from '../../support/load.js'
import { OURS, type ProfileSummary } from './profile.js'
import { UNCACHED_TOKENS, type Measurement, type Scenario, type ScenarioId } from './scenarios.js'
import { formatNumber, formatSpread, spread, type Spread } from '../../support/stats.js'
import { clusterTargets, renderCluster, type ClusterResult } from '../cluster.js'
import { renderScale, scaleTargets, type ScaleResult } from '../scale.js'

export interface ProfiledScenario { id: ScenarioId, file: string, measurement: Measurement, summary: ProfileSummary }

export interface Report {
  config: BenchConfig
  env: Environment
  rounds: Array<Map<ScenarioId, Measurement>>
  scenarios: readonly Scenario[]
  profiles: ProfiledScenario[]
  /** Missed targets' scenarios not profiled, to keep --quick within its time. */
  skippedProfiles: ScenarioId[]
  /** Parts of the run that threw (a scenario that did not start, a profile, the memory figure). */
  failures: Array<{ what: string, message: string }>
  memory: MemoryPerSession[]
  /** bench/scale.ts: cost per request against the live sessions (absent when not run). */
  scale?: ScaleResult
  /** bench/cluster.ts: refresh on one shard against a 3-shard Cluster (absent when not run). */
  cluster?: ClusterResult
  seconds: number
  loadAverageAfter: number[]
}

export interface TargetCheck {
  text: string
  measured: string
  /** null: not measured in this run */
  met: boolean | null
  /** The scenario to profile when missed, and the baseline to profile beside it. */
  profile: ScenarioId | null
  baseline?: ScenarioId
}

const MEMORY_TARGET_BYTES = 400
/** /me p99 under a login flood (P5) at most this many times its idle p99 (P1), same round. */
const P5_P99_TARGET_RATIO = 2

const ms = (v: number): string => formatNumber(v, v < 10 ? 1 : 0)
const times = (s: Spread): string => formatSpread(s, 2, '×')

/** Logins answered 2xx per second: a 503 AUTH_LOGIN_BUSY is not a login. */
const loginsPerSecond = (m: LoadResult): number => (m.total - m.non2xx) / m.seconds
/** Responses of the measured run (P5: /me and logins). */
const served = (m: Measurement): number => Math.max(1, m.total + (m.login?.total ?? 0))
/** µs of server-process CPU (all threads) per response. */
const serverCpu = (m: Measurement): number => m.serverCpuUs === undefined ? Number.NaN : m.serverCpuUs / served(m)
/** µs of redis-server CPU per response. */
const redisCpu = (m: Measurement): number => m.redisCpuUs === undefined ? Number.NaN : m.redisCpuUs / served(m)
/** Server and Redis together: what one response costs the machine, the load generator aside. */
const totalCpu = (m: Measurement): number => serverCpu(m) + (m.redisCpuUs === undefined ? 0 : redisCpu(m))
/** Commands the server's Redis client sent per response: its round trips. */
const redisTrips = (m: Measurement): number => m.redisSent === undefined ? Number.NaN : Object.values(m.redisSent).reduce((a, b) => a + b, 0) / served(m)
const tripNames = (ms: Measurement[]): string => [...new Set(ms.flatMap((m) => Object.keys(m.redisSent ?? {})))].map((n) => n.toUpperCase()).join(', ')
/** Cores the server process kept busy during the measured run. */
const serverCores = (m: Measurement): number => m.serverCpuUs === undefined ? Number.NaN : m.serverCpuUs / (m.seconds * 1e6)

export function renderReport (report: Report, options: { targetsOnly?: boolean } = {}): { markdown: string, targets: TargetCheck[] } {
  const { rounds } = report
  const of = (id: ScenarioId): Measurement[] => rounds.flatMap((round) => round.has(id) ? [round.get(id)!] : [])
  const sameRound = (a: ScenarioId, b: ScenarioId, pick: (m: Measurement) => number = (m) => m.rps): Spread =>
    spread(rounds.flatMap((round) => round.has(a) && round.has(b) ? [pick(round.get(a)!) / pick(round.get(b)!)] : []))
  const median = (id: ScenarioId, pick: (m: Measurement) => number): Spread => spread(of(id).map(pick))

  const targets = [...checkTargets(report, sameRound, median, of), ...issue14Targets(sameRound, of), ...scaleTargets(report.scale), ...clusterTargets(report.cluster)]
  if (options.targetsOnly === true) return { markdown: '', targets }

  const { config, env } = report
  const out: string[] = []
  const line = (text = ''): void => { out.push(text) }
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')

  line('# Benchmarks')
  line()
  line(`Written by \`bench/run.ts\` on ${date}, in ${formatNumber(report.seconds)} s. Rerun with \`${config.command}\`${config.quick ? ' (quick) or `npm run bench` (full: 3 rounds, 3 s warm-up + 8 s measured, 100 000 sessions for memory)' : ''}.`)
  line()
  if (config.quick) {
    line(`> **Quick run**: ${config.rounds} round, ${config.warmupS} s warm-up + ${config.measureS} s measured per scenario, memory over ${formatNumber(config.memorySessions)} sessions instead of 100 000. A reading that the harness works and of the orders of magnitude, not a result to quote: use the full run for that.`)
    line()
  }
  const busy = env.loadAverage[0]! > env.cores * 0.5
  if (busy) {
    line(`> **The machine was busy with other work** during this run (1-minute load average ${env.loadAverage[0]!.toFixed(1)} at the start, ${report.loadAverageAfter[0]?.toFixed(1) ?? '?'} at the end, on ${env.cores} cores). Absolute numbers are low and noisy; ratios compare scenarios measured seconds apart under the same noise, so they are the better guide, and only a run on a quiet machine settles a target.`)
    line()
  }

  if (report.failures.length > 0) {
    line('## Failures')
    line()
    line('These parts of the run failed; the figures that need them are n/a below.')
    line()
    for (const failure of report.failures) {
      line(`- **${failure.what}**:`)
      line()
      line('  ```text')
      for (const text of failure.message.split('\n').slice(0, 20)) line(`  ${text}`)
      line('  ```')
    }
    line()
  }

  line('## Machine and software')
  line()
  line('| | |')
  line('|---|---|')
  line(`| CPU | ${env.cpuModel}, ${env.cores} cores |`)
  line(`| Memory | ${env.memoryGiB} GiB |`)
  line(`| OS | ${env.os} |`)
  line(`| Node | ${env.node} |`)
  line(`| Redis | ${env.redis} |`)
  line(`| Load average (1, 5, 15 min) at start | ${env.loadAverage.map((v) => v.toFixed(2)).join(', ')} |`)
  line()
  line('| package | version |')
  line('|---|---|')
  for (const [name, version] of env.packages) line(`| ${name} | ${version} |`)
  line()

  line('## Method')
  line()
  line('- Each scenario server runs in its own process (`node --import tsx bench/scenarios/<file>.ts`) on 127.0.0.1; it mints its tokens or sessions at start and reports its port over IPC.')
  line(`- Load: autocannon ${env.packages.find(([n]) => n === 'autocannon')?.[1] ?? ''}, ${CONNECTIONS} connections, one request in flight each, from the runner's process on the same machine (it shares the cores with the server, and with Redis where there is one).`)
  line(`- ${config.rounds} round(s); in each, every scenario gets ${config.warmupS} s of warm-up, then ${config.measureS} s measured. Rounds alternate the scenario order. Tables show the median over rounds with [min–max] when there are several; ratios are taken within a round, then their median.`)
  line('- Latencies are autocannon\'s (whole milliseconds); req/s counts completed responses over the measured seconds.')
  line('- After each warm-up the runner waits for one more request to complete, so work left in flight (50 abandoned argon2 verifies for the login scenarios) does not eat into the measured run.')
  line()

  line('## Results')
  line()
  line('| id | scenario | req/s | p50 ms | p99 ms | server CPU µs/req | server cores busy | Redis CPU µs/req | Redis round trips/req | requests | errors / timeouts / non-2xx |')
  line('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const scenario of report.scenarios) {
    const ms_ = of(scenario.id)
    if (ms_.length === 0) continue
    const faults = `${sum(ms_, (m) => m.errors)} / ${sum(ms_, (m) => m.timeouts)} / ${sum(ms_, (m) => m.non2xx)}`
    const redis = median(scenario.id, redisCpu)
    const trips = median(scenario.id, redisTrips)
    const tripCell = trips.n === 0 ? '' : `${formatSpread(trips, 2)} (${tripNames(ms_)})`
    line(`| ${scenario.id} | ${scenario.title} | ${formatSpread(median(scenario.id, (m) => m.rps))} | ${formatSpread(median(scenario.id, (m) => m.p50), 1)} | ${formatSpread(median(scenario.id, (m) => m.p99), 1)} | ${formatSpread(median(scenario.id, serverCpu), 1)} | ${formatSpread(median(scenario.id, serverCores), 2)} | ${redis.n === 0 ? '' : formatSpread(redis, 1)} | ${tripCell} | ${formatNumber(sum(ms_, (m) => m.total))} | ${faults} |`)
  }
  const p5 = of('P5')
  if (p5.length > 0) {
    line()
    line(`P5's CPU per request counts /me responses and logins together. P5's logins beside the /me load: ${formatSpread(spread(p5.map((m) => m.login?.rps ?? Number.NaN)), 1)} logins/s, p99 ${formatSpread(spread(p5.map((m) => m.login?.p99 ?? Number.NaN)))} ms. P4-raw is argon2 itself (no HTTP): its "req/s" are verifies per second at ${CONNECTIONS} in flight, its latencies those of one verify.`)
  }
  line()

  line('Server CPU is `process.cpuUsage()` of the server process over the measured run (every thread: argon2\'s pool too) divided by its responses; "cores busy" is the same CPU over the run\'s seconds. Redis CPU is `INFO cpu` (`used_cpu_user` + `used_cpu_sys`) over the same run. Round trips are the commands the server\'s ioredis client sent over the run (a script is one), per response. When a server keeps less than one core busy, it was waiting on something else (the load generator or Redis, which share this machine\'s cores): its req/s is then a reading of the machine, and CPU per request is the comparison that carries over to a bigger one.')
  line()
  line('## Ratios (same round)')
  line()
  line('| ratio | median [min–max] | meaning |')
  line('|---|---|---|')
  const ratioRows: Array<[string, ScenarioId, ScenarioId, string, ((m: Measurement) => number)?]> = [
    ['P1 / B1 req/s', 'P1', 'B1', 'our authenticate against @fastify/jwt (target ≥ 1.2)'],
    ['P1 / B1 p99', 'P1', 'B1', 'tail latency (target ≤ 1)', (m) => m.p99],
    ['P2 / B2 req/s', 'P2', 'B2', 'our authenticateSession against @fastify/session on Redis (target ≥ 1.5)'],
    ['P3 / floor req/s', 'P3', 'P3-floor', 'our refresh against one EVALSHA + one sign + one cookie (target ≥ 0.9)'],
    ['P4 / raw argon2', 'P4', 'P4-raw', 'our login against argon2 verify alone (target ≥ 0.9)'],
    ['P4 / P4-open logins/s', 'P4', 'P4-open', 'logins (2xx) with the default argon2Queue against none (target ≥ 0.9)', loginsPerSecond],
    ['P5 / P1 p99', 'P5', 'P1', '/me tail latency under a login flood against idle (target ≤ 2)', (m) => m.p99],
    ['P5-open / P1 p99', 'P5-open', 'P1', 'the same without the argon2 queue', (m) => m.p99],
    ['P5 / P5-open logins/s', 'P5', 'P5-open', 'logins (2xx) beside the /me load, with the queue against without', (m) => m.login === undefined ? Number.NaN : loginsPerSecond(m.login)],
    ['P6 / P1 req/s', 'P6', 'P1', 'EdDSA against HS256'],
    ['P1 / B0 req/s', 'P1', 'B0', 'share of the bare-route ceiling'],
    ['P5 / P1 req/s', 'P5', 'P1', '/me throughput kept while logins load the process'],
    ['P1 / B1 server CPU per request', 'P1', 'B1', 'cost, lower is better (≤ 0.83 is ≥ 1.2× throughput when the server is the bottleneck)', serverCpu],
    ['P2 / B2 server + Redis CPU per request', 'P2', 'B2', 'cost, lower is better (≤ 0.67 is ≥ 1.5×)', totalCpu],
    ['P3 / floor server + Redis CPU per request', 'P3', 'P3-floor', 'cost, lower is better (≤ 1.11 is ≥ 0.9×)', totalCpu],
    ['P3 / floor Redis CPU per request', 'P3', 'P3-floor', 'the rotate script against `return ARGV[1]`', redisCpu],
    ['P3-mandatory / floor server + Redis CPU per request', 'P3-mandatory', 'P3-floor', 'the least a correct refresh costs, against the ideal: what the bar leaves for the work the product must do (≤ 1 is needed for P3 to meet it)', totalCpu],
    ['P3 / P3-mandatory server + Redis CPU per request', 'P3', 'P3-mandatory', 'our refresh against the least a correct one costs, cost', totalCpu],
    ['P3 / P3-mandatory Redis CPU per request', 'P3', 'P3-mandatory', 'the rotate script against the least correct one', redisCpu],
    ['P6 / P1 server CPU per request', 'P6', 'P1', 'EdDSA against HS256, cost', serverCpu],
    ['P1-uncached / B1-uncached req/s', 'P1-uncached', 'B1-uncached', `our authenticate against jwtVerify, ${UNCACHED_TOKENS} tokens (more than the verify cache holds)`],
    ['P1-uncached / B1-uncached server CPU per request', 'P1-uncached', 'B1-uncached', 'the uncached path, cost (target ≤ 1)', serverCpu],
    ['P1-nocache / B1-uncached server CPU per request', 'P1-nocache', 'B1-uncached', 'a verification on every request (cache off) against jwtVerify, cost', serverCpu],
    ['P1 / B0 server CPU per request', 'P1', 'B0', 'cached authenticate against a bare route, cost (target ≤ 1.25, i.e. ≥ 0.8× the ceiling)', serverCpu],
    ['P1 / B0-bearer server CPU per request', 'P1', 'B0-bearer', 'cached authenticate against the bare route sent the same requests: what authenticate adds, cost', serverCpu],
    ['B0-bearer / B0 server CPU per request', 'B0-bearer', 'B0', 'what P1\'s requests cost a bare route that reads none of them, against B0\'s', serverCpu],
    ['P2 / B3 req/s', 'P2', 'B3', 'authenticateSession against @fastify/secure-session (stateless, cannot be revoked)'],
    ['P2 / B3 server + Redis CPU per request', 'P2', 'B3', 'cost (target ≤ 1)', totalCpu],
    ['P2 / B4 req/s', 'P2', 'B4', 'authenticateSession against better-auth getSession on Redis'],
    ['P2 / B4-cache req/s', 'P2', 'B4-cache', 'authenticateSession against better-auth getSession with its cookie cache'],
    ['P2 / B4 server + Redis CPU per request', 'P2', 'B4', 'cost against better-auth on Redis', totalCpu],
    ['P2 / B4-cache server + Redis CPU per request', 'P2', 'B4-cache', 'cost against better-auth with its cookie cache', totalCpu],
    ['P2-store / B3 server + Redis CPU per request', 'P2-store', 'B3', 'authenticateSession with a store check on every request, against secure-session, cost', totalCpu],
    ['P2-store / B2 server + Redis CPU per request', 'P2-store', 'B2', 'the same against @fastify/session on Redis (one GET per request), cost', totalCpu],
    ['P2-store / P2 server + Redis CPU per request', 'P2-store', 'P2', 'what the revocation feed saves: a store check per request against none', totalCpu],
    ['P3-io6 / P3-floor-io6 server + Redis CPU per request', 'P3-io6', 'P3-floor-io6', 'refresh against the floor on ioredis 6, cost (target ≤ 1)', totalCpu],
    ['P3-io6 / P3 req/s', 'P3-io6', 'P3', 'ioredis 6 against 5, our refresh'],
    ['P3-io6 / P3 server + Redis CPU per request', 'P3-io6', 'P3', 'ioredis 6 against 5, cost', totalCpu],
    ['P3-floor-io6 / P3-floor req/s', 'P3-floor-io6', 'P3-floor', 'ioredis 6 against 5, the floor']
  ]
  for (const [label, a, b, meaning, pick] of ratioRows) {
    const s = sameRound(a, b, pick)
    if (s.n > 0) line(`| ${label} | ${times(s)} | ${meaning} |`)
  }
  line()

  line('## Targets')
  line()
  line('| target | measured | met |')
  line('|---|---|---|')
  for (const t of targets) line(`| ${t.text} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`)
  line()

  renderFindings(report, targets, median, sameRound, of, line)
  renderRefreshCommands(report, of('P3'), line)
  renderMemory(report, line)
  if (report.scale !== undefined) for (const text of renderScale(report.scale)) line(text)
  if (report.cluster !== undefined) for (const text of renderCluster(report.cluster)) line(text)
  renderProfiles(report, targets, line)
  renderScenarioTables(report, of, line)
  renderNotes(line)
  return { markdown: out.join('\n'), targets }
}

/** What the counters say about each missed target, from this run's numbers. */
function renderFindings (report: Report, targets: TargetCheck[], median: (id: ScenarioId, pick: (m: Measurement) => number) => Spread, sameRound: (a: ScenarioId, b: ScenarioId, pick: (m: Measurement) => number) => Spread, of: (id: ScenarioId) => Measurement[], line: (text?: string) => void): void {
  const missed = targets.filter((t) => t.met === false)
  if (missed.length === 0) return
  const cores = report.env.cores
  const med = (id: ScenarioId, pick: (m: Measurement) => number): number => median(id, pick).median
  const f1 = (v: number): string => formatNumber(v, 1)
  // The least a correct refresh costs (P3-mandatory), against the ideal and against ours: said with each refresh miss.
  const least = sameRound('P3-mandatory', 'P3-floor', totalCpu)
  const ours = sameRound('P3', 'P3-mandatory', totalCpu)
  const mandatory = least.n === 0 ? '' : ` P3-mandatory, the least a correct refresh costs (the floor plus only what every refresh must do), used ${f1(med('P3-mandatory', serverCpu))} µs of server CPU and ${f1(med('P3-mandatory', redisCpu))} µs of Redis: ${times(least)} the floor's cost${least.median > 1 ? ', so no correct refresh met a 1.0× bar in this run' : ''}; ours costs ${ours.n === 0 ? 'n/a' : times(ours)} P3-mandatory's.`
  line('## Reading the missed targets')
  line()
  for (const t of missed) {
    if (t.profile === 'P1' || t.profile === 'P2' || t.profile === 'P3') {
      const a = t.profile
      const b = t.baseline!
      const busy = med(a, serverCores)
      const bound = busy < 0.9 ? ` The ${a} server kept only ${formatNumber(busy, 2)} cores busy: on ${cores} cores shared with autocannon${a === 'P1' ? '' : ' and Redis'}, the run was bound by the machine, not by the server.` : ''
      const redis = Number.isNaN(med(a, redisCpu)) ? '' : `, Redis ${f1(med(a, redisCpu))} µs against ${f1(med(b, redisCpu))} µs`
      const trips = (id: ScenarioId): string => `${formatNumber(med(id, redisTrips), 2)} (${tripNames(of(id))})`
      const design = a === 'P2' ? ` Redis round trips per request: ${trips('P2')} for P2, ${trips('B2')} for B2. Where both make one, that round trip and the HTTP work around it are most of either's cost, and 1.5× needs fewer round trips (the revocation feed), not a faster one.` : ''
      line(`- **${t.text}**: ${t.measured}. Per request, the ${a} server used ${f1(med(a, serverCpu))} µs of CPU against ${f1(med(b, serverCpu))} µs for ${b}${redis}.${bound}${design}${a === 'P3' ? ' The floor\'s script is `return ARGV[1]`; ours runs TIME, GET, SET, ZADD and PEXPIREAT with a msgpack unpack and pack, and the plugin mints and hashes a secret, seals the successor, signs the JWT and serializes a schema\'d response: see the profile below for the split.' + mandatory : ''}`)
    } else if (t.baseline === 'P4-open') {
      line(`- **${t.text}**: ${t.measured}. P4's argon2Queue runs ${process.env.BENCH_ARGON2_QUEUE ?? 'its default concurrency of'} verifies at once where P4-open lets libuv's ${process.env.UV_THREADPOOL_SIZE ?? 4} threads take them all: fewer verifies at once leave cores idle whenever the event loop does not need them.`)
    } else if (t.profile === 'P4') {
      line(`- **${t.text}**: ${t.measured}. Both figures are bounded by argon2 on the thread pool; P4-raw runs in a separate process at another moment, so on a shared machine the ratio moves with the other load. CPU per login against CPU per raw verify is the steadier comparison.`)
    } else if (t.profile === 'P5') {
      const busy = med('P5', serverCores)
      line(`- **${t.text}**: ${t.measured}. The P5 process kept ${formatNumber(busy, 2)} cores busy (its JS thread plus argon2, at most ${process.env.BENCH_ARGON2_QUEUE ?? 'the default argon2Queue concurrency of'} verifies at once on libuv's pool of ${process.env.UV_THREADPOOL_SIZE ?? 4} threads) on a machine of ${cores} cores that also runs the load generator and Redis: /me requests wait for a core behind argon2. P1 alone had p99 ${f1(med('P1', (m) => m.p99))} ms.`)
    } else if (t.text.startsWith('Redis memory')) {
      const worst = report.memory.reduce<MemoryPerSession | undefined>((w, m) => w === undefined || m.afterRotation > w.afterRotation ? m : w, undefined)
      if (worst !== undefined) line(`- **${t.text}**: ${t.measured}. One session's record is ${worst.sample.afterLogin.record} B of msgpack after login and ${worst.sample.afterRotation.record} B after ${worst.rotations} rotations (the predecessor's verifier, the sealed successor seed and the older fingerprints are added), the ${USER_AGENT.length}-character user agent kept in ${encodeUserAgent(USER_AGENT).length}; Redis adds its per-key overhead (MEMORY USAGE ${worst.sample.afterRotation.recordMemory} B for that key, a ${worst.sample.afterRotation.keyName}-byte name included), and with one session per user the index key (${worst.sample.afterRotation.indexMemory} B) is that session's alone.`)
    } else {
      line(`- **${t.text}**: ${t.measured}.`)
    }
  }
  line()
}

function sum (ms: Measurement[], pick: (m: Measurement) => number): number {
  return ms.reduce((total, m) => total + pick(m), 0)
}

function checkTargets (
  report: Report,
  sameRound: (a: ScenarioId, b: ScenarioId, pick?: (m: Measurement) => number) => Spread,
  median: (id: ScenarioId, pick: (m: Measurement) => number) => Spread,
  of: (id: ScenarioId) => Measurement[]
): TargetCheck[] {
  const ratio = (text: string, a: ScenarioId, b: ScenarioId, min: number, cost: (m: Measurement) => number): TargetCheck => {
    const s = sameRound(a, b)
    const c = sameRound(a, b, cost)
    const busy = median(a, serverCores)
    const context = c.n === 0 || Number.isNaN(c.median) ? '' : ` (CPU per request ${times(c)} ${b}'s; ${a} server kept ${formatNumber(busy.median, 2)} cores busy)`
    return { text, measured: s.n === 0 ? 'n/a' : times(s) + context, met: s.n === 0 ? null : s.median >= min, profile: a, ...(b !== 'P4-raw' && { baseline: b }) }
  }
  const p1p99 = median('P1', (m) => m.p99)
  const b1p99 = median('B1', (m) => m.p99)
  const refresh = of('P3').flatMap((m) => m.redis === undefined ? [] : [m.redis])
  const perRefresh = refresh.map((r) => Object.values(r.sent).reduce((a, b) => a + b, 0) / Math.max(1, r.refreshes))
  const sentNames = [...new Set(refresh.flatMap((r) => Object.keys(r.sent)))]
  const p5p99 = sameRound('P5', 'P1', (m) => m.p99)
  const memory = report.memory
  const worstMemory = memory.length === 0 ? Number.NaN : Math.max(...memory.map((m) => Math.max(m.afterLogin, m.afterRotation)))
  return [
    ratio('P1 ≥ 1.2 × B1 (req/s)', 'P1', 'B1', 1.2, serverCpu),
    {
      text: 'P1 p99 no worse than B1 p99',
      measured: p1p99.n === 0 || b1p99.n === 0 ? 'n/a' : `${formatSpread(p1p99, 1)} ms vs ${formatSpread(b1p99, 1)} ms`,
      met: p1p99.n === 0 || b1p99.n === 0 ? null : p1p99.median <= b1p99.median,
      profile: 'P1',
      baseline: 'B1'
    },
    ratio('P2 ≥ 1.5 × B2 (req/s)', 'P2', 'B2', 1.5, totalCpu),
    ratio('P3 ≥ 0.9 × floor (req/s)', 'P3', 'P3-floor', 0.9, totalCpu),
    {
      text: 'exactly 1 Redis command (round trip) per refresh',
      measured: refresh.length === 0 ? 'n/a' : `${perRefresh.map((v) => v.toFixed(3)).join(', ')} (${sentNames.join(', ').toUpperCase()}) per refresh`,
      met: refresh.length === 0 ? null : perRefresh.every((v) => v === 1),
      profile: null
    },
    ratio('P4 ≥ 0.9 × raw argon2 verify rate', 'P4', 'P4-raw', 0.9, serverCpu),
    (() => {
      const s = sameRound('P4', 'P4-open', loginsPerSecond)
      const rates = `${formatSpread(median('P4', loginsPerSecond), 1)} vs ${formatSpread(median('P4-open', loginsPerSecond), 1)} logins/s`
      return { text: 'P4 logins/s ≥ 0.9 × P4-open (argon2Queue: false)', measured: s.n === 0 ? 'n/a' : `${times(s)} (${rates})`, met: s.n === 0 ? null : s.median >= 0.9, profile: 'P4', baseline: 'P4-open' }
    })(),
    {
      text: `P5: /me p99 while logins load the process ≤ ${P5_P99_TARGET_RATIO} × P1 p99`,
      measured: p5p99.n === 0 ? 'n/a' : `${times(p5p99)} (${formatSpread(median('P5', (m) => m.p99), 1)} vs ${formatSpread(median('P1', (m) => m.p99), 1)} ms)`,
      met: p5p99.n === 0 ? null : p5p99.median <= P5_P99_TARGET_RATIO,
      profile: 'P5',
      baseline: 'P1'
    },
    {
      text: `Redis memory ≤ ${MEMORY_TARGET_BYTES} bytes per session, index entry included`,
      measured: Number.isNaN(worstMemory) ? 'n/a' : `${formatNumber(worstMemory)} B at worst (see below)`,
      met: Number.isNaN(worstMemory) ? null : worstMemory <= MEMORY_TARGET_BYTES,
      profile: null
    }
  ]
}

/**
 * Issue 14's targets, as cost ratios (baseline's CPU per request over ours, so ≥ the bar is met)
 * within a round; the req/s ratio beside them. Each names the scenario to profile when missed.
 */
function issue14Targets (
  sameRound: (a: ScenarioId, b: ScenarioId, pick?: (m: Measurement) => number) => Spread,
  of: (id: ScenarioId) => Measurement[]
): TargetCheck[] {
  const costRatio = (text: string, ours: ScenarioId, baseline: ScenarioId, min: number, cost: (m: Measurement) => number): TargetCheck => {
    const c = sameRound(baseline, ours, cost)
    const rps = sameRound(ours, baseline)
    const measured = c.n === 0 || Number.isNaN(c.median) ? 'n/a' : `${times(c)} (req/s ${times(rps)} ${baseline}'s)`
    return { text, measured, met: measured === 'n/a' ? null : c.median >= min, profile: ours, baseline }
  }
  const onePerRefresh = (id: ScenarioId): TargetCheck => {
    const stats = of(id).flatMap((m) => m.redis === undefined ? [] : [m.redis])
    const perRefresh = stats.map((r) => Object.values(r.sent).reduce((a, b) => a + b, 0) / Math.max(1, r.refreshes))
    return {
      text: `#14 still 1 Redis command per refresh (${id})`,
      measured: stats.length === 0 ? 'n/a' : `${perRefresh.map((v) => v.toFixed(3)).join(', ')} (${[...new Set(stats.flatMap((r) => Object.keys(r.sent)))].join(', ').toUpperCase()})`,
      met: stats.length === 0 ? null : perRefresh.every((v) => v === 1),
      profile: null
    }
  }
  return [
    costRatio('#14 `authenticate` (HS256, cached) ≥ 0.8 × a bare Fastify route by CPU per request (B0\'s server CPU / P1\'s)', 'P1', 'B0', 0.8, serverCpu),
    costRatio(`#14 uncached \`authenticate\` (${UNCACHED_TOKENS} tokens) no more CPU per request than \`jwtVerify\` on the same tokens (B1-uncached's / P1-uncached's ≥ 1)`, 'P1-uncached', 'B1-uncached', 1, serverCpu),
    costRatio('#14 `authenticateSession` ≥ 1.0 × @fastify/secure-session by server + Redis CPU per request (B3\'s / P2\'s)', 'P2', 'B3', 1, totalCpu),
    costRatio('#14 refresh ≥ 1.0 × the ideal by server + Redis CPU per request, ioredis 5 (P3-floor\'s / P3\'s)', 'P3', 'P3-floor', 1, totalCpu),
    costRatio('#14 refresh ≥ 1.0 × the ideal by server + Redis CPU per request, ioredis 6 (P3-floor-io6\'s / P3-io6\'s)', 'P3-io6', 'P3-floor-io6', 1, totalCpu),
    onePerRefresh('P3'),
    onePerRefresh('P3-io6')
  ]
}

const ROTATE_SCRIPT_COMMANDS = new Set(['time', 'get', 'set', 'zadd', 'zrange', 'pexpireat', 'zscore', 'zrem', 'del'])

function renderRefreshCommands (report: Report, p3: Measurement[], line: (text?: string) => void): void {
  const stats = p3.flatMap((m) => m.redis === undefined ? [] : [m.redis])
  if (stats.length === 0) return
  line('## Redis commands per refresh (P3)')
  line()
  line('`INFO commandstats` delta over the measured P3 run (after `CONFIG RESETSTAT`), divided by the refresh requests the server received in that window; beside it, what the plugin\'s ioredis client sent over the wire in the same window. Redis counts the commands a script runs in `commandstats` too: those are not round trips.')
  line()
  const names = [...new Set(stats.flatMap((s) => [...Object.keys(s.commandstats), ...Object.keys(s.sent)]))].sort()
  line('| command | commandstats per refresh | sent by our client per refresh | what it is |')
  line('|---|---|---|---|')
  for (const name of names) {
    const cs = spread(stats.map((s) => (s.commandstats[name] ?? 0) / Math.max(1, s.refreshes)))
    const sent = spread(stats.map((s) => (s.sent[name] ?? 0) / Math.max(1, s.refreshes)))
    const what = name === 'evalsha' || name === 'eval' ? 'the rotate script: the one round trip' : ROTATE_SCRIPT_COMMANDS.has(name) ? 'inside rotate-3.lua' : 'another command'
    line(`| ${name.toUpperCase()} | ${formatSpread(cs, 3)} | ${formatSpread(sent, 3)} | ${what} |`)
  }
  line()
  const statuses = stats.map((s) => `${s.refreshes} received, answered ${Object.entries(s.statuses).map(([code, n]) => `${n} × ${code}`).join(', ')}`)
  line(`Refresh requests per measured run: ${statuses.join('; ')} (the few received but not answered were in flight when autocannon stopped and closed their connections; they still ran their script, so they count). Chains broken (a response without a new refresh cookie): ${p3.map((m) => m.brokenChains ?? 0).join(', ')}.`)
  line()
}

function renderMemory (report: Report, line: (text?: string) => void): void {
  if (report.memory.length === 0) return
  line('## Redis memory per session')
  line()
  line(`\`INFO memory\` \`used_memory\` delta over ${formatNumber(report.memory[0]!.sessions)} sessions created through \`RedisStore\` on a fresh redis-server ${report.memory[0]!.version} (bench/redis-memory.ts), with the metadata described there (five real user agents, IPv4 and IPv6, identity data, an authentication record, 1 in 5 sessions DPoP-bound); then after one rotation of every session and after ${report.memory[0]!.rotations} (which fill the remembered fingerprints of older secrets: the largest a record gets), one every 15 minutes of the store's clock. The figure includes the session record, its entry in the user's index and the index key itself, shared by that user's sessions.${report.config.memorySessions < 100_000 ? ` **${formatNumber(report.config.memorySessions)} sessions in this run (quick), not 100 000.**` : ''}`)
  line()
  line(`| sessions per user | bytes per session after login | after one rotation | after ${report.memory[0]!.rotations} rotations |`)
  line('|---|---|---|---|')
  for (const m of report.memory) line(`| ${m.sessionsPerUser} | ${formatNumber(m.afterLogin)} | ${formatNumber(m.afterOneRotation)} | ${formatNumber(m.afterRotation)} |`)
  line()
  line('Where the bytes go, for one session (`MEMORY USAGE`, which counts the key name, the value and Redis\' own overhead per key; the `used_memory` figures above are larger than the sum, since the expires dictionary and the hash tables\' buckets are not in it):')
  line()
  line('| sessions per user | key name | record (msgpack) after login → rotations | record key, MEMORY USAGE | its user\'s index key, MEMORY USAGE |')
  line('|---|---|---|---|---|')
  for (const m of report.memory) {
    const { afterLogin: a, afterRotation: b } = m.sample
    line(`| ${m.sessionsPerUser} | ${b.keyName} B | ${a.record} → ${b.record} B | ${a.recordMemory} → ${b.recordMemory} B | ${a.indexMemory} → ${b.indexMemory} B (shared by ${m.sessionsPerUser}) |`)
  }
  line()
}

const GROUPS: Array<[string, (owner: string) => boolean]> = [
  ['ours (src/)', (o) => o === OURS],
  ['Fastify and its own modules', (o) => /^(fastify|@fastify\/(?!jwt)|find-my-way|avvio|light-my-request|fast-json-stringify|fast-querystring|fast-decode-uri-component|secure-json-parse|abstract-logging|pino|toad-cache|rfdc|process-warning|content-type|cookie|proxy-addr|forwarded|ipaddr\.js|fastq|reusify)/.test(o)],
  ['JWT (@fastify/jwt, fast-jwt)', (o) => o === '@fastify/jwt' || o === 'fast-jwt' || o === 'mnemonist' || o === 'obliterator' || o === 'asn1.js' || o === '@lukeed/ms'],
  ['Redis client (ioredis)', (o) => /^(ioredis|@ioredis|redis-parser|redis-errors|denque|standard-as-callback|cluster-key-slot|lodash\.)/.test(o)],
  ['Node core, V8 builtins, natives, GC', (o) => o.startsWith('Node core') || o.startsWith('V8') || o.startsWith('native')],
  ['TypeBox (our validation)', (o) => o === '@sinclair/typebox'],
  ['argon2 binding (JS side)', (o) => o === 'argon2' || o === 'node-gyp-build' || o === '@phc/format']
]

function renderProfiles (report: Report, targets: TargetCheck[], line: (text?: string) => void): void {
  if (report.profiles.length === 0 && report.skippedProfiles.length === 0) return
  const profiled = new Map(report.profiles.map((p) => [p.id, p]))
  line('## Profiles of the missed targets')
  line()
  if (report.skippedProfiles.length > 0) {
    line(`Not profiled in this quick run, to keep it short: ${report.skippedProfiles.join(', ')} (the full run profiles every missed target and its baseline).`)
    line()
  }
  line('Each profiled scenario ran again under `node --cpu-prof` (same load, a shorter run); only the samples inside the measured window count (start-up and minting do not). A profile covers the server\'s JS thread: argon2 runs on libuv\'s thread pool and shows here only as idle time. Self time by the owner of the code; "per request" divides it by the responses of that run, so a scenario and its baseline compare directly. Raw profiles: `bench/profiles/` (git-ignored; open them in Chrome DevTools or speedscope).')
  line()
  const done = new Set<ScenarioId>()
  for (const target of targets) {
    if (target.met !== false || target.profile === null || done.has(target.profile)) continue
    const main = profiled.get(target.profile)
    if (main === undefined) continue
    done.add(target.profile)
    const base = target.baseline === undefined ? undefined : profiled.get(target.baseline)
    const missed = targets.filter((t) => t.met === false && t.profile === main.id).map((t) => t.text).join('; ')
    line(`### ${main.id}: ${missed}`)
    line()
    for (const p of [main, ...(base === undefined ? [] : [base])]) {
      line(`- ${p.id} under the profiler: ${formatNumber(p.measurement.rps)} req/s, p99 ${ms(p.measurement.p99)} ms; JS thread busy ${formatNumber(p.summary.busyMs)} of ${formatNumber(p.summary.totalMs)} ms (${formatNumber(p.summary.totalMs > 0 ? 100 * p.summary.busyMs / p.summary.totalMs : 0)} %), ${formatNumber(1000 * p.summary.busyMs / Math.max(1, p.measurement.total))} µs of JS thread per request.`)
    }
    line()
    line(`By group (${main.id}): ${groups(main.summary).map(([name, share]) => `${name} ${formatNumber(100 * share)} %`).join(', ')}.`)
    line()
    const perRequest = (p: ProfiledScenario, owner: string): number => 1000 * (p.summary.owners.find((o) => o.name === owner)?.ms ?? 0) / Math.max(1, p.measurement.total)
    const owners = [...new Set([...main.summary.owners.slice(0, 12), ...(base?.summary.owners.slice(0, 6) ?? [])].map((o) => o.name))]
    if (base === undefined) {
      line('| owner | self ms | share of busy time | µs per request |')
      line('|---|---|---|---|')
      for (const owner of main.summary.owners.slice(0, 12)) line(`| ${owner.name} | ${formatNumber(owner.ms)} | ${formatNumber(100 * owner.share, 1)} % | ${formatNumber(perRequest(main, owner.name), 1)} |`)
    } else {
      line(`| owner | ${main.id} µs per request | ${base.id} µs per request | difference |`)
      line('|---|---|---|---|')
      const rows = owners.map((name) => [name, perRequest(main, name), perRequest(base, name)] as const).sort((a, b) => (b[1] - b[2]) - (a[1] - a[2]))
      for (const [name, a, b] of rows) line(`| ${name} | ${formatNumber(a, 1)} | ${formatNumber(b, 1)} | ${a - b >= 0 ? '+' : ''}${formatNumber(a - b, 1)} |`)
      const totalA = 1000 * main.summary.busyMs / Math.max(1, main.measurement.total)
      const totalB = 1000 * base.summary.busyMs / Math.max(1, base.measurement.total)
      line(`| **all** | **${formatNumber(totalA, 1)}** | **${formatNumber(totalB, 1)}** | **${totalA - totalB >= 0 ? '+' : ''}${formatNumber(totalA - totalB, 1)}** |`)
    }
    line()
    const perReq = (msValue: number): string => formatNumber(1000 * msValue / Math.max(1, main.measurement.total), 1)
    line(`With one of our functions on the stack (our code and all it calls: crypto, ioredis, fast-jwt, Fastify's reply): ${perReq(main.summary.oursInclusiveMs)} µs per request, ${formatNumber(main.summary.busyMs > 0 ? 100 * main.summary.oursInclusiveMs / main.summary.busyMs : 0)} % of the busy time. By our function, inclusive:`)
    line()
    line('| our function (inclusive) | µs per request |')
    line('|---|---|')
    for (const fn of main.summary.oursInclusive.slice(0, 10)) line(`| \`${fn.name}\` | ${perReq(fn.ms)} |`)
    line()
    line(`| hottest functions in ${main.id} (self time) | ms | share of busy time |`)
    line('|---|---|---|')
    for (const fn of main.summary.functions.slice(0, 12)) line(`| \`${fn.name.replace(/\|/g, '\\|')}\` | ${formatNumber(fn.ms)} | ${formatNumber(100 * fn.share, 1)} % |`)
    line()
  }
}

function groups (summary: ProfileSummary): Array<readonly [string, number]> {
  const grouped = GROUPS.map(([name, test]) => [name, summary.owners.filter((o) => test(o.name)).reduce((a, o) => a + o.share, 0)] as const)
  const other = 1 - grouped.reduce((a, [, share]) => a + share, 0)
  return [...grouped, ['everything else', other] as const].filter(([, share]) => share >= 0.005).sort((a, b) => b[1] - a[1])
}

function renderScenarioTables (report: Report, of: (id: ScenarioId) => Measurement[], line: (text?: string) => void): void {
  line('## Per scenario, per round')
  line()
  for (const scenario of report.scenarios) {
    const rounds = report.rounds.map((round, i) => [i + 1, round.get(scenario.id)] as const).filter((r): r is readonly [number, Measurement] => r[1] !== undefined)
    if (rounds.length === 0) continue
    line(`### ${scenario.id}: ${scenario.title}`)
    line()
    line(`Server: \`bench/scenarios/${scenario.file}\`.`)
    line()
    const extra = scenario.id === 'P5' ? ' logins/s | login p99 ms |' : scenario.id.startsWith('P3') ? ' broken chains |' : ''
    line(`| round | req/s | p50 ms | p99 ms | server CPU µs/req | Redis CPU µs/req | requests | errors | timeouts | non-2xx |${extra}`)
    line(`|---|---|---|---|---|---|---|---|---|---|${extra === '' ? '' : extra.split('|').slice(1).map(() => '---|').join('')}`)
    for (const [i, m] of rounds) {
      const cells = scenario.id === 'P5' ? ` ${formatNumber(m.login?.rps ?? Number.NaN, 1)} | ${ms(m.login?.p99 ?? Number.NaN)} |` : extra !== '' ? ` ${m.brokenChains ?? 0} |` : ''
      line(`| ${i} | ${formatNumber(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${formatNumber(serverCpu(m), 1)} | ${m.redisCpuUs === undefined ? '' : formatNumber(redisCpu(m), 1)} | ${formatNumber(m.total)} | ${m.errors} | ${m.timeouts} | ${m.non2xx} |${cells}`)
    }
    if (rounds.length > 1) {
      const all = of(scenario.id)
      const med = (pick: (m: Measurement) => number): number => spread(all.map(pick)).median
      line(`| median | ${formatNumber(med((m) => m.rps))} | ${ms(med((m) => m.p50))} | ${ms(med((m) => m.p99))} | ${formatNumber(med(serverCpu), 1)} | ${formatNumber(med(redisCpu), 1)} | | | | |${extra === '' ? '' : extra.split('|').slice(1).map(() => ' |').join('')}`)
    }
    line()
  }
}

function renderNotes (line: (text?: string) => void): void {
  line('## How the scenarios are built')
  line()
  line('- **B1, P1, P6** carry 1 000 distinct live access tokens (1 000 users, one session each), round-robin over all connections. P1 and P6 mint theirs through real logins (`app.inject`, argon2 with m=1024 t=1 p=1 so that minting takes a second); B1 signs the same claims (`sub`, `sid`, `roles`, 15 min) with @fastify/jwt. Both guard `/me` with a preHandler. Our `authenticate` caches verified tokens (bounded by `exp`); @fastify/jwt verifies every time by default.')
  line('- **B0-bearer** is B0 at GET /me, sent what P1 is sent: 1 000 distinct `Authorization: Bearer` headers of the same length, round-robin, which the route never reads. Against it, P1 shows what `authenticate` adds to the same requests; against B0, what those requests cost a route that ignores them (the header parsed, the load generator building each request).')
  line('- **B2** is @fastify/session with connect-redis on ioredis, `saveUninitialized: false`, `rolling: false`: reading the session is one Redis GET per request. 1 000 session cookies are created at start.')
  line('- **P2** is P1 with `authenticateSession` on the Redis store: the token check plus the session-liveness check, which the revocation feed answers for tokens issued after it came up (the steady state of a running instance). The scenario waits until a freshly minted token passes without a Redis command, then mints its 1 000 tokens; the round-trips column shows what happened. **P2-store** mints them right after the app is ready, before the feed can vouch for them (an instance\'s first access-token lifetime, or while the feed is down): each request runs the liveness script on Redis.')
  line('- **P3** walks one real rotation chain per connection: a connection takes a fresh refresh token (from 1 000 minted at start) on its first request, then always sends the refresh cookie of the last response (autocannon `setupRequest` / `onResponse` with the per-connection request context). A response without a new cookie ends the chain and counts as broken. **P3-floor** answers the same request with one EVALSHA of `return ARGV[1]`, one fast-jwt HS256 sign and one Set-Cookie, and is walked in the same way.')
  line('- **P3-mandatory** is the least a correct refresh costs on this stack, written with nothing but what the product promises of every refresh: the floor, plus SHA-256 of the presented secret and of a fresh 256-bit successor (only hashes at rest), the successor sealed under the presented secret (grace returns the same newest token), and one script that reads a fixed-width record and the user\'s revoke-all mark, checks the client id, tells the newest secret from the just-retired one (grace or reuse) and from older ones (reuse), and writes the record (idle TTL under the absolute one) and the session index; a timer per command, the Origin check, no-store and a Max-Age that follows the session. No binding, deadline, revocation feed, hooks or schema. Walked like P3.')
  line(`- **P1-uncached, B1-uncached** are P1 and B1 with ${UNCACHED_TOKENS} distinct tokens (twice our verify cache, ${UNCACHED_TOKENS / 2} by default), round-robin: each request carries the next token, and a cyclic walk over more tokens than the cache holds makes it thrash: it then keeps the tokens it holds and admits a token only at its second miss soon after the first, so our \`authenticate\` verifies on half the requests (each token not held) and hits on the other half, where \`jwtVerify\` verifies on every one. **P1-nocache** is P1 on the same tokens with the cache off (\`verifyCacheSize: 0\`): a verification on every request, the cost of a miss alone.`)
  line('- **B3** is @fastify/secure-session: the session is the cookie (libsodium secretbox), opened on every request; nothing on the server, so it cannot be revoked before it expires. Same /login and /me as B2, 1 000 session cookies made at start.')
  line('- **B4, B4-cache** are better-auth (bench/peers/, installed on demand) with its memory adapter for users and accounts and ioredis on the same Redis as its `secondaryStorage` (where its sessions then live); GET /me calls `auth.api.getSession` with the request headers. B4-cache turns on its cookie cache (a signed `session_data` cookie, 5 min), read without Redis while fresh. Sessions are made by `signUpEmail` with a cheap password hash at start.')
  line('- **P3-io6, P3-floor-io6** are P3 and its floor with ioredis 6 (the `ioredis-6` alias of the dev dependencies) as the client, for the plugin and for the floor\'s script.')
  line('- **P4** logs in users whose stored hashes have the default argon2id parameters (m=19456, t=2, p=1), with the Redis store and login limiter. **P4-open** and **P5-open** are P4 and P5 with `argon2Queue: false` (no bound on concurrent verifies, as before the queue), their baselines in the same round. **P4-raw** is `argon2.verify` of such a hash in a process of its own with 50 verifies in flight, on the same default libuv pool of 4 threads.')
  line('- **P5** is one process serving P1\'s `/me` (1 000 tokens, 50 connections) while a second autocannon sends P4-style logins (50 connections). The /me tokens are minted at start by users with cheap hashes; the login load uses other users whose stored hashes have the default parameters, so every login costs what a P4 login does.')
  line()
}
