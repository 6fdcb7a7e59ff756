/**
 * Load for the benchmarks and for the reliability tests, in one place: the refresh cookie they
 * follow, the refresh chains they walk, the summaries they report.
 *
 * Two drivers, because the callers measure different things:
 * - `runThroughput` (bench): autocannon in this process, 50 keep-alive connections with one
 *   request in flight each, as many requests as the server answers; autocannon's histogram gives
 *   the latencies. Dynamic requests use autocannon's `setupRequest`; the refresh chains also use
 *   `onResponse` and the per-connection request context.
 * - `runWorkers` (tests): a bounded number of users speaking real HTTP (global fetch), each
 *   request recorded with its status, stable `code` and latency, so that a test can say which
 *   request failed how, when Redis was down.
 *
 * Both walk refresh chains (refresh with the newest refresh cookie, take the next one from the
 * 200's Set-Cookie) with one cookie parser; what ends a chain differs: the bench counts any other
 * answer as a broken chain, the workers retry a 503 with the same cookie as a real client does.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon'
import { REFRESH_COOKIE, setCookieValue } from './set-cookie.js'
import { quantile, round } from './stats.js'

// ------------------------------------------------------------------ throughput (autocannon), for the benchmarks

export const CONNECTIONS = 50

export type LoadSpec =
  | { kind: 'get', path: string }
  /** GET with `Authorization: Bearer`, round-robin over the tokens. */
  | { kind: 'bearer', path: string, tokens: string[] }
  /** GET with a `Cookie` header, round-robin over the cookies. */
  | { kind: 'cookie', path: string, cookies: string[] }
  /** POST /auth/refresh, each connection following its own rotation chain (see chainRequests). */
  | { kind: 'chain', path: string, pool: TokenPool }
  /** POST /auth/login as `${prefix}N` with `password`, N round-robin below `users`. */
  | { kind: 'login', path: string, prefix: string, users: number, password: string }

export interface LoadResult {
  rps: number
  /** ms */
  p50: number
  p99: number
  total: number
  errors: number
  timeouts: number
  non2xx: number
  seconds: number
  /** chain: responses that ended a chain (anything but 200 with a new refresh cookie) */
  brokenChains?: number
}

/** Refresh tokens handed out to connections as they start a chain; each token is used once. */
export class TokenPool {
  #next = 0
  constructor (readonly tokens: readonly string[]) {}
  take (): string {
    const token = this.tokens[this.#next++]
    if (token === undefined) throw new Error(`the refresh token pool (${this.tokens.length}) is used up: mint more (BENCH_TOKENS)`)
    return token
  }

  get used (): number { return this.#next }
}

/**
 * autocannon resets the request context whenever a connection starts its `requests` list over,
 * so the chain is a long list of the same step: the context (the chain's current token) lives
 * as long as the connection walks the list, far longer than any run here. A new list, a new
 * connection or a broken link starts a fresh chain from the pool.
 */
const CHAIN_STEPS = 10_000

function chainRequests (path: string, pool: TokenPool, broken: { count: number }): AutocannonRequest[] {
  const step: AutocannonRequest = {
    method: 'POST',
    path,
    setupRequest (request, context) {
      context.token ??= pool.take()
      request.headers = { ...request.headers, cookie: `${REFRESH_COOKIE}=${context.token as string}` }
      return request
    },
    onResponse (status, _body, context, headers) {
      const next = status === 200 ? setCookieValue(header(headers, 'set-cookie'), REFRESH_COOKIE) : null
      if (next === null) {
        broken.count++
        delete context.token
      } else {
        context.token = next
      }
    }
  }
  return Array.from({ length: CHAIN_STEPS }, () => step)
}

function header (headers: Record<string, string | string[]>, name: string): string | string[] | undefined {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key]
  return undefined
}

function roundRobin (values: readonly string[], apply: (request: AutocannonRequest, value: string) => void): AutocannonRequest['setupRequest'] {
  let i = 0
  return (request) => {
    apply(request, values[i]!)
    i = (i + 1) % values.length
    return request
  }
}

function requestsFor (spec: LoadSpec, broken: { count: number }): AutocannonRequest[] {
  switch (spec.kind) {
    case 'get':
      return [{ method: 'GET', path: spec.path }]
    case 'bearer':
      return [{ method: 'GET', path: spec.path, setupRequest: roundRobin(spec.tokens, (request, token) => { request.headers = { ...request.headers, authorization: `Bearer ${token}` } }) }]
    case 'cookie':
      return [{ method: 'GET', path: spec.path, setupRequest: roundRobin(spec.cookies, (request, cookie) => { request.headers = { ...request.headers, cookie } }) }]
    case 'chain':
      return chainRequests(spec.path, spec.pool, broken)
    case 'login': {
      const names = Array.from({ length: spec.users }, (_, i) => `${spec.prefix}${i}`)
      return [{
        method: 'POST',
        path: spec.path,
        headers: { 'content-type': 'application/json' },
        setupRequest: roundRobin(names, (request, username) => { request.body = JSON.stringify({ username, password: spec.password }) })
      }]
    }
  }
}

/**
 * Waits until the server has worked off what a finished run left in flight: one more request of
 * the same kind. It queues behind them (argon2's thread pool is first come, first served), so a
 * login run's 50 abandoned verifies do not eat into the next run's time.
 */
export async function drain (port: number, spec: LoadSpec): Promise<void> {
  await autocannon({ url: `http://127.0.0.1:${port}`, connections: 1, amount: 1, timeout: 30, requests: requestsFor(spec, { count: 0 }) })
}

/** overallRate: requests per second over all connections at most (autocannon's); none: as fast as the server answers. */
export async function runThroughput (port: number, spec: LoadSpec, seconds: number, connections = CONNECTIONS, overallRate?: number): Promise<LoadResult> {
  const broken = { count: 0 }
  const result: AutocannonResult = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    ...(overallRate !== undefined && { overallRate }),
    duration: seconds,
    // Its stop flag is read once per sample: 100 ms samples end a run within 0.1 s of `duration`.
    sampleInt: 100,
    pipelining: 1,
    timeout: 10,
    requests: requestsFor(spec, broken)
  })
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    seconds: result.duration,
    ...(spec.kind === 'chain' && { brokenChains: broken.count })
  }
}

// ------------------------------------------------------------------ workers (fetch), for the reliability tests

/**
 * Workers: a bounded HTTP load generator for the reliability tests.
 *
 * N workers, each one user with its own refresh cookie, speak real HTTP (global fetch, keep-alive)
 * to one or more app instances, taking turns between them, and record every response: status,
 * stable `code`, latency. Every loop is bounded: workers stop by themselves at `until()` or after
 * `maxMs`, and every request gives up after `hangMs` (recorded as status 0, code `HANG`), so a
 * hung server can never hang the test.
 *
 * Each worker follows its own refresh chain (one session): refresh with the newest cookie it was
 * given; on 503 keep the same cookie and try again (a real client does that: the rotation may have
 * run, and the grace window then answers with the same newest token); on 401 the chain is LOST.
 * A login that succeeds starts a new chain; the previous one is kept "to verify" while its last
 * refresh was a 503, and is retried until it answers 200 (nothing lost) or 401 (lost).
 */
export type Op = 'login' | 'refresh' | 'me' | 'strict'

export interface Sample {
  /** ms since the recorder's start at which the request was sent */
  at: number
  /** ms until the whole response was read (or until it was given up) */
  ms: number
  worker: number
  /** index of the base URL (app instance) the request went to */
  instance: number
  op: Op
  /** HTTP status; 0: no answer within hangMs; -1: network error */
  status: number
  /** the error body's `code`, HANG, NETWORK:<code>, or null for a success */
  code: string | null
  /** the session the request was about (refresh: the chain's; login: the new one on 200) */
  sessionId: string | null
}

export class Recorder {
  readonly t0 = Date.now()
  readonly samples: Sample[] = []
  readonly marks: Record<string, number> = {}

  now (): number {
    return Date.now() - this.t0
  }

  mark (name: string): number {
    const at = this.now()
    this.marks[name] = at
    return at
  }
}

/** One refresh chain: the life of one session as its client sees it. */
export interface Chain {
  worker: number
  sessionId: string
  /** recorder time of the login that created it */
  createdAt: number
  refreshed: number
  /** the last refresh answered 503 (or hung): the cookie is being retried */
  pending: boolean
  /** 503s after which the same cookie later refreshed (200) */
  recoveredAfter503: number
  /** a 200 refresh answered for another session than the chain's (must never happen) */
  wrongSession: number
  /** set when a refresh of this chain answered 401: the session is lost to its client */
  lost: { at: number, code: string | null } | null
  /** recorder time of the last 200 refresh */
  lastOkAt: number | null
  /** recorder time of the login that replaced it as the worker's current chain */
  supersededAt: number | null
}

export interface Credentials {
  username: string
  password: string
}

interface Answer {
  sample: Sample
  body: Record<string, unknown> | null
  /** the refresh cookie a response set, null when it set none (or cleared it) */
  refreshCookie: string | null
}

/** One user's HTTP client: its cookie, its access token, its chains. */
export class HttpUser {
  refreshToken: string | null = null
  accessToken: string | null = null
  current: Chain | null = null
  /** earlier chains whose last refresh was a 503, with their cookie: retried until they answer */
  readonly toVerify: Array<{ chain: Chain, token: string }> = []
  readonly chains: Chain[] = []
  #requests = 0

  constructor (
    readonly worker: number,
    readonly credentials: Credentials,
    readonly bases: readonly string[],
    readonly recorder: Recorder,
    readonly hangMs: number
  ) {}

  /** Requests take turns between the instances. */
  #instance (): number {
    return (this.worker + this.#requests++) % this.bases.length
  }

  async #send (op: Op, path: string, init: RequestInit, sessionId: string | null): Promise<Answer> {
    const instance = this.#instance()
    const at = this.recorder.now()
    const started = performance.now()
    let status: number
    let code: string | null = null
    let body: Record<string, unknown> | null = null
    let refreshCookie: string | null = null
    try {
      const response = await fetch(this.bases[instance] + path, { ...init, signal: AbortSignal.timeout(this.hangMs) })
      const text = await response.text()
      status = response.status
      try {
        body = text === '' ? null : JSON.parse(text) as Record<string, unknown>
      } catch {
        code = 'NOT_JSON'
      }
      if (status >= 400 && code === null) code = typeof body?.code === 'string' ? body.code : 'NO_CODE'
      refreshCookie = setCookieValue(response.headers.getSetCookie(), REFRESH_COOKIE)
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } }
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        status = 0
        code = 'HANG'
      } else {
        status = -1
        code = `NETWORK:${e.cause?.code ?? e.message}`
      }
    }
    const sample: Sample = { at, ms: performance.now() - started, worker: this.worker, instance, op, status, code, sessionId }
    this.recorder.samples.push(sample)
    return { sample, body, refreshCookie }
  }

  /** POST /auth/login; on 200 a new chain starts (the previous one is kept to verify if it was pending). */
  async login (): Promise<Sample> {
    const answer = await this.#send('login', '/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(this.credentials)
    }, null)
    if (answer.sample.status === 200 && answer.body !== null && answer.refreshCookie !== null) {
      const sessionId = String(answer.body.sessionId)
      answer.sample.sessionId = sessionId
      if (this.current !== null) {
        this.current.supersededAt = answer.sample.at
        if (this.current.pending && this.refreshToken !== null) this.toVerify.push({ chain: this.current, token: this.refreshToken })
      }
      this.current = { worker: this.worker, sessionId, createdAt: answer.sample.at, refreshed: 0, pending: false, recoveredAfter503: 0, wrongSession: 0, lost: null, lastOkAt: null, supersededAt: null }
      this.chains.push(this.current)
      this.refreshToken = answer.refreshCookie
      this.accessToken = String(answer.body.accessToken)
    }
    return answer.sample
  }

  /** POST /auth/refresh with the chain's newest cookie (the current chain by default). */
  async refresh (chain: Chain | null = this.current, token: string | null = this.refreshToken): Promise<Sample | null> {
    if (chain === null || token === null || chain.lost !== null) return null
    const answer = await this.#send('refresh', '/auth/refresh', { method: 'POST', headers: { cookie: `${REFRESH_COOKIE}=${token}` } }, chain.sessionId)
    const { status } = answer.sample
    if (status === 200 && answer.body !== null && answer.refreshCookie !== null) {
      if (String(answer.body.sessionId) !== chain.sessionId) chain.wrongSession++
      if (chain.pending) chain.recoveredAfter503++
      chain.pending = false
      chain.refreshed++
      chain.lastOkAt = answer.sample.at
      if (chain === this.current) {
        this.refreshToken = answer.refreshCookie
        this.accessToken = String(answer.body.accessToken)
      }
    } else if (status === 401 || status === 403) {
      chain.lost = { at: answer.sample.at, code: answer.sample.code }
      chain.pending = false
      if (chain === this.current) {
        this.current = null
        this.refreshToken = null
      }
    } else {
      // 503, a hang, a network error or anything unexpected: keep the cookie and retry later.
      chain.pending = true
    }
    return answer.sample
  }

  /** GET /me (authenticate) or /me/strict (authenticateSession) with the newest access token. */
  async get (op: 'me' | 'strict'): Promise<Sample | null> {
    if (this.accessToken === null) return null
    const answer = await this.#send(op, op === 'me' ? '/me' : '/me/strict', { headers: { authorization: `Bearer ${this.accessToken}` } }, this.current?.sessionId ?? null)
    return answer.sample
  }

  /** Retry the earlier chains left pending by a login (their cookie was never replaced). */
  async verifyEarlier (): Promise<void> {
    for (const entry of [...this.toVerify]) {
      await this.refresh(entry.chain, entry.token)
      if (!entry.chain.pending) this.toVerify.splice(this.toVerify.indexOf(entry), 1)
    }
  }
}

export interface WorkerPlan {
  /** each iteration also makes a GET /me (authenticate) and a GET /me/strict (authenticateSession) */
  protectedRequests: boolean
  /** probability, per iteration, of logging in again (a new session) */
  reloginRate: number
  /** pause between iterations, ms (0: none) */
  thinkMs: number
  /** pause after an iteration whose refresh did not answer 200, ms (a client backs off) */
  backoffMs: number
}

export interface LoadOptions {
  users: Credentials[]
  /** base URLs of the app instances: http://127.0.0.1:PORT */
  bases: readonly string[]
  recorder: Recorder
  /** every request gives up after this long (recorded as a hang) */
  hangMs: number
  plan: WorkerPlan
  /** stop when this returns true (checked between iterations) */
  until: () => boolean
  /** hard bound in any case */
  maxMs: number
  /** a seeded random source, so that runs are comparable */
  random?: () => number
}

/**
 * Log every user in (retrying 503s until the deadline), then loop: refresh, GET /me, GET
 * /me/strict, sometimes log in again, until `until()` or `maxMs`. Resolves with the users.
 */
export async function runWorkers (options: LoadOptions): Promise<HttpUser[]> {
  const { recorder, plan } = options
  const random = options.random ?? Math.random
  const deadline = Date.now() + options.maxMs
  const stop = (): boolean => options.until() || Date.now() >= deadline
  const users = options.users.map((credentials, worker) => new HttpUser(worker, credentials, options.bases, recorder, options.hangMs))

  await Promise.all(users.map(async (user) => {
    while (user.current === null && !stop()) {
      const sample = await user.login()
      if (sample.status !== 200) await sleep(plan.backoffMs)
    }
    while (!stop()) {
      if (user.current === null) {
        // The chain was lost (counted); carry on with a new session.
        const sample = await user.login()
        if (sample.status !== 200) await sleep(plan.backoffMs)
        continue
      }
      const refresh = await user.refresh()
      if (plan.protectedRequests) {
        await user.get('me')
        await user.get('strict')
      }
      if (user.toVerify.length > 0) await user.verifyEarlier()
      if (plan.reloginRate > 0 && random() < plan.reloginRate) await user.login()
      if (refresh !== null && refresh.status !== 200) await sleep(plan.backoffMs)
      else if (plan.thinkMs > 0) await sleep(plan.thinkMs)
    }
  }))
  return users
}

// ------------------------------------------------------------------ summaries

export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

export function latency (samples: readonly Sample[]): LatencySummary {
  const ms = samples.map((s) => s.ms)
  const at = (q: number): number => ms.length === 0 ? 0 : quantile(ms, q)
  return { count: ms.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(at(1)) }
}

/** `op status code` -> count, for a readable comment. */
export function tally (samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const s of samples) {
    const key = `${s.op} ${s.status}${s.code === null ? '' : ` ${s.code}`}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)))
}

// ------------------------------------------------------------------ commands that outlive their request

export interface LateCommand {
  command: string
  /** ms from the call to its reply (or error): more than the command timeout, or any error */
  ms: number
  /** the reply's first element (a script's outcome, e.g. 'rotated', 'grace', 'reused'), or the error */
  outcome: string
  /** the session id argument of the session scripts (ARGV[1]) */
  sessionId: string | null
}

/**
 * Watches script commands on an ioredis client (Redis or Cluster) for errors, and for replies that
 * arrive after the plugin's command timeout: the request has already answered 503 by then, but the command may
 * still have run (ioredis retried it, or Redis answered late), and its effect stays. Wraps the
 * functions that `defineCommand` put on the instance; call it after the plugin was registered.
 */
export function trackLateCommands (redis: object, names: readonly string[], timeoutMs: number): LateCommand[] {
  const late: LateCommand[] = []
  const target = redis as Record<string, unknown>
  for (const name of names) {
    const original = target[name]
    if (typeof original !== 'function') throw new Error(`no command ${name} on the client`)
    target[name] = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const started = performance.now()
      const promise = (original as (...a: unknown[]) => Promise<unknown>).apply(this, args)
      const record = (outcome: string, failed = false): void => {
        const ms = performance.now() - started
        if (ms > timeoutMs || failed) late.push({ command: name, ms: round(ms), outcome, sessionId: typeof args[2] === 'string' ? args[2] : null })
      }
      promise.then(
        (reply) => record(String(Array.isArray(reply) ? reply[0] : reply)),
        (error: Error) => record(`error: ${error.message}`, true)
      )
      return promise
    }
  }
  return late
}
