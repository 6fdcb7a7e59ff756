/**
 * The scenarios (one server file each in bench/scenarios/) and how one of them is measured:
 * start its process, warm up, measure, stop. Shared by the runner and the smoke test.
 */
import type { Redis } from 'ioredis'
import { fileURLToPath } from 'node:url'
import { CONNECTIONS, drain, runThroughput, TokenPool, type LoadResult, type LoadSpec } from '../../support/load.js'
import { PASSWORD } from './fixtures.js'
import { startScenario, type ScenarioProcess } from './spawn.js'
import { DEFAULTS } from '../../src/defaults.js'
import { ensurePeers } from './peers.js'

export type ScenarioId =
  | 'B0' | 'B1' | 'B1-uncached' | 'B2' | 'B3' | 'B4' | 'B4-cache'
  | 'B0-bearer' | 'P1' | 'P1-uncached' | 'P1-nocache' | 'P2' | 'P2-store' | 'P3' | 'P3-floor' | 'P3-mandatory' | 'P3-io6' | 'P3-floor-io6' | 'P4' | 'P4-open' | 'P4-raw' | 'P5' | 'P5-open' | 'P6'

/**
 * Distinct live tokens of the uncached scenarios: twice the verify cache (DEFAULTS.verifyCacheSize).
 * A cyclic walk over more tokens than the cache holds: the cache thrashes, stops admitting one-off
 * tokens and keeps what it held (see src/access/verify-cache.ts), so half the requests verify and
 * half hit; before it noticed (and with an LRU) every request verified. Twice keeps minting short.
 */
export const UNCACHED_TOKENS = 2 * DEFAULTS.verifyCacheSize

export interface Handed { tokens?: string[], cookies?: string[], refreshTokens?: string[], loginUsers?: string, users?: number }

export interface Scenario {
  id: ScenarioId
  file: string
  title: string
  /** Needs the runner's Redis (BENCH_REDIS_URL). */
  redis: boolean
  /** http: one load; mixed: /me and logins at once (P5); raw: the process measures itself (P4-raw). */
  kind: 'http' | 'mixed' | 'raw'
  load?: (data: Handed) => LoadSpec
  /** Extra environment of the scenario process (BENCH_IOREDIS, BENCH_COOKIE_CACHE). */
  env?: Record<string, string>
  /** Tokens / sessions to mint at start, instead of the runner's (1 000). */
  tokens?: number
  /** Lives in bench/peers/ and needs its node_modules (installed on demand by the runner, see peers.ts). */
  peers?: boolean
}

export const bearer = (data: Handed): LoadSpec => ({ kind: 'bearer', path: '/me', tokens: data.tokens! })
export const chain = (data: Handed): LoadSpec => ({ kind: 'chain', path: '/auth/refresh', pool: new TokenPool(data.refreshTokens!) })
export const login = (data: Handed): LoadSpec => ({ kind: 'login', path: '/auth/login', prefix: data.loginUsers!, users: data.users!, password: PASSWORD })

/** The length of P1's access tokens for users user-100 to user-999 (261 to 264 characters: `sub`, `sid`, `roles`, `auth_time`, `amr`, `iat`, `exp`, HS256). */
const P1_TOKEN_LENGTH = 264

const cookies = (data: Handed): LoadSpec => ({ kind: 'cookie', path: '/me', cookies: data.cookies! })
/**
 * better-auth's sign-ups get slower with every user (its memory adapter scans its tables): 250
 * take ~5 s where 1 000 take ~25. getSession reads the session from Redis by its token alone,
 * so how many there are does not change its cost.
 */
const BETTER_AUTH_SESSIONS = 250

export const SCENARIOS: readonly Scenario[] = [
  { id: 'B0', file: 'b0-bare.ts', title: 'bare Fastify GET route (the ceiling)', redis: false, kind: 'http', load: () => ({ kind: 'get', path: '/' }) },
  { id: 'B0-bearer', file: 'b0-bare.ts', title: `B0 sent P1's requests (1 000 \`Authorization: Bearer\` headers, ${P1_TOKEN_LENGTH}-character tokens), checking none`, redis: false, kind: 'http', load: bearer, env: { BENCH_B0_BEARER: String(P1_TOKEN_LENGTH) } },
  { id: 'B1', file: 'b1-fastify-jwt.ts', title: '@fastify/jwt `request.jwtVerify()`, HS256, 1 000 tokens', redis: false, kind: 'http', load: bearer },
  { id: 'P1', file: 'p1-authenticate.ts', title: 'our `authenticate`, HS256, 1 000 tokens', redis: false, kind: 'http', load: bearer },
  { id: 'B1-uncached', file: 'b1-fastify-jwt.ts', title: `B1 with ${UNCACHED_TOKENS.toLocaleString('en-US').replace(/,/g, ' ')} tokens, each request the next one`, redis: false, kind: 'http', load: bearer, tokens: UNCACHED_TOKENS },
  { id: 'P1-uncached', file: 'p1-authenticate.ts', title: `P1 with ${UNCACHED_TOKENS.toLocaleString('en-US').replace(/,/g, ' ')} tokens (2 × the verify cache), each request the next one: the uncached path`, redis: false, kind: 'http', load: bearer, tokens: UNCACHED_TOKENS },
  { id: 'P1-nocache', file: 'p1-authenticate.ts', title: `P1 with the verify cache off (\`verifyCacheSize: 0\`), ${UNCACHED_TOKENS.toLocaleString('en-US').replace(/,/g, ' ')} tokens: every request verifies`, redis: false, kind: 'http', load: bearer, tokens: UNCACHED_TOKENS, env: { BENCH_VERIFY_CACHE: '0' } },
  { id: 'P6', file: 'p6-authenticate-eddsa.ts', title: 'our `authenticate`, EdDSA, 1 000 tokens', redis: false, kind: 'http', load: bearer },
  { id: 'B2', file: 'b2-fastify-session.ts', title: '@fastify/session + connect-redis (ioredis), 1 000 sessions', redis: true, kind: 'http', load: cookies },
  { id: 'B3', file: 'b3-secure-session.ts', title: '@fastify/secure-session: a stateless encrypted cookie (cannot be revoked), 1 000 sessions', redis: false, kind: 'http', load: cookies },
  { id: 'B4', file: '../peers/better-auth.ts', title: `better-auth \`getSession\`, Redis secondary storage, no cookie cache, ${BETTER_AUTH_SESSIONS} sessions`, redis: true, kind: 'http', load: cookies, env: { BENCH_COOKIE_CACHE: 'off' }, peers: true, tokens: BETTER_AUTH_SESSIONS },
  { id: 'B4-cache', file: '../peers/better-auth.ts', title: `better-auth \`getSession\`, Redis secondary storage, cookie cache on (5 min), ${BETTER_AUTH_SESSIONS} sessions`, redis: true, kind: 'http', load: cookies, env: { BENCH_COOKIE_CACHE: 'on' }, peers: true, tokens: BETTER_AUTH_SESSIONS },
  { id: 'P2', file: 'p2-authenticate-session.ts', title: 'our `authenticateSession` (Redis), 1 000 tokens issued once the revocation feed is up (the steady state)', redis: true, kind: 'http', load: bearer },
  { id: 'P2-store', file: 'p2-authenticate-session.ts', title: 'P2 with tokens issued before the feed could vouch for them (an instance\'s first minutes, or the feed down): a store check each', redis: true, kind: 'http', load: bearer, env: { BENCH_P2_TOKENS: 'before-feed' } },
  { id: 'P3-floor', file: 'p3-floor.ts', title: 'floor: 1 EVALSHA + 1 HS256 sign + 1 cookie', redis: true, kind: 'http', load: chain },
  { id: 'P3-mandatory', file: 'p3-mandatory.ts', title: 'the least a correct refresh costs: the floor plus hashes at rest, a sealed successor for grace, the revoke-all, client id, grace and reuse checks, and the record and index writes, in the least code', redis: true, kind: 'http', load: chain },
  { id: 'P3', file: 'p3-refresh.ts', title: 'our POST /auth/refresh, one rotation chain per connection', redis: true, kind: 'http', load: chain },
  { id: 'P3-floor-io6', file: 'p3-floor.ts', title: 'P3-floor on ioredis 6', redis: true, kind: 'http', load: chain, env: { BENCH_IOREDIS: '6' } },
  { id: 'P3-io6', file: 'p3-refresh.ts', title: 'P3 on ioredis 6', redis: true, kind: 'http', load: chain, env: { BENCH_IOREDIS: '6' } },
  { id: 'P4-raw', file: 'p4-raw-argon2.ts', title: 'raw argon2id verify, m=19456 t=2 p=1, 50 in flight', redis: false, kind: 'raw' },
  { id: 'P4', file: 'p4-login.ts', title: 'our POST /auth/login, default argon2id', redis: true, kind: 'http', load: login },
  { id: 'P4-open', file: 'p4-login-open.ts', title: 'P4 with argon2Queue: false (no bound on concurrent verifies)', redis: true, kind: 'http', load: login },
  { id: 'P5', file: 'p5-login-load.ts', title: 'our `authenticate` /me while logins load the same process', redis: true, kind: 'mixed' },
  { id: 'P5-open', file: 'p5-login-load-open.ts', title: 'P5 with argon2Queue: false (no bound on concurrent verifies)', redis: true, kind: 'mixed' }
]

const scenarioFile = (scenario: Scenario): string => fileURLToPath(new URL(`../scenarios/${scenario.file}`, import.meta.url))

/** P3 only: what Redis did for the measured refreshes. */
export interface RefreshRedisStats {
  /** Refresh requests the server answered during the measured run, by status. */
  statuses: Record<string, number>
  /** Refresh requests the server received in the measured window (answered or abandoned by the client). */
  refreshes: number
  /** Commands our ioredis client sent (round trips), by name. */
  sent: Record<string, number>
  /** INFO commandstats delta by command: the scripts' inner commands count there too. */
  commandstats: Record<string, number>
}

export interface Measurement extends LoadResult {
  /** CPU the server process used over the measured run (all its threads), µs. */
  serverCpuUs?: number
  /** CPU redis-server used over the measured run (INFO cpu), µs; Redis scenarios only. */
  redisCpuUs?: number
  /** Commands the server's Redis client sent over the measured run (round trips), by name. */
  redisSent?: Record<string, number>
  /** P5: the login load that ran beside the /me load. */
  login?: LoadResult
  redis?: RefreshRedisStats
  /** With MeasureOptions.nodes: each node's CPU over the measured run, µs. */
  redisCpuByNode?: number[]
  /** The measured window on the server's clock (µs), to cut its CPU profile. */
  window?: { fromUs: number, toUs: number }
}

export interface MeasureOptions {
  warmupS: number
  measureS: number
  /** Per load (default 50); the smoke test uses a few, so that slow logins still complete within its second. */
  connections?: number
  /**
   * Sessions / tokens each scenario mints at start; a scenario with its own count (the uncached
   * ones) mints that many instead, unless this is below DEFAULT_TOKENS (the smoke test's few).
   */
  tokens: number
  redisUrl: string | null
  /** An admin connection to that Redis: INFO cpu for every Redis scenario, INFO commandstats for P3. */
  admin: Redis | null
  /** A Redis Cluster's masters (bench/cluster.ts): Redis CPU is their sum, and each one's is kept (redisCpuByNode). */
  nodes?: Redis[]
  /** More environment for the scenario process. */
  env?: Record<string, string>
  /** Requests per second at most, over all connections (bench/cluster.ts: one shard at a Cluster shard's load). */
  overallRate?: number
  /** Profile the server with `node --cpu-prof` into this directory (see mainThreadProfile). */
  cpuProfileDir?: string
}

interface Stats { stats: { requests?: number, statuses?: Record<string, number>, sent?: Record<string, number> }, at: number, cpu: { user: number, system: number } }

/** redis-server's CPU so far (INFO cpu, user + sys), µs. */
export async function redisCpuUs (admin: Redis | null): Promise<number | null> {
  if (admin === null) return null
  const info = await admin.info('cpu')
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN)
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6)
}

/** What the runner mints by default; a caller asking for fewer (the smoke test) gets fewer in every scenario. */
export const DEFAULT_TOKENS = 1000

export async function measure (scenario: Scenario, options: MeasureOptions): Promise<Measurement> {
  if (scenario.redis && options.redisUrl === null) throw new Error(`${scenario.id} needs Redis`)
  if (scenario.peers === true) {
    const problem = ensurePeers((line) => process.stderr.write(`${line}\n`))
    if (problem !== null) throw new Error(`${scenario.id} cannot run: ${problem}`)
  }
  const tokens = scenario.tokens !== undefined && options.tokens >= DEFAULT_TOKENS ? scenario.tokens : options.tokens
  const child = await startScenario(scenarioFile(scenario), {
    env: { BENCH_TOKENS: String(tokens), ...(options.redisUrl !== null && { BENCH_REDIS_URL: options.redisUrl }), ...scenario.env, ...options.env },
    ...(options.cpuProfileDir !== undefined && { cpuProfileDir: options.cpuProfileDir })
  })
  try {
    if (scenario.kind === 'raw') return await measureRaw(child, options)
    return await measureHttp(scenario, child, options)
  } finally {
    await child.stop()
  }
}

async function measureRaw (child: ScenarioProcess, options: MeasureOptions): Promise<Measurement> {
  const { result } = await child.ask<{ result: { total: number, seconds: number, rps: number, p50: number, p99: number, serverCpuUs: number } }>(
    { type: 'run', warmupMs: options.warmupS * 1000, measureMs: options.measureS * 1000, concurrency: options.connections ?? CONNECTIONS }, 'result')
  return { ...result, errors: 0, timeouts: 0, non2xx: 0 }
}

async function measureHttp (scenario: Scenario, child: ScenarioProcess, options: MeasureOptions): Promise<Measurement> {
  const data = child.data as Handed
  // Built once: P3's and the floor's token pool serves the warm-up and the measured run.
  const specs = scenario.kind === 'mixed' ? [bearer(data), login(data)] : [scenario.load!(data)]
  const run = async (seconds: number): Promise<Measurement> => {
    const [main, beside] = await Promise.all(specs.map(async (spec) => await runThroughput(child.port, spec, seconds, options.connections, options.overallRate)))
    return beside === undefined ? main! : { ...main!, login: beside }
  }

  if (options.warmupS > 0) {
    await run(options.warmupS)
    await Promise.all(specs.map(async (spec) => await drain(child.port, spec)))
  }
  const isRefresh = scenario.id === 'P3' || scenario.id === 'P3-io6'
  if (isRefresh) await options.admin?.config('RESETSTAT')
  const nodesBefore = await Promise.all((options.nodes ?? []).map(async (node) => await redisCpuUs(node)))
  const redisBefore = scenario.redis ? await redisCpuUs(options.admin) : null
  const before = await child.ask<Stats>({ type: 'stats' }, 'stats')
  const result = await run(options.measureS)
  // Let the requests still in flight when autocannon stopped finish before counting.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const after = await child.ask<Stats>({ type: 'stats' }, 'stats')
  const redisAfter = scenario.redis ? await redisCpuUs(options.admin) : null
  const byNode = (await Promise.all((options.nodes ?? []).map(async (node) => await redisCpuUs(node)))).map((after, i) => after! - nodesBefore[i]!)
  const measurement: Measurement = {
    ...result,
    serverCpuUs: after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system,
    ...(redisBefore !== null && redisAfter !== null && { redisCpuUs: redisAfter - redisBefore }),
    ...(byNode.length > 0 && { redisCpuUs: byNode.reduce((a, b) => a + b, 0), redisCpuByNode: byNode }),
    ...(after.stats.sent !== undefined && { redisSent: delta(before.stats.sent ?? {}, after.stats.sent) }),
    window: { fromUs: before.at, toUs: after.at }
  }
  if (isRefresh) measurement.redis = await refreshRedisStats(before, after, options.admin)
  return measurement
}

async function refreshRedisStats (before: Stats, after: Stats, admin: Redis | null): Promise<RefreshRedisStats> {
  const statuses = delta(before.stats.statuses ?? {}, after.stats.statuses ?? {})
  const commandstats: Record<string, number> = {}
  if (admin !== null) {
    for (const match of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      // The runner's own INFO / CONFIG are not the server's.
      if (match[1] !== 'info' && !match[1]!.startsWith('config')) commandstats[match[1]!] = Number(match[2])
    }
  }
  return {
    statuses,
    refreshes: (after.stats.requests ?? 0) - (before.stats.requests ?? 0),
    sent: delta(before.stats.sent ?? {}, after.stats.sent ?? {}),
    commandstats
  }
}

function delta (before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of Object.entries(after)) if (value - (before[key] ?? 0) !== 0) out[key] = value - (before[key] ?? 0)
  return out
}
