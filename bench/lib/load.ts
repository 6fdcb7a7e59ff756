/**
 * Load shapes, driven by autocannon in the runner's process: 50 keep-alive connections,
 * one request in flight on each. Dynamic requests use autocannon's `setupRequest`; the refresh
 * chains also use `onResponse` and the per-connection request context.
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon'
import { PASSWORD, REFRESH_COOKIE } from './fixtures.js'
import { setCookieValue } from './set-cookie.js'

export const CONNECTIONS = 50

export type LoadSpec =
  | { kind: 'get', path: string }
  /** GET with `Authorization: Bearer`, round-robin over the tokens. */
  | { kind: 'bearer', path: string, tokens: string[] }
  /** GET with a `Cookie` header, round-robin over the cookies. */
  | { kind: 'cookie', path: string, cookies: string[] }
  /** POST /auth/refresh, each connection following its own rotation chain (see chainRequests). */
  | { kind: 'chain', path: string, pool: TokenPool }
  /** POST /auth/login as `${prefix}N`, N round-robin below `users`. */
  | { kind: 'login', path: string, prefix: string, users: number }

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
        setupRequest: roundRobin(names, (request, username) => { request.body = JSON.stringify({ username, password: PASSWORD }) })
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

export async function runLoad (port: number, spec: LoadSpec, seconds: number, connections = CONNECTIONS): Promise<LoadResult> {
  const broken = { count: 0 }
  const result: AutocannonResult = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
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
