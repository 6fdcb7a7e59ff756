/**
 * OpenTelemetry (issue 10, "Operators can see it"): an in-memory metric reader and span exporter
 * installed as this process's global providers (tap runs each file in its own process; they are
 * also disabled at the end), the plugin driven through every outcome on the memory store and on
 * a real Redis, and exact counts per attribute set, span names, attributes and status read back.
 * Then a sweep: no attribute anywhere carries a username, password, token, user id or ip.
 */
import t, { type Test } from 'tap'
import { AsyncLocalStorage } from 'node:async_hooks'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { context, metrics, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type ContextManager } from '@opentelemetry/api'
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { FastifyInstance } from 'fastify'
import { holdVerifies, until } from './helpers/hold-argon2.js'
import { ALICE, BOB, buildApp, login, type TestUser } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from '../src/telemetry.js'

/** What NodeSDK installs: without a context manager spans cannot nest, in any library. */
class AsyncLocalStorageContext implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>()
  active (): Context { return this.#storage.getStore() ?? ROOT_CONTEXT }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>> (ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args))
  }

  bind<T> (_ctx: Context, target: T): T { return target }
  enable (): this { return this }
  disable (): this { this.#storage.disable(); return this }
}

class TestReader extends MetricReader {
  constructor () { super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE }) }
  protected override async onShutdown (): Promise<void> {}
  protected override async onForceFlush (): Promise<void> {}
}

const reader = new TestReader()
const spans = new InMemorySpanExporter()
const meterProvider = new MeterProvider({ readers: [reader] })
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
context.setGlobalContextManager(new AsyncLocalStorageContext())
metrics.setGlobalMeterProvider(meterProvider)
trace.setGlobalTracerProvider(tracerProvider)
t.teardown(async () => {
  metrics.disable()
  trace.disable()
  context.disable()
  await meterProvider.shutdown()
  await tracerProvider.shutdown()
})

const CAROL: TestUser = { id: 'u-carol', username: 'carol', password: 'carol-password-1', roles: ['user'], disabled: true }
const DAVE: TestUser = { id: 'u-dave', username: 'dave', password: 'dave-password-1', roles: ['user'] }
const USERS = [ALICE, BOB, CAROL, DAVE]
const ATTACKER_IP = '203.0.113.77'
/** Every value that must never reach telemetry; tokens are added as they are minted. */
const secrets = new Set<string>([ATTACKER_IP, '127.0.0.1', 'mallory', 'wrong-password-123', ...USERS.flatMap((u) => [u.id, u.username, u.password])])

async function collect (): Promise<MetricData[]> {
  const { resourceMetrics, errors } = await reader.collect()
  if (errors.length > 0) throw errors[0]
  return resourceMetrics.scopeMetrics.filter((s) => s.scope.name === INSTRUMENTATION_NAME).flatMap((s) => s.metrics)
}

/** name{sorted attributes} -> counter value or histogram count. */
async function snapshot (): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const metric of await collect()) {
    for (const point of metric.dataPoints) {
      const key = `${metric.descriptor.name}${JSON.stringify(Object.fromEntries(Object.entries(point.attributes).sort()))}`
      out.set(key, metric.dataPointType === DataPointType.HISTOGRAM ? (point.value as { count: number }).count : point.value as number)
    }
  }
  return out
}

/** What `work` added to every counter and histogram (only the non-zero changes). */
async function delta (work: () => Promise<void>): Promise<Record<string, number>> {
  const before = await snapshot()
  await work()
  const after = await snapshot()
  const out: Record<string, number> = {}
  for (const [key, value] of after) if (value !== (before.get(key) ?? 0)) out[key] = value - (before.get(key) ?? 0)
  return out
}

const key = (name: string, attributes: Record<string, string> = {}): string => `${name}${JSON.stringify(Object.fromEntries(Object.entries(attributes).sort()))}`
const refreshes = (outcome: string) => key('refresh_sessions.refreshes', { 'refresh_sessions.outcome': outcome })
const logins = (outcome: string) => key('refresh_sessions.logins', { 'refresh_sessions.outcome': outcome })
const reauthentications = (outcome: string) => key('refresh_sessions.reauthentications', { 'refresh_sessions.outcome': outcome })
const logouts = (outcome: string, scope: string) => key('refresh_sessions.logouts', { 'refresh_sessions.outcome': outcome, 'refresh_sessions.scope': scope })
const storeDuration = (operation: string, redis: boolean, error?: string) => key('refresh_sessions.store.duration', { 'db.operation.name': operation, ...(redis && { 'db.system': 'redis', 'db.system.name': 'redis' }), ...(error !== undefined && { 'error.type': error }) })
const storeUnavailable = (operation: string) => key('refresh_sessions.store.unavailable', { 'db.operation.name': operation, 'db.system': 'redis', 'db.system.name': 'redis' })

const post = (app: FastifyInstance, url: string, extra: { token?: string, payload?: unknown, headers?: Record<string, string>, ip?: string } = {}) => app.inject({
  method: 'POST',
  url,
  ...(extra.token !== undefined && { cookies: { refresh_token: extra.token } }),
  ...(extra.payload !== undefined && { payload: extra.payload as Record<string, unknown> }),
  headers: extra.headers,
  ...(extra.ip !== undefined && { remoteAddress: extra.ip })
})

async function refreshOk (app: FastifyInstance, token: string): Promise<string> {
  const response = await post(app, '/auth/refresh', { token })
  if (response.statusCode !== 200) throw new Error(`refresh: ${response.statusCode} ${response.body}`)
  const next = response.cookies.find((c) => c.name === 'refresh_token')!.value
  secrets.add(next)
  return next
}

async function loggedIn (app: FastifyInstance, user: TestUser): Promise<Awaited<ReturnType<typeof login>>> {
  const session = await login(app, user)
  secrets.add(session.refreshToken).add(session.accessToken)
  return session
}

/** Every route outcome but `expired` (its own test) and the 503s (theirs), with the status each must get. */
async function everyOutcome (t: Test, app: FastifyInstance, users: Map<string, TestUser>): Promise<void> {
  // Logins (limit: 3 failures per username+ip, see build below).
  t.equal((await post(app, '/auth/login', { payload: { username: 'mallory', password: 'wrong-password-123' } })).statusCode, 401, 'unknown-user')
  t.equal((await post(app, '/auth/login', { payload: { username: BOB.username, password: 'wrong-password-123' } })).statusCode, 401, 'wrong-password')
  t.equal((await post(app, '/auth/login', { payload: { username: CAROL.username, password: CAROL.password } })).statusCode, 401, 'disabled')
  for (let i = 0; i < 3; i++) await post(app, '/auth/login', { payload: { username: 'mallory', password: 'wrong-password-123' }, ip: ATTACKER_IP })
  t.equal((await post(app, '/auth/login', { payload: { username: 'mallory', password: 'wrong-password-123' }, ip: ATTACKER_IP })).statusCode, 429, 'rate-limited')

  // Refreshes: t0 -> t1 (rotated), t0 again (grace), t1 -> t2 (rotated), t0 (stale: within the
  // default 10 s grace of the rotation before the last), t2 -> t3, t0 (reused: older than that).
  const alice = await loggedIn(app, ALICE)
  t.equal((await post(app, '/auth/refresh')).statusCode, 401, 'missing-token')
  t.equal((await post(app, '/auth/refresh', { token: alice.refreshToken, headers: { origin: 'https://evil.example' } })).statusCode, 403, 'csrf-rejected')
  t.equal((await post(app, '/auth/refresh', { token: 'not-a-refresh-token' })).statusCode, 401, 'invalid')
  const t1 = await refreshOk(app, alice.refreshToken)
  t.equal(await refreshOk(app, alice.refreshToken), t1, 'grace')
  const t2 = await refreshOk(app, t1)
  t.equal((await post(app, '/auth/refresh', { token: alice.refreshToken })).statusCode, 401, 'stale')
  const t3 = await refreshOk(app, t2)
  t.equal((await post(app, '/auth/refresh', { token: alice.refreshToken })).json().code, 'AUTH_REFRESH_REUSED', 'reused')
  t.equal((await post(app, '/auth/refresh', { token: t3 })).statusCode, 401, 'missing: the reuse revoked the session')
  const dave = await loggedIn(app, DAVE)
  users.get(DAVE.username)!.disabled = true
  t.equal((await post(app, '/auth/refresh', { token: dave.refreshToken })).statusCode, 401, 'disabled')
  users.get(DAVE.username)!.disabled = false

  // Logouts and the session routes.
  const bob = await loggedIn(app, BOB)
  const auth = { authorization: `Bearer ${bob.accessToken}` }
  t.equal((await app.inject({ url: '/auth/sessions', headers: auth })).statusCode, 200, 'list-sessions')
  t.equal((await app.inject({ method: 'DELETE', url: '/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA', headers: auth })).statusCode, 404, 'revoke-session: not-found')
  t.equal((await post(app, '/auth/logout', { token: bob.refreshToken, headers: { origin: 'https://evil.example' } })).statusCode, 403, 'logout csrf-rejected')
  t.equal((await post(app, '/auth/logout', { token: bob.refreshToken })).statusCode, 204, 'logout revoked')
  t.equal((await post(app, '/auth/logout', { token: bob.refreshToken })).statusCode, 204, 'logout missing')
  t.equal((await post(app, '/auth/logout', { token: 'not-a-refresh-token' })).statusCode, 204, 'logout invalid')
  t.equal((await post(app, '/auth/logout')).statusCode, 204, 'logout missing-token')
  const again = await loggedIn(app, BOB)
  t.equal((await app.inject({ method: 'DELETE', url: `/auth/sessions/${again.sessionId}`, headers: { authorization: `Bearer ${again.accessToken}` } })).statusCode, 204, 'revoke-session: revoked')
  const last = await loggedIn(app, BOB)
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${last.accessToken}` } })).statusCode, 204, 'logout-all')

  // Re-authentication of a new session: a wrong password, the right one, then after the session is revoked.
  const erin = await loggedIn(app, ALICE)
  const reauthenticate = async (password: string): Promise<number> => (await app.inject({ method: 'POST', url: '/auth/reauthenticate', headers: { authorization: `Bearer ${erin.accessToken}` }, payload: { username: ALICE.username, password } })).statusCode
  t.equal(await reauthenticate('wrong-password-123'), 401, 'reauthenticate wrong-password')
  t.equal(await reauthenticate(ALICE.password), 200, 'reauthenticated')
  t.equal((await app.inject({ method: 'DELETE', url: `/auth/sessions/${erin.sessionId}`, headers: { authorization: `Bearer ${erin.accessToken}` } })).statusCode, 204)
  t.equal(await reauthenticate(ALICE.password), 401, 'reauthenticate session-gone')
}

/** The counts everyOutcome must add, on either store. */
function expectedCounts (redis: boolean): Record<string, number> {
  return {
    [logins('unknown-user')]: 4,
    [logins('wrong-password')]: 1,
    [logins('disabled')]: 1,
    [logins('rate-limited')]: 1,
    [logins('success')]: 6, // alice, dave, bob x3, alice again
    [reauthentications('wrong-password')]: 1,
    [reauthentications('reauthenticated')]: 1,
    [reauthentications('session-gone')]: 1,
    [refreshes('missing-token')]: 1,
    [refreshes('csrf-rejected')]: 1,
    [refreshes('invalid')]: 1,
    [refreshes('rotated')]: 3,
    [refreshes('grace')]: 1,
    [refreshes('stale')]: 1,
    [refreshes('reused')]: 1,
    [refreshes('missing')]: 1,
    [refreshes('disabled')]: 1,
    [logouts('csrf-rejected', 'session')]: 1,
    [logouts('revoked', 'session')]: 1,
    [logouts('missing', 'session')]: 1,
    [logouts('invalid', 'session')]: 1,
    [logouts('missing-token', 'session')]: 1,
    [logouts('revoked', 'all')]: 1,
    // Store calls: 12 login attempts reserve (the refused one too), 5 successes release; 8 refreshes reach the store
    // (not the missing, csrf or malformed ones), the disabled one revokes; 2 logouts by token
    // reach it (not the malformed or missing one).
    // + 4 logins / re-authentications: 1 login, 3 re-authentications (the wrong one is not released).
    [storeDuration('login-reserve', redis)]: 16,
    [storeDuration('login-release', redis)]: 8,
    [storeDuration('create', redis)]: 6,
    [storeDuration('set-authentication', redis)]: 2,
    [storeDuration('rotate', redis)]: 8,
    [storeDuration('revoke', redis)]: 4, // disabled dave, DELETE not-found, DELETE revoked x2
    [storeDuration('revoke-by-secret', redis)]: 2,
    [storeDuration('list', redis)]: 2, // GET /auth/sessions, the re-authenticated session's expiry and binding
    [storeDuration('revoke-all', redis)]: 1
  }
}

function routeSpans (name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((s) => s.name === name)
}

function checkSpans (t: Test, redis: boolean): void {
  const outcomes = (name: string) => routeSpans(name).map((s) => s.attributes['refresh_sessions.outcome']).sort()
  // CSRF and missing-token... : the CSRF check runs before the handler, so no refresh span for it.
  t.strictSame(outcomes('refresh-sessions.refresh'), ['disabled', 'grace', 'invalid', 'missing', 'missing-token', 'reused', 'rotated', 'rotated', 'rotated', 'stale'])
  t.strictSame(outcomes('refresh-sessions.reauthenticate'), ['reauthenticated', 'session-gone', 'wrong-password'])
  t.strictSame(outcomes('refresh-sessions.login'), ['disabled', 'rate-limited', 'success', 'success', 'success', 'success', 'success', 'success', 'unknown-user', 'unknown-user', 'unknown-user', 'unknown-user', 'wrong-password'])
  t.strictSame(outcomes('refresh-sessions.logout'), ['invalid', 'missing', 'missing-token', 'revoked'])
  t.strictSame(outcomes('refresh-sessions.logout-all'), ['revoked'])
  t.strictSame(outcomes('refresh-sessions.list-sessions'), ['listed'])
  t.strictSame(outcomes('refresh-sessions.revoke-session'), ['not-found', 'revoked', 'revoked'])
  const reused = routeSpans('refresh-sessions.refresh').find((s) => s.attributes['refresh_sessions.outcome'] === 'reused')!
  t.equal(reused.attributes['error.type'], 'AUTH_REFRESH_REUSED', 'a 4xx names its code')
  t.equal(reused.status.code, SpanStatusCode.UNSET, 'a 4xx is not a span error')
  for (const span of spans.getFinishedSpans()) {
    t.equal(span.instrumentationScope.name, INSTRUMENTATION_NAME)
    t.equal(span.instrumentationScope.version, INSTRUMENTATION_VERSION)
  }

  // Every store span is the child of its route's span.
  const byId = new Map(spans.getFinishedSpans().map((s) => [s.spanContext().spanId, s]))
  const rotates = routeSpans('refresh-sessions.store.rotate')
  t.equal(rotates.length, 8)
  for (const span of spans.getFinishedSpans().filter((s) => s.name.startsWith('refresh-sessions.store.'))) {
    const parent = byId.get(span.parentSpanContext?.spanId ?? '')
    t.ok(parent !== undefined && !parent.name.startsWith('refresh-sessions.store.'), `${span.name} has its route span as parent (${parent?.name})`)
    t.equal(span.kind, redis ? SpanKind.CLIENT : SpanKind.INTERNAL)
    t.equal(span.attributes['db.system'], redis ? 'redis' : undefined)
    t.equal(span.attributes['db.operation.name'], span.name.slice('refresh-sessions.store.'.length))
  }
  const rotateParent = byId.get(rotates[0]!.parentSpanContext!.spanId)!
  t.equal(rotateParent.name, 'refresh-sessions.refresh')
}

const LOGIN_LIMITS = { perUserIp: { max: 3, window: '1m' }, perIp: { max: 100, window: '1m' } }

t.test('memory store: every outcome counted once, by kind; spans nest', async (t) => {
  spans.reset()
  const { app, users } = await buildApp(t, { users: USERS, options: { loginLimits: LOGIN_LIMITS } })
  const added = await delta(() => everyOutcome(t, app, users))
  // The memory store announces synchronously: reuse, disabled, logout, DELETE x2, logout-all.
  t.strictSame(added, { ...expectedCounts(false), 'refresh_sessions.revocation.delay{}': 6 })
  checkSpans(t, false)
  t.equal(app.refreshSessions.sessions.store === app.refreshSessions.store, false, 'with an SDK the core runs on the instrumented store')
})

const server = await redisForTest(t, { allowExternal: false })

t.test('Redis: the same counts, store spans are redis client spans', async (t) => {
  spans.reset()
  const redis = await connectRedis(t, server)
  const { app, users } = await buildApp(t, { users: USERS, options: { redis, prefix: uniquePrefix('otel'), loginLimits: LOGIN_LIMITS } })
  const added = await delta(() => everyOutcome(t, app, users))
  // The revocations this scenario makes are announced and heard back by this instance.
  const heard = added['refresh_sessions.revocation.delay{}']
  t.ok(heard === undefined || heard > 0)
  delete added['refresh_sessions.revocation.delay{}']
  t.strictSame(added, expectedCounts(true))
  checkSpans(t, true)
})

t.test('expired: a session past its idle TTL', async (t) => {
  for (const redis of [false, true]) {
    const client = redis ? await connectRedis(t, server) : undefined
    const { app } = await buildApp(t, { options: { ...(client !== undefined && { redis: client, prefix: uniquePrefix('otel-expired') }), refreshToken: { idleTtl: '1s' } } })
    const { refreshToken } = await loggedIn(app, ALICE)
    // Lower bound only: the session is past its idle TTL however late this wakes up.
    await sleep(1200)
    const added = await delta(async () => { t.equal((await post(app, '/auth/refresh', { token: refreshToken })).statusCode, 401) })
    t.equal(added[refreshes('expired')] ?? added[refreshes('missing')], 1, `${redis ? 'redis' : 'memory'}: counted once`)
    t.ok(added[refreshes('expired')] === 1, `${redis ? 'redis' : 'memory'}: as expired (${JSON.stringify(added)})`)
  }
})

t.test('a revocation on instance A is heard by instance B: its delay recorded once', async (t) => {
  const prefix = uniquePrefix('otel-revocations')
  const b = (await buildApp(t, { options: { redis: await connectRedis(t, server), prefix } })).app
  const a = new SessionCore(new RedisStore({ redis: await connectRedis(t, server), prefix, idleTtlMs: 60_000, absoluteTtlMs: 600_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }))
  const { session } = await a.create(ALICE.id)
  const channel = `${prefix}revoked`
  const probe = await connectRedis(t, server)
  // B subscribes in onReady; wait for its SUBSCRIBE to be in place.
  while (((await probe.pubsub('NUMSUB', channel)) as [string, number])[1] < 1) await sleep(20)
  const delays = async () => (await snapshot()).get('refresh_sessions.revocation.delay{}') ?? 0
  const before = await delays()
  t.equal(await a.revoke(ALICE.id, session.id), true)
  // Bounded by tap's file timeout only: an announcement that never arrives fails the count below.
  for (let i = 0; i < 500 && await delays() === before; i++) await sleep(20)
  t.equal(await delays() - before, 1, 'one announcement, heard by B (A is a bare core: not instrumented)')
  const histogram = (await collect()).find((m) => m.descriptor.name === 'refresh_sessions.revocation.delay')!
  t.equal(histogram.descriptor.unit, 'ms')
  t.strictSame(histogram.dataPoints.map((p) => p.attributes), [{}], 'no attributes')
  void b
})

t.test('store down: 503s counted per operation, with their latency; route spans are errors', async (t) => {
  const hung = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, hung)
  const TIMEOUT_MS = 300
  const { app } = await buildApp(t, { options: { redis, prefix: uniquePrefix('otel-down'), commandTimeout: `${TIMEOUT_MS}ms` } })
  const alice = await loggedIn(app, ALICE)
  spans.reset()
  process.kill(hung.pid!, 'SIGSTOP')
  t.teardown(() => { try { process.kill(hung.pid!, 'SIGCONT') } catch {} })
  const started = Date.now()
  const added = await delta(async () => {
    t.equal((await post(app, '/auth/refresh', { token: alice.refreshToken })).statusCode, 503)
    t.equal((await post(app, '/auth/login', { payload: { username: ALICE.username, password: ALICE.password } })).statusCode, 503)
  })
  const elapsed = Date.now() - started
  t.strictSame(added, {
    [refreshes('store-unavailable')]: 1,
    [logins('store-unavailable')]: 1,
    [storeUnavailable('rotate')]: 1,
    [storeUnavailable('login-reserve')]: 1,
    [storeDuration('rotate', true, 'AUTH_STORE_UNAVAILABLE')]: 1,
    [storeDuration('login-reserve', true, 'AUTH_STORE_UNAVAILABLE')]: 1
  })
  const duration = (await collect()).find((m) => m.descriptor.name === 'refresh_sessions.store.duration')!
  t.equal(duration.descriptor.unit, 'ms')
  const failed = duration.dataPoints.filter((p) => p.attributes['error.type'] === 'AUTH_STORE_UNAVAILABLE')
  const sum = failed.reduce((total, p) => total + (p.value as { sum: number }).sum, 0)
  // Timers never fire early: each failed call lasted at least the command timeout, and no more than the whole test took.
  t.ok(sum >= 2 * (TIMEOUT_MS - 5) && sum <= elapsed + 5, `the two 503s lasted ${sum.toFixed(0)} ms in all`)

  for (const name of ['refresh-sessions.refresh', 'refresh-sessions.login']) {
    const [span] = routeSpans(name)
    t.equal(span?.status.code, SpanStatusCode.ERROR, `${name}: error status`)
    t.equal(span?.status.message, 'AUTH_STORE_UNAVAILABLE')
    t.equal(span?.attributes['refresh_sessions.outcome'], 'store-unavailable')
    t.equal(span?.attributes['error.type'], 'AUTH_STORE_UNAVAILABLE')
  }
  const [store] = routeSpans('refresh-sessions.store.rotate')
  t.equal(store?.status.code, SpanStatusCode.ERROR)
  t.equal(store?.attributes['error.type'], 'AUTH_STORE_UNAVAILABLE')
})

t.test("argon2 queue full: the refused login is counted 'busy', its span an error", async (t) => {
  const verifies = holdVerifies(t)
  const { app } = await buildApp(t, { options: { argon2Queue: { concurrency: 1, maxQueued: 0 } } })
  spans.reset()
  const added = await delta(async () => {
    const holder = post(app, '/auth/login', { payload: { username: ALICE.username, password: ALICE.password } })
    await until('one verify running', () => verifies.held() === 1)
    t.equal((await post(app, '/auth/login', { payload: { username: BOB.username, password: BOB.password } })).statusCode, 503)
    verifies.release()
    t.equal((await holder).statusCode, 200)
  })
  t.equal(added[logins('busy')], 1, 'busy: 1')
  t.equal(added[logins('success')], 1, 'success: 1')
  const busy = routeSpans('refresh-sessions.login').find((span) => span.attributes['refresh_sessions.outcome'] === 'busy')
  t.equal(busy?.status.code, SpanStatusCode.ERROR)
  t.equal(busy?.attributes['error.type'], 'AUTH_LOGIN_BUSY')
})

t.test('instruments: names, units, scope', async (t) => {
  t.equal(INSTRUMENTATION_VERSION, JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version, 'the scope carries the package version')
  const all = await collect()
  const units = Object.fromEntries(all.map((m) => [m.descriptor.name, m.descriptor.unit]))
  t.strictSame(units, {
    'refresh_sessions.logins': '{login}',
    'refresh_sessions.refreshes': '{refresh}',
    'refresh_sessions.logouts': '{logout}',
    'refresh_sessions.reauthentications': '{reauthentication}',
    'refresh_sessions.store.duration': 'ms',
    'refresh_sessions.store.unavailable': '{error}',
    'refresh_sessions.revocation.delay': 'ms'
  })
})

t.test('no secret in any metric attribute, span name, attribute, status or event', async (t) => {
  const values: string[] = []
  for (const metric of await collect()) for (const point of metric.dataPoints) values.push(...Object.entries(point.attributes).flat().map(String))
  for (const span of spans.getFinishedSpans()) {
    values.push(span.name, span.status.message ?? '', ...Object.entries(span.attributes).flat().map(String))
    for (const event of span.events) values.push(event.name, ...Object.entries(event.attributes ?? {}).flat().map(String))
  }
  t.ok(values.length > 50, `${values.length} values checked`)
  t.ok(secrets.size > 15, `against ${secrets.size} secrets`)
  const leaks = values.filter((value) => [...secrets].some((secret) => value.includes(secret)))
  t.strictSame(leaks, [])
})
