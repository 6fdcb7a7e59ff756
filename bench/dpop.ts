/**
 * DPoP on vs off, side by side in one run: `npm run bench -- --dpop [--quick]` (or
 * `npx tsx bench/dpop.ts`). For `authenticate` on GET /me (D1) and POST /auth/refresh (D2), each
 * mode's server runs in its own process on 127.0.0.1 while autocannon (50 connections, this
 * process) loads it; off and on alternate within each round so that a drifting machine shifts
 * neither against the other. The proofs are signed here before each run (a real client signs its
 * own), so the server's numbers are the server's cost: proof verification, `ath`, the jti claim
 * (one `SET NX PX`) and the DPoP-bound token. Also measured: the jti claim on Redis
 * (commandstats usec per call) and each mode's server CPU per request. Writes bench/DPOP.md.
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon'
import { createHash, randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose'
import { startRedis } from '../support/redis-harness.js'
import { REFRESH_COOKIE, setCookieValue } from '../support/set-cookie.js'
import { formatNumber, median } from '../support/stats.js'
import { REPO_ROOT, startScenario, type ScenarioProcess } from './lib/spawn.js'
import { MemoryReplayGuard, RedisReplayGuard } from '../src/binding/dpop/replay.js'

const CONNECTIONS = 50
type Mode = 'off' | 'on'
type Scenario = 'D1' | 'D2'
const FILES: Record<Scenario, string> = { D1: 'd1-dpop-authenticate.ts', D2: 'd2-dpop-refresh.ts' }
const TITLES: Record<Scenario, string> = { D1: '`authenticate` GET /me (Bearer vs DPoP + proof with ath)', D2: 'POST /auth/refresh, one rotation chain per connection (no proof vs proof)' }

interface Run { rps: number, p50: number, p99: number, non2xx: number, total: number, cpuUsPerRequest: number, redisCpuUsPerRequest: number, setCalls: number, setUsecPerCall: number | null }

const log = (line: string): void => { process.stderr.write(`${line}\n`) }

/** Signs `count` proofs for one URL ahead of a run (jose, ES256, the key imported once). */
async function proofPool (privateKey: CryptoKey, jwk: JWK, htm: string, htu: string, count: number, ath?: string): Promise<string[]> {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk }
  const iat = Math.floor(Date.now() / 1000)
  const proofs: string[] = []
  for (let i = 0; i < count; i++) {
    const payload = JSON.stringify({ htm, htu, iat, jti: randomUUID(), ...(ath !== undefined && { ath }) })
    proofs.push(await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader(header).sign(privateKey))
  }
  return proofs
}

async function redisStats (admin: Redis): Promise<{ cpuUs: number, setCalls: number, setUsec: number }> {
  const cpu = await admin.info('cpu')
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? Number.NaN)
  const set = /^cmdstat_set:calls=(\d+),usec=(\d+)/m.exec(await admin.info('commandstats'))
  return { cpuUs: Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6), setCalls: Number(set?.[1] ?? 0), setUsec: Number(set?.[2] ?? 0) }
}

function requests (scenario: Scenario, mode: Mode, data: { accessToken?: string, refreshTokens?: string[] }, proofs: string[]): AutocannonRequest[] {
  let next = 0
  const proof = (): string => {
    const p = proofs[next++]
    if (p === undefined) throw new Error('the proof pool is used up: the run was faster than the estimate')
    return p
  }
  if (scenario === 'D1') {
    const authorization = `${mode === 'on' ? 'DPoP' : 'Bearer'} ${data.accessToken!}`
    return [{ method: 'GET', path: '/me', setupRequest (request) { request.headers = { ...request.headers, authorization, ...(mode === 'on' && { dpop: proof() }) }; return request } }]
  }
  let taken = 0
  const step: AutocannonRequest = {
    method: 'POST',
    path: '/auth/refresh',
    setupRequest (request, context) {
      context.token ??= data.refreshTokens![taken++]
      request.headers = { ...request.headers, cookie: `${REFRESH_COOKIE}=${context.token as string}`, ...(mode === 'on' && { dpop: proof() }) }
      return request
    },
    onResponse (status, _body, context, headers) {
      const next = status === 200 ? setCookieValue(headers['set-cookie'] ?? headers['Set-Cookie'], REFRESH_COOKIE) : null
      if (next === null) delete context.token
      else context.token = next
    }
  }
  return Array.from({ length: 10_000 }, () => step)
}

async function load (port: number, reqs: AutocannonRequest[], seconds: number): Promise<AutocannonResult> {
  return await autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: seconds, sampleInt: 100, pipelining: 1, timeout: 10, requests: reqs })
}

interface ClaimCost { guard: string, cpuUs: number, wallUs: number, redisUsecPerCall: number | null }
const CLAIMS = 20_000

/** The jti claim by itself: what ReplayGuard.claim costs this process per call, on Redis and in memory. */
async function measureClaims (redisUrl: string): Promise<ClaimCost[]> {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false })
  await new Promise((resolve) => redis.once('ready', resolve))
  const admin = new Redis(redisUrl)
  const out: ClaimCost[] = []
  try {
    for (const [guard, replay] of [['Redis SET NX PX', new RedisReplayGuard(redis, 'bench-jti:', 1000)], ['memory', new MemoryReplayGuard()]] as const) {
      let n = 0
      const run = async (count: number): Promise<void> => {
        await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
          while (n < count) { n++; await replay.claim('A'.repeat(43), randomUUID(), 61_000) }
        }))
      }
      await run(2000)
      n = 0
      await admin.config('RESETSTAT')
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      await run(CLAIMS)
      const wallUs = (performance.now() - t0) * 1000 / CLAIMS
      const used = process.cpuUsage(cpu)
      const set = /^cmdstat_set:calls=(\d+),usec=(\d+)/m.exec(await admin.info('commandstats'))
      out.push({ guard, cpuUs: (used.user + used.system) / CLAIMS, wallUs, redisUsecPerCall: guard === 'memory' || set === null ? null : Number(set[2]) / Number(set[1]) })
    }
  } finally {
    redis.disconnect()
    admin.disconnect()
  }
  return out
}

export async function main (argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, out: { type: 'string' } } })
  const quick = values.quick === true
  const rounds = Number(values.rounds ?? (quick ? 1 : 3))
  const warmupS = quick ? 1 : 2
  const measureS = quick ? 3 : 6
  const server = await startRedis({ allowExternal: false })
  const admin = new Redis(server.url)
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const privateJwk = await exportJWK(privateKey)
  const { d: _d, ...publicJwk } = privateJwk
  const runs: Record<string, Run[]> = {}
  /** The fastest rate seen per scenario: sizes the next proof pool. */
  const fastest: Record<Scenario, number> = { D1: 20_000, D2: 8_000 }
  let claims: ClaimCost[] = []
  try {
    for (let round = 0; round < rounds; round++) {
      for (const scenario of ['D1', 'D2'] as const) {
        for (const mode of (round % 2 === 0 ? ['off', 'on'] : ['on', 'off']) as Mode[]) {
          const child: ScenarioProcess = await startScenario(`${REPO_ROOT}bench/scenarios/${FILES[scenario]}`, {
            env: { BENCH_REDIS_URL: server.url, BENCH_TOKENS: String(CONNECTIONS * 40), BENCH_DPOP: mode, BENCH_DPOP_JWK: JSON.stringify(privateJwk) }
          })
          try {
            const data = child.data as { accessToken?: string, refreshTokens?: string[] }
            const url = scenario === 'D1' ? `http://127.0.0.1:${child.port}/me` : `http://127.0.0.1:${child.port}/auth/refresh`
            const ath = scenario === 'D1' ? createHash('sha256').update(data.accessToken!).digest('base64url') : undefined
            const count = mode === 'on' ? Math.ceil(fastest[scenario] * 1.3 * (warmupS + measureS)) : 0
            const proofs = await proofPool(privateKey, publicJwk, scenario === 'D1' ? 'GET' : 'POST', url, count, ath)
            const reqs = requests(scenario, mode, data, proofs)
            await load(child.port, reqs, warmupS)
            await admin.config('RESETSTAT')
            const redisBefore = await redisStats(admin)
            const before = await child.ask<{ cpu: { user: number, system: number } }>({ type: 'stats' }, 'stats')
            const result = await load(child.port, reqs, measureS)
            await new Promise((resolve) => setTimeout(resolve, 300))
            const after = await child.ask<{ cpu: { user: number, system: number } }>({ type: 'stats' }, 'stats')
            const redisAfter = await redisStats(admin)
            const total = result.requests.total
            const run: Run = {
              rps: total / result.duration,
              p50: result.latency.p50,
              p99: result.latency.p99,
              non2xx: result.non2xx + result.errors + result.timeouts,
              total,
              cpuUsPerRequest: (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / total,
              redisCpuUsPerRequest: (redisAfter.cpuUs - redisBefore.cpuUs) / total,
              setCalls: redisAfter.setCalls,
              // Outside the scripts, SET runs only as the jti claim (the scripts' own SETs count too: see setCalls).
              setUsecPerCall: redisAfter.setCalls > 0 ? redisAfter.setUsec / redisAfter.setCalls : null
            }
            fastest[scenario] = Math.max(fastest[scenario], run.rps)
            ;(runs[`${scenario} ${mode}`] ??= []).push(run)
            log(`[round ${round + 1}/${rounds}] ${scenario} dpop ${mode}: ${formatNumber(run.rps)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.cpuUsPerRequest.toFixed(0)} µs CPU/req, non-2xx ${run.non2xx}`)
          } finally {
            await child.stop()
          }
        }
      }
    }
    claims = await measureClaims(server.url)
  } finally {
    admin.disconnect()
    await server.close()
  }
  const m = (key: string, pick: (r: Run) => number): number => median((runs[key] ?? []).map(pick))
  const lines = [
    '# DPoP on vs off',
    '',
    `\`npm run bench -- --dpop${quick ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, Node ${process.version}; ` +
      `${rounds} round(s) of ${warmupS} s warm-up + ${measureS} s measured per mode, ${CONNECTIONS} connections, medians over rounds. ES256 proofs signed ahead by the runner.`,
    '',
    '| scenario | DPoP | req/s | p50 ms | p99 ms | server CPU µs/req | Redis CPU µs/req | non-2xx | on/off req/s |',
    '|---|---|---|---|---|---|---|---|---|'
  ]
  for (const scenario of ['D1', 'D2'] as const) {
    for (const mode of ['off', 'on'] as const) {
      const key = `${scenario} ${mode}`
      const ratio = mode === 'on' ? (m(key, (r) => r.rps) / m(`${scenario} off`, (r) => r.rps)).toFixed(2) : ''
      lines.push(`| ${scenario} ${TITLES[scenario]} | ${mode} | ${formatNumber(m(key, (r) => r.rps))} | ${m(key, (r) => r.p50)} | ${m(key, (r) => r.p99)} | ${m(key, (r) => r.cpuUsPerRequest).toFixed(0)} | ${m(key, (r) => r.redisCpuUsPerRequest).toFixed(1)} | ${m(key, (r) => r.non2xx)} | ${ratio} |`)
    }
  }
  const d1On = runs['D1 on'] ?? []
  lines.push('', `The jti claim on Redis (D1 on, where SET is only the claim): ${median(d1On.map((r) => r.setUsecPerCall ?? 0)).toFixed(2)} µs of Redis time per SET (commandstats usec/calls), ` +
    `${median(d1On.map((r) => r.setCalls / r.total)).toFixed(2)} SET per request; server CPU per request ${m('D1 off', (r) => r.cpuUsPerRequest).toFixed(0)} µs off, ${m('D1 on', (r) => r.cpuUsPerRequest).toFixed(0)} µs on.`)
  for (const c of claims) lines.push(`- the jti claim alone (${c.guard}), ${CLAIMS} claims, ${CONNECTIONS} in flight: ${c.cpuUs.toFixed(1)} µs of this process's CPU and ${c.wallUs.toFixed(1)} µs of wall time per claim${c.redisUsecPerCall === null ? '' : `, ${c.redisUsecPerCall.toFixed(2)} µs in Redis`}`)
  const out = values.out ?? `${REPO_ROOT}bench/DPOP.md`
  writeFileSync(out, lines.join('\n') + '\n')
  log(lines.join('\n'))
  log(`wrote ${out}`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2))
