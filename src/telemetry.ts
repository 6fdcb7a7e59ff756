/**
 * OpenTelemetry metrics and spans, through @opentelemetry/api only: nothing is recorded unless
 * the app installs an SDK (global MeterProvider and/or TracerProvider) BEFORE registering the
 * plugin. Without one, `Telemetry` hands back the routes' own handlers, the store, the
 * limiter and the revocation watcher unwrapped: no SDK, no cost.
 *
 * Attributes are closed sets of our own strings (outcomes, operation names, error codes), built
 * once: no token, secret, username, password, ip, user id or session id ever reaches one.
 * Names, units and attributes are documented in the README (Observability).
 */
import { readFileSync } from 'node:fs'
import { context, createNoopMeter, metrics, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Counter, type Histogram, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api'
import type { FastifyRequest } from 'fastify'
import type { LoginLimiter } from './login-limiter/limiter.js'
import type { RevocationWatcher, SessionStore } from './session/store.js'

export const INSTRUMENTATION_NAME = 'fastify-refresh-sessions'
export const INSTRUMENTATION_VERSION = packageVersion()

export const ATTR_OUTCOME = 'refresh_sessions.outcome'
export const ATTR_SCOPE = 'refresh_sessions.scope'
const ATTR_OPERATION = 'db.operation.name'
const ATTR_ERROR = 'error.type'
const STORE_UNAVAILABLE = 'AUTH_STORE_UNAVAILABLE'
const LOGIN_BUSY = 'AUTH_LOGIN_BUSY'
/** Semconv's value for an error of no known type: app errors' codes are not ours to export. */
const OTHER_ERROR = '_OTHER'

/** Millisecond buckets: a store call is ~1 ms on a LAN and 503s at the command timeout (1 s by default). */
const STORE_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
/** Pub/sub delivers in milliseconds; the README promises every instance within a second. */
const REVOCATION_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

const ROUTE_OUTCOMES = {
  login: ['success', 'unknown-user', 'wrong-password', 'disabled', 'rate-limited', 'busy', 'store-unavailable', 'error'],
  refresh: ['rotated', 'grace', 'stale', 'reused', 'invalid', 'unbound', 'expired', 'missing', 'missing-token', 'csrf-rejected', 'disabled', 'store-unavailable', 'error'],
  logout: ['revoked', 'invalid', 'missing', 'missing-token', 'csrf-rejected', 'store-unavailable', 'error'],
  'logout-all': ['revoked', 'csrf-rejected', 'store-unavailable', 'error'],
  'list-sessions': ['listed', 'store-unavailable', 'error'],
  'revoke-session': ['revoked', 'not-found', 'store-unavailable', 'error'],
  reauthenticate: ['reauthenticated', 'unknown-user', 'wrong-password', 'disabled', 'rate-limited', 'busy', 'session-gone', 'csrf-rejected', 'store-unavailable', 'error']
} as const

export type RouteOperation = keyof typeof ROUTE_OUTCOMES
export type RouteOutcome<R extends RouteOperation> = typeof ROUTE_OUTCOMES[R][number]

const STORE_OPERATIONS = {
  create: 'create',
  rotate: 'rotate',
  revokeBySecret: 'revoke-by-secret',
  revoke: 'revoke',
  revokeAll: 'revoke-all',
  list: 'list',
  isLive: 'is-live',
  bind: 'bind',
  setAuthentication: 'set-authentication',
  reserve: 'login-reserve',
  release: 'login-release'
} as const

type StoreOperation = keyof typeof STORE_OPERATIONS

function packageVersion (): string {
  try {
    // src/telemetry.ts and dist/telemetry.js both sit one level below the package root.
    return String(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version)
  } catch {
    return '0.0.0'
  }
}

/** True when the app has installed a global MeterProvider or TracerProvider. */
function sdkInstalled (): boolean {
  if (metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION) !== createNoopMeter()) return true
  const provider = trace.getTracerProvider()
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION) !== undefined
}

/** The code of a thrown error, when it is one of ours (or Fastify's): a closed set, safe to export. */
function errorType (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(AUTH|FST)_[A-Z0-9_]+$/.test(code) ? code : OTHER_ERROR
}

/** Any handler or preHandler: its own types flow through unchanged (the request is always a FastifyRequest). */
type Handler = (this: any, request: any, ...rest: any[]) => unknown

/** One route operation: its span, its counter (if any) and one frozen attribute set per outcome. */
export class RouteTelemetry<R extends RouteOperation> {
  readonly #enabled: boolean
  readonly #tracer: Tracer
  readonly #spanName: string
  readonly #counter: Counter | null
  readonly #attributes: Record<string, Attributes>
  /** Spans being recorded, by request: how a handler's outcome reaches its span. */
  readonly #spans = new WeakMap<FastifyRequest, Span>()

  constructor (enabled: boolean, tracer: Tracer, operation: R, counter: Counter | null, extra: Attributes = {}) {
    this.#enabled = enabled
    this.#tracer = tracer
    this.#spanName = `refresh-sessions.${operation}`
    this.#counter = counter
    this.#attributes = Object.fromEntries(ROUTE_OUTCOMES[operation].map((outcome) => [outcome, Object.freeze({ [ATTR_OUTCOME]: outcome, ...extra })]))
  }

  /** Count the request's outcome (once per request: as its handler's last step) and name it on its span. */
  outcome (request: FastifyRequest, outcome: RouteOutcome<R>): void {
    if (!this.#enabled) return
    this.#counter?.add(1, this.#attributes[outcome])
    this.#spans.get(request)?.setAttribute(ATTR_OUTCOME, outcome)
  }

  /**
   * The handler, run in a span that is the active context's child (and the parent of the store
   * calls' spans, when the app has a context manager). A 5xx is counted here (the handler did
   * not get to count it) and marks the span as an error.
   */
  handler<H extends Handler> (handler: H): H {
    if (!this.#enabled) return handler
    const route = this
    return async function traced (this: unknown, request: FastifyRequest, ...rest: unknown[]) {
      const parent = context.active()
      const span = route.#tracer.startSpan(route.#spanName, INTERNAL_SPAN, parent)
      const recording = span.isRecording()
      if (recording) route.#spans.set(request, span)
      try {
        return await (recording
          ? context.with(trace.setSpan(parent, span), handler as Handler, this, request, ...rest)
          : handler.call(this, request, ...rest))
      } catch (error) {
        route.#failed(request, span, error)
        throw error
      } finally {
        span.end()
      }
    } as unknown as H
  }

  /** A preHandler (the CSRF check) whose refusal is counted as `csrf-rejected`. */
  guard<H extends Handler> (guard: H): H {
    if (!this.#enabled) return guard
    const route = this
    // Request and reply only: given Fastify's `done` too, a guard in callback style would answer twice.
    return async function counted (this: unknown, request: FastifyRequest, reply: unknown) {
      try {
        return await guard.call(this, request, reply)
      } catch (error) {
        if (errorType(error) === 'AUTH_CSRF_REJECTED') route.outcome(request, 'csrf-rejected' as RouteOutcome<R>)
        throw error
      }
    } as unknown as H
  }

  #failed (request: FastifyRequest, span: Span, error: unknown): void {
    const type = errorType(error)
    const status = (error as { statusCode?: unknown } | null)?.statusCode
    span.setAttribute(ATTR_ERROR, type)
    if (typeof status === 'number' && status < 500) return
    this.outcome(request, (type === STORE_UNAVAILABLE ? 'store-unavailable' : type === LOGIN_BUSY ? 'busy' : 'error') as RouteOutcome<R>)
    span.setStatus({ code: SpanStatusCode.ERROR, message: type })
  }
}

const INTERNAL_SPAN: SpanOptions = Object.freeze({ kind: SpanKind.INTERNAL })

/** One store operation: its span options and frozen attribute sets for success, 503 and other errors. */
export class StoreCall {
  readonly spanName: string
  readonly spanOptions: SpanOptions
  readonly ok: Attributes
  readonly unavailable: Attributes
  readonly failed: Attributes

  constructor (operation: StoreOperation, redis: boolean) {
    const name = STORE_OPERATIONS[operation]
    const attributes = Object.freeze({ [ATTR_OPERATION]: name, ...(redis && { 'db.system': 'redis', 'db.system.name': 'redis' }) })
    this.spanName = `refresh-sessions.store.${name}`
    this.spanOptions = Object.freeze({ kind: redis ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes })
    this.ok = attributes
    this.unavailable = Object.freeze({ ...attributes, [ATTR_ERROR]: STORE_UNAVAILABLE })
    this.failed = Object.freeze({ ...attributes, [ATTR_ERROR]: OTHER_ERROR })
  }
}

export class Telemetry {
  readonly enabled: boolean
  readonly login: RouteTelemetry<'login'>
  readonly refresh: RouteTelemetry<'refresh'>
  readonly logout: RouteTelemetry<'logout'>
  readonly logoutAll: RouteTelemetry<'logout-all'>
  readonly listSessions: RouteTelemetry<'list-sessions'>
  readonly revokeSession: RouteTelemetry<'revoke-session'>
  readonly reauthenticate: RouteTelemetry<'reauthenticate'>
  readonly #tracer: Tracer
  readonly #storeDuration: Histogram
  readonly #storeUnavailable: Counter
  readonly #revocationDelay: Histogram

  constructor () {
    this.enabled = sdkInstalled()
    const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)
    const tracer = this.#tracer = trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)
    const logouts = meter.createCounter('refresh_sessions.logouts', { unit: '{logout}', description: 'Logout requests (POST /logout and /logout-all), by outcome and scope' })
    this.login = new RouteTelemetry(this.enabled, tracer, 'login', meter.createCounter('refresh_sessions.logins', { unit: '{login}', description: 'Login attempts (POST /login) and sessions started by startSession, by result' }))
    this.refresh = new RouteTelemetry(this.enabled, tracer, 'refresh', meter.createCounter('refresh_sessions.refreshes', { unit: '{refresh}', description: 'Refresh requests, by outcome' }))
    this.logout = new RouteTelemetry(this.enabled, tracer, 'logout', logouts, { [ATTR_SCOPE]: 'session' })
    this.logoutAll = new RouteTelemetry(this.enabled, tracer, 'logout-all', logouts, { [ATTR_SCOPE]: 'all' })
    this.listSessions = new RouteTelemetry(this.enabled, tracer, 'list-sessions', null)
    this.revokeSession = new RouteTelemetry(this.enabled, tracer, 'revoke-session', null)
    this.reauthenticate = new RouteTelemetry(this.enabled, tracer, 'reauthenticate', meter.createCounter('refresh_sessions.reauthentications', { unit: '{reauthentication}', description: 'Re-authentications of a session (POST /reauthenticate and reauthenticate()), by outcome' }))
    this.#storeDuration = meter.createHistogram('refresh_sessions.store.duration', { unit: 'ms', description: 'Duration of each session store and login limiter call, failed ones included', advice: { explicitBucketBoundaries: STORE_BUCKETS_MS } })
    this.#storeUnavailable = meter.createCounter('refresh_sessions.store.unavailable', { unit: '{error}', description: 'Store calls that failed with AUTH_STORE_UNAVAILABLE (answered 503)' })
    this.#revocationDelay = meter.createHistogram('refresh_sessions.revocation.delay', { unit: 'ms', description: 'From a revocation in the store (its clock) to this instance hearing of it', advice: { explicitBucketBoundaries: REVOCATION_BUCKETS_MS } })
  }

  /** The store, each call timed and in a child span; the store itself when no SDK is installed. */
  observeStore (store: SessionStore, redis: boolean): SessionStore {
    return this.enabled ? new ObservedStore(store, this.#calls(redis), this) : store
  }

  observeLimiter (limiter: LoginLimiter | null, redis: boolean): LoginLimiter | null {
    return this.enabled && limiter !== null ? new ObservedLimiter(limiter, this.#calls(redis), this) : limiter
  }

  /** The watcher, with the propagation delay of every announcement recorded (once per announcement, not per session). */
  observeRevocations (watcher: RevocationWatcher): RevocationWatcher {
    if (!this.enabled) return watcher
    const delay = this.#revocationDelay
    return {
      revoked (sessionIds, revokedAt) {
        // The store's clock and ours may disagree by a little: a negative delay is 0.
        if (Number.isFinite(revokedAt)) delay.record(Math.max(0, Date.now() - revokedAt))
        watcher.revoked(sessionIds, revokedAt)
      },
      ready: () => watcher.ready(),
      down: () => watcher.down()
    }
  }

  /** Runs one store call: its span, its duration, and a 503 counted. */
  async call<T> (call: StoreCall, run: () => Promise<T>): Promise<T> {
    const span = this.#tracer.startSpan(call.spanName, call.spanOptions, context.active())
    const started = performance.now()
    try {
      const result = await run()
      this.#storeDuration.record(performance.now() - started, call.ok)
      return result
    } catch (error) {
      const unavailable = errorType(error) === STORE_UNAVAILABLE
      this.#storeDuration.record(performance.now() - started, unavailable ? call.unavailable : call.failed)
      if (unavailable) this.#storeUnavailable.add(1, call.ok)
      const type = unavailable ? STORE_UNAVAILABLE : OTHER_ERROR
      span.setAttribute(ATTR_ERROR, type)
      span.setStatus({ code: SpanStatusCode.ERROR, message: type })
      throw error
    } finally {
      span.end()
    }
  }

  #calls (redis: boolean): Record<StoreOperation, StoreCall> {
    const calls = {} as Record<StoreOperation, StoreCall>
    for (const operation of Object.keys(STORE_OPERATIONS) as StoreOperation[]) calls[operation] = new StoreCall(operation, redis)
    return calls
  }
}

class ObservedStore implements SessionStore {
  readonly #store: SessionStore
  readonly #calls: Record<StoreOperation, StoreCall>
  readonly #telemetry: Telemetry
  readonly watchRevocations?: SessionStore['watchRevocations']

  constructor (store: SessionStore, calls: Record<StoreOperation, StoreCall>, telemetry: Telemetry) {
    this.#store = store
    this.#calls = calls
    this.#telemetry = telemetry
    if (store.watchRevocations !== undefined) this.watchRevocations = (watcher) => store.watchRevocations!(watcher)
  }

  get limits (): SessionStore['limits'] {
    return this.#store.limits
  }

  create (input: Parameters<SessionStore['create']>[0]): ReturnType<SessionStore['create']> {
    return this.#telemetry.call(this.#calls.create, () => this.#store.create(input))
  }

  rotate (input: Parameters<SessionStore['rotate']>[0]): ReturnType<SessionStore['rotate']> {
    return this.#telemetry.call(this.#calls.rotate, () => this.#store.rotate(input))
  }

  revokeBySecret (input: Parameters<SessionStore['revokeBySecret']>[0]): ReturnType<SessionStore['revokeBySecret']> {
    return this.#telemetry.call(this.#calls.revokeBySecret, () => this.#store.revokeBySecret(input))
  }

  revoke (userId: string, sessionId: string): Promise<boolean> {
    return this.#telemetry.call(this.#calls.revoke, () => this.#store.revoke(userId, sessionId))
  }

  revokeAll (userId: string, exceptSessionId: string | null): Promise<number> {
    return this.#telemetry.call(this.#calls.revokeAll, () => this.#store.revokeAll(userId, exceptSessionId))
  }

  bind (input: Parameters<SessionStore['bind']>[0]): ReturnType<SessionStore['bind']> {
    return this.#telemetry.call(this.#calls.bind, () => this.#store.bind(input))
  }

  setAuthentication (input: Parameters<SessionStore['setAuthentication']>[0]): ReturnType<SessionStore['setAuthentication']> {
    return this.#telemetry.call(this.#calls.setAuthentication, () => this.#store.setAuthentication(input))
  }

  list (userId: string): ReturnType<SessionStore['list']> {
    return this.#telemetry.call(this.#calls.list, () => this.#store.list(userId))
  }

  isLive (userId: string, sessionId: string): Promise<boolean> {
    return this.#telemetry.call(this.#calls.isLive, () => this.#store.isLive(userId, sessionId))
  }

  close (): Promise<void> {
    return this.#store.close()
  }
}

class ObservedLimiter implements LoginLimiter {
  readonly #limiter: LoginLimiter
  readonly #calls: Record<StoreOperation, StoreCall>
  readonly #telemetry: Telemetry

  constructor (limiter: LoginLimiter, calls: Record<StoreOperation, StoreCall>, telemetry: Telemetry) {
    this.#limiter = limiter
    this.#calls = calls
    this.#telemetry = telemetry
  }

  reserve (username: string, ip: string): Promise<number> {
    return this.#telemetry.call(this.#calls.reserve, () => this.#limiter.reserve(username, ip))
  }

  release (username: string, ip: string): Promise<void> {
    return this.#telemetry.call(this.#calls.release, () => this.#limiter.release(username, ip))
  }

  close (): Promise<void> {
    return this.#limiter.close()
  }
}
