/**
 * The client retries a refresh answered 503 (or lost to the network) with bounded, jittered
 * backoff, within its single flight; it never retries a 401, and it keeps the session when the
 * retries run out. End to end: Redis frozen during a refresh, the client's retry lands after it
 * resumes and gets the session's next token (the 503 changed nothing on the server).
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RefreshSessionsClient } from '../src/client/index.js'
import { buildApp } from './helpers/build-app.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { redisForTest } from '../support/redis-harness.js'

const BASE = 'http://api.test'
const tokenBody = (n: number): string => JSON.stringify({ accessToken: `access-${n}`, tokenType: 'Bearer', expiresIn: 900, sessionId: 's1', refreshToken: `refresh-${n}` })

/** A fetch that answers /auth/refresh from a script of statuses, counting and timing the calls. */
function scripted (statuses: Array<number | 'network'>, headers: Record<string, string> = {}): { fetch: typeof fetch, calls: number[] } {
  const calls: number[] = []
  const fetchStub = async (input: string | URL | Request): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input)
    if (url.endsWith('/auth/login')) return new Response(tokenBody(0), { status: 200, headers: { 'content-type': 'application/json' } })
    calls.push(performance.now())
    const status = statuses[Math.min(calls.length - 1, statuses.length - 1)]!
    if (status === 'network') throw new TypeError('fetch failed')
    if (status === 200) return new Response(tokenBody(calls.length), { status, headers: { 'content-type': 'application/json' } })
    const code = status === 503 ? 'AUTH_STORE_UNAVAILABLE' : 'AUTH_REFRESH_INVALID'
    return new Response(JSON.stringify({ statusCode: status, code, error: 'x', message: 'x' }), { status, headers: { 'content-type': 'application/json', ...headers } })
  }
  return { fetch: fetchStub as typeof fetch, calls }
}

async function loggedIn (stub: { fetch: typeof fetch }, retry?: { attempts?: number, baseDelayMs?: number, maxDelayMs?: number }): Promise<{ client: RefreshSessionsClient, lost: string[] }> {
  const client = new RefreshSessionsClient({ baseUrl: BASE, fetch: stub.fetch, transport: 'body', crossTab: false, refreshRetry: { baseDelayMs: 5, maxDelayMs: 50, ...retry } })
  const lost: string[] = []
  client.addEventListener('session-lost', (event) => { lost.push((event as CustomEvent<{ reason: string }>).detail.reason) })
  await client.login('alice', 'pw')
  return { client, lost }
}

t.test('503, 503, then 200: the third try gets the token', async (t) => {
  const stub = scripted([503, 503, 200])
  const { client, lost } = await loggedIn(stub)
  t.equal(await client.refresh(), 'access-3')
  t.equal(stub.calls.length, 3)
  t.same(lost, [])
})

t.test('a network error is retried like a 503', async (t) => {
  const stub = scripted(['network', 200])
  const { client } = await loggedIn(stub)
  t.equal(await client.refresh(), 'access-2')
  t.equal(stub.calls.length, 2)
})

t.test('bounded: attempts + 1 calls, then null, and the session is kept for the next call', async (t) => {
  const stub = scripted([503])
  const { client, lost } = await loggedIn(stub, { attempts: 2 })
  t.equal(await client.refresh(), null)
  t.equal(stub.calls.length, 3, 'one call and two retries')
  t.same(lost, [], 'no session-lost: a 503 changed nothing')
  t.equal(client.sessionId, 's1', 'still holding the session')
})

t.test('attempts: 0 turns retries off', async (t) => {
  const stub = scripted([503])
  const { client } = await loggedIn(stub, { attempts: 0 })
  t.equal(await client.refresh(), null)
  t.equal(stub.calls.length, 1)
})

t.test('a 401 is never retried', async (t) => {
  const stub = scripted([401])
  const { client, lost } = await loggedIn(stub)
  t.equal(await client.refresh(), null)
  t.equal(stub.calls.length, 1)
  t.same(lost, ['refresh-failed'])
})

t.test('the backoff grows and Retry-After is honoured (lower bounds only: timers never fire early)', async (t) => {
  const stub = scripted([503, 503, 200], { 'retry-after': '1' })
  const { client } = await loggedIn(stub, { baseDelayMs: 1, maxDelayMs: 5_000 })
  await client.refresh()
  t.ok(stub.calls[1]! - stub.calls[0]! >= 990, `waited ${Math.round(stub.calls[1]! - stub.calls[0]!)} ms, as Retry-After: 1 asked`)
  const quick = scripted([503, 503, 503, 200])
  const { client: second } = await loggedIn(quick, { baseDelayMs: 100, maxDelayMs: 10_000 })
  await second.refresh()
  const gaps = quick.calls.slice(1).map((at, i) => at - quick.calls[i]!)
  t.ok(gaps[0]! >= 49 && gaps[1]! >= 99 && gaps[2]! >= 199, `each wait at least half its doubling step: ${gaps.map(Math.round).join(', ')} ms`)
})

t.test('single flight: ten callers during a retried refresh make one refresh sequence', async (t) => {
  const stub = scripted([503, 503, 200])
  const { client } = await loggedIn(stub)
  const tokens = await Promise.all(Array.from({ length: 10 }, async () => await client.refresh('access-0')))
  t.same(new Set(tokens), new Set(['access-3']))
  t.equal(stub.calls.length, 3, 'three calls in all, not thirty')
})

t.test('end to end: Redis frozen during a refresh; the retry after it resumes rotates the same session', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const { app } = await buildApp(t, { options: { redis, prefix: uniquePrefix('retry'), transport: 'body', commandTimeout: '300ms', refreshToken: { reuseGrace: '100ms' } } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address() as { port: number }
  const client = new RefreshSessionsClient({ baseUrl: `http://127.0.0.1:${address.port}`, transport: 'body', crossTab: false, refreshRetry: { attempts: 5, baseDelayMs: 200, maxDelayMs: 1_000 } })
  const lost: string[] = []
  client.addEventListener('session-lost', (event) => { lost.push((event as CustomEvent<{ reason: string }>).detail.reason) })
  await client.login('alice', 'alice-password-1')
  const sessionId = client.sessionId
  process.kill(server.pid!, 'SIGSTOP')
  let resumed = false
  const resume = sleep(700).then(() => { process.kill(server.pid!, 'SIGCONT'); resumed = true })
  t.teardown(() => { if (!resumed) process.kill(server.pid!, 'SIGCONT') })
  const token = await client.refresh()
  await resume
  t.type(token, 'string', 'the refresh succeeded after retries')
  t.equal(client.sessionId, sessionId, 'the same session')
  t.same(lost, [], 'never lost')
  const list = await client.fetch('/auth/sessions')
  t.equal((await list.json() as { sessions: unknown[] }).sessions.length, 1, 'one session: nothing branched, nothing revoked')
  client.close()
})
