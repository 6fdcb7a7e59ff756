/**
 * Options: the public shape (TypeBox, so it is validated at registration and typed for users),
 * and one pure resolveOptions() that judges every option (OptionsError, AUTH_INVALID_OPTION),
 * parses every duration once and falls back to DEFAULTS (defaults.ts) for what is undefined.
 * Units after resolution: `...Ms` for the store and Redis, `...Seconds` for JWT and cookies.
 */
import { hkdfSync } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import type { Cluster, Redis } from 'ioredis'
import type { FastifyRequest } from 'fastify'
import type { AccessTokenSettings } from './access/access-token.js'
import { resolveKeySet, type KeyOption, type ResolvedKey } from './access/key-set.js'
import { DEFAULTS } from './defaults.js'
import { OptionsError } from './errors.js'
import { validatePrefix } from './redis/keys.js'
import type { ProofRefusal } from './binding/proof-jwt.js'
import type { BindingKind } from './session/binding.js'

/** `'15m'`, `'7d'`, `'10s'`, `'500ms'`, `'1h'`, `'2w'`: the option schema and parseDuration both read it. */
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** A duration string, or a number of seconds. */
const Duration = Type.Union([Type.String({ pattern: DURATION.source }), Type.Number({ minimum: 0 })], {
  description: "a duration such as '15m', '7d', '10s', '500ms', or a number of seconds"
})
const Name = Type.String({ minLength: 1, maxLength: 128 })
/** The limiter and the password hasher take safe integers only. */
const Count = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
const Path = Type.String({ pattern: '^/[^\\s?#]*$', maxLength: 256 })
/** A property name an app can write as `fastify.name`. */
const DecoratorName = Type.String({ pattern: '^[A-Za-z_$][A-Za-z0-9_$]*$', maxLength: 64 })

/** Asymmetric only: a proof signed with a shared secret proves nothing about a device. */
const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const

const DataOptionsSchema = Type.Object({
  prefix: Type.Optional(Type.String({ maxLength: 64 })),
  commandTimeout: Type.Optional(Duration),
  allowRedisEviction: Type.Optional(Type.Boolean()),
  routePrefix: Type.Optional(Type.String({ pattern: '^(/[^\\s?#]*)?$', maxLength: 256 })),
  routes: Type.Optional(Type.Object({
    login: Type.Optional(Path),
    refresh: Type.Optional(Path),
    logout: Type.Optional(Path),
    logoutAll: Type.Optional(Path),
    sessions: Type.Optional(Path),
    reauthenticate: Type.Optional(Type.Union([Path, Type.Literal(false)])),
    jwks: Type.Optional(Type.Union([Path, Type.Literal(false)]))
  }, { additionalProperties: false })),
  accessToken: Type.Object({
    secret: Type.Optional(Type.Unknown()),
    keys: Type.Optional(Type.Array(Type.Object({
      kid: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
      alg: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256')]),
      privateKey: Type.Optional(Type.Unknown()),
      publicKey: Type.Unknown()
    }), { minItems: 1, maxItems: 16 })),
    signingKid: Type.Optional(Type.String()),
    ttl: Type.Optional(Duration),
    issuer: Type.Optional(Name),
    audience: Type.Optional(Type.Union([Name, Type.Array(Name, { minItems: 1 })])),
    cookieName: Type.Optional(Name),
    /** At most what fast-jwt's cache (mnemonist) can allocate. */
    verifyCacheSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
    clockSkew: Type.Optional(Duration)
  }, { additionalProperties: false }),
  refreshToken: Type.Optional(Type.Object({
    idleTtl: Type.Optional(Duration),
    absoluteTtl: Type.Optional(Duration),
    reuseGrace: Type.Optional(Duration)
  }, { additionalProperties: false })),
  maxSessionsPerUser: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  transport: Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('body'), Type.Literal('both')])),
  cookie: Type.Optional(Type.Object({
    name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64 })),
    secure: Type.Optional(Type.Boolean()),
    sameSite: Type.Optional(Type.Union([Type.Literal('strict'), Type.Literal('lax'), Type.Literal('none')])),
    path: Type.Optional(Path),
    domain: Type.Optional(Type.String({ maxLength: 253 })),
    hostPrefix: Type.Optional(Type.Boolean())
  }, { additionalProperties: false })),
  allowedOrigins: Type.Optional(Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }))),
  dpop: Type.Optional(Type.Union([Type.Literal(false), Type.Object({
    algorithms: Type.Optional(Type.Array(Type.Union(DPOP_ALGORITHMS.map((alg) => Type.Literal(alg))), { minItems: 1, uniqueItems: true })),
    iatWindow: Type.Optional(Duration),
    origins: Type.Optional(Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), { minItems: 1 })),
    nonce: Type.Optional(Type.Object({
      secret: Type.Unknown(),
      window: Type.Optional(Duration)
    }, { additionalProperties: false }))
  }, { additionalProperties: false })], { description: 'false, or { algorithms?, iatWindow?, origins?, nonce?: { secret, window? } }' })),
  requireBinding: Type.Optional(Type.Object({
    clients: Type.Array(Name, { maxItems: 1000 })
  }, { additionalProperties: false })),
  loginLimits: Type.Optional(Type.Union([Type.Literal(false), Type.Object({
    perUserIp: Type.Optional(Type.Object({ max: Count, window: Duration }, { additionalProperties: false })),
    perIp: Type.Optional(Type.Object({ max: Count, window: Duration }, { additionalProperties: false }))
  }, { additionalProperties: false })], { description: 'false, or { perUserIp?: { max, window }, perIp?: { max, window } }' })),
  decorators: Type.Optional(Type.Object({
    authenticate: Type.Optional(DecoratorName),
    authenticateSession: Type.Optional(DecoratorName),
    requireRoles: Type.Optional(DecoratorName),
    requireBinding: Type.Optional(DecoratorName),
    requireRecentAuth: Type.Optional(DecoratorName),
    refreshSessions: Type.Optional(DecoratorName)
  }, { additionalProperties: false })),
  dbsc: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean()),
    boundCookieName: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64 })),
    boundCookieMaxAge: Type.Optional(Duration),
    challengeTtl: Type.Optional(Duration),
    secret: Type.Optional(Type.Unknown()),
    routes: Type.Optional(Type.Object({ register: Type.Optional(Path), refresh: Type.Optional(Path) }, { additionalProperties: false }))
  }, { additionalProperties: false })),
  argon2: Type.Optional(Type.Object({
    memoryCost: Type.Optional(Type.Integer({ minimum: 1024, maximum: Number.MAX_SAFE_INTEGER })),
    timeCost: Type.Optional(Count),
    parallelism: Type.Optional(Count)
  }, { additionalProperties: false })),
  argon2Queue: Type.Optional(Type.Union([Type.Literal(false), Type.Object({
    concurrency: Type.Optional(Count),
    maxQueued: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    lowerPoolPriority: Type.Optional(Type.Boolean())
  }, { additionalProperties: false })], { description: 'false, or { concurrency?, maxQueued?, lowerPoolPriority? }' }))
})

/** What findUser / loadUser return. */
export interface AuthUserRecord {
  id: string | number
  roles?: readonly string[]
  /** Extra JWT claims; reserved names (sub, sid, roles, iat, exp, nbf, iss, aud, jti) are ignored. */
  claims?: Record<string, unknown>
  /** A disabled user cannot log in or refresh. */
  disabled?: boolean
}
export interface LoginUserRecord extends AuthUserRecord {
  /** An argon2 PHC string (`$argon2id$...`), or any other hash that `verifyLegacyPassword` verifies. */
  passwordHash: string
}

/** `amr`: how the user signed in (`['pwd']` for POST /login; what the app passed to startSession). */
export interface LoginEvent { userId: string, sessionId: string, ip: string, userAgent: string | null, clientId: string | null, amr: string[] }
export interface LoginFailedEvent { username: string, ip: string, userAgent: string | null, reason: 'unknown-user' | 'wrong-password' | 'disabled' | 'rate-limited' }
export interface RefreshEvent { userId: string, sessionId: string, ip: string, userAgent: string | null, grace: boolean }
export interface LogoutEvent { userId: string, sessionId: string | null, ip: string, all: boolean }
export interface ReuseDetectedEvent { userId: string, sessionId: string, ip: string, userAgent: string | null, reuse: 'predecessor' | 'older' }
export interface PasswordRehashEvent { userId: string, passwordHash: string }
/** A session became bound to a device key: at login, or at the first refresh that proved a key. */
export interface SessionBoundEvent { userId: string, sessionId: string, binding: BindingKind, ip: string, userAgent: string | null }
/**
 * Why a proof of possession was refused: the proof's own checks (`malformed` ... `signature`), a
 * DPoP claim check (`htm`, `htu`, `iat`, `replay`, `nonce`, `ath`, `key`: signed by another key
 * than the one the session or token is bound to), `unproved`: a bound session or token presented
 * with no proof at all; DBSC's `missing` (no proof), `challenge` (not an unused one of this
 * session), `session` (no such live session), `conflict` (bound to another key).
 */
export type ProofRefusedReason = ProofRefusal | 'htm' | 'htu' | 'iat' | 'replay' | 'nonce' | 'ath' | 'key' | 'unproved' | 'missing' | 'challenge' | 'session' | 'conflict'
/** `binding`: the kind of proof refused; null when the request carried none (reason `unproved`). */
export interface ProofRefusedEvent { binding: BindingKind | null, reason: ProofRefusedReason, userId?: string, sessionId?: string, ip: string, userAgent: string | null }

type Hook<E> = (event: E, request: FastifyRequest) => unknown

export type { KeyInput } from './access/key-set.js'

export type DbscOptions = Omit<NonNullable<Static<typeof DataOptionsSchema>['dbsc']>, 'secret'> & {
  /**
   * Signs the short-lived bound cookies (HMAC-SHA256), at least 32 bytes, the same on every
   * instance. Default: derived from accessToken.secret; required with an asymmetric key set.
   */
  secret?: string | Buffer
}

type DataOptions = Static<typeof DataOptionsSchema>
type DpopDataOptions = Exclude<DataOptions['dpop'], false | undefined>

export interface RefreshSessionsOptions extends Omit<DataOptions, 'accessToken' | 'dbsc' | 'dpop'> {
  /** An ioredis Redis or Cluster; omitted: the in-memory store (one process, not durable). */
  redis?: Redis | Cluster
  accessToken: Omit<Static<typeof DataOptionsSchema>['accessToken'], 'secret' | 'keys'> & {
    /** HS256 secret, at least 32 bytes. */
    secret?: string | Buffer
    /** Asymmetric key set; each has a kid; `signingKid` (default: the first with a private key) signs, all verify. */
    keys?: KeyOption[]
  }
  /** Device Bound Session Credentials for browsers (off by default): see resolveDbscOptions. */
  dbsc?: DbscOptions
  /**
   * DPoP (RFC 9449), on by default for requests that carry a `DPoP` proof; `false` ignores such
   * proofs. `nonce.secret` (at least 32 bytes, the same on every instance) turns on server nonces.
   */
  dpop?: false | (Omit<DpopDataOptions, 'nonce'> & { nonce?: { secret: string | Buffer, window?: string | number } })
  findUser: (username: string) => Promise<LoginUserRecord | null | undefined> | LoginUserRecord | null | undefined
  loadUser?: (id: string) => Promise<AuthUserRecord | null | undefined> | AuthUserRecord | null | undefined
  /**
   * Verifies a stored hash that is not argon2 (bcrypt, scrypt, PBKDF2, ...: whatever the app used
   * before), with the app's own library. Only `true` is a match; a throw is a failed login. On a
   * match the password is re-hashed with argon2id and handed to `onPasswordRehash`.
   */
  verifyLegacyPassword?: (passwordHash: string, password: string) => Promise<boolean> | boolean
  onLogin?: Hook<LoginEvent>
  onLoginFailed?: Hook<LoginFailedEvent>
  onRefresh?: Hook<RefreshEvent>
  onLogout?: Hook<LogoutEvent>
  onReuseDetected?: Hook<ReuseDetectedEvent>
  onPasswordRehash?: Hook<PasswordRehashEvent>
  onSessionBound?: Hook<SessionBoundEvent>
  onProofRefused?: Hook<ProofRefusedEvent>
}

/** Milliseconds from `'15m'`-style strings or a number of seconds. */
export function parseDuration (value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 1000)
  const match = DURATION.exec(value)
  if (match === null) throw new TypeError(`invalid duration ${JSON.stringify(value)}`)
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!)
}

export interface ResolvedOptions {
  prefix: string
  commandTimeoutMs: number
  allowRedisEviction: boolean
  routePrefix: string
  routes: { login: string, refresh: string, logout: string, logoutAll: string, sessions: string, reauthenticate: string | false, jwks: string | false }
  accessToken: AccessTokenSettings
  limits: { idleTtlMs: number, absoluteTtlMs: number, reuseGraceMs: number, maxSessionsPerUser: number }
  transport: 'cookie' | 'body' | 'both'
  cookie: { name: string, secure: boolean, sameSite: 'strict' | 'lax' | 'none', path: string, domain: string | null }
  allowedOrigins: string[]
  loginLimits: { perUserIp: LoginLimit, perIp: LoginLimit } | false
  argon2: { memoryCost: number, timeCost: number, parallelism: number }
  /**
   * The login routes' argon2 calls at once, and waiting; false: unbounded (libuv's pool alone).
   * With lowerPoolPriority, `concurrency` holds once the pool is lowered, `fallbackConcurrency`
   * where it cannot be (the same number when the app gave one).
   */
  argon2Queue: { concurrency: number, maxQueued: number, lowerPoolPriority: boolean, fallbackConcurrency: number } | false
  dbsc: ResolvedDbscOptions
  /** The names the decorators are registered under. */
  decorators: { authenticate: string, authenticateSession: string, requireRoles: string, requireBinding: string, requireRecentAuth: string, refreshSessions: string }
  dpop: ResolvedDpop | false
  /** Clients (`clientId`) whose login and refresh must prove a device key. */
  requireBinding: { clients: readonly string[] }
}

export interface ResolvedDpop {
  algorithms: readonly string[]
  iatWindowMs: number
  /** Normalized origins htu may name; null: the request's own. */
  origins: readonly string[] | null
  nonce: { secret: Buffer, windowMs: number } | null
}

interface LoginLimit { max: number, windowMs: number }

export interface ResolvedDbscOptions {
  enabled: boolean
  boundCookieName: string
  boundCookieMaxAgeSeconds: number
  challengeTtlMs: number
  /** The bound cookie's HMAC key (null when DBSC is off). */
  secret: Buffer | null
  routes: { register: string, refresh: string }
}

const MIN_HS256_SECRET_BYTES = 32

const HOOKS = ['onLogin', 'onLoginFailed', 'onRefresh', 'onLogout', 'onReuseDetected', 'onPasswordRehash', 'onSessionBound', 'onProofRefused'] as const

/** Validate and resolve; throws OptionsError naming the bad option. Pure: returns a new object. */
export function resolveOptions (options: RefreshSessionsOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new OptionsError('options are required')
  const firstError = Value.Errors(DataOptionsSchema, options).First()
  if (firstError !== undefined) {
    const { path, message } = explain(firstError)
    throw new OptionsError(`option ${path.replace(/^\//, '').replace(/\//g, '.') || 'options'} ${message}`)
  }
  if (typeof options.findUser !== 'function') throw new OptionsError('option findUser must be a function (username) => user | null')
  if (options.loadUser !== undefined && typeof options.loadUser !== 'function') throw new OptionsError('option loadUser must be a function (id) => user | null')
  if (options.verifyLegacyPassword !== undefined && typeof options.verifyLegacyPassword !== 'function') throw new OptionsError('option verifyLegacyPassword must be a function (passwordHash, password) => boolean')
  for (const hook of HOOKS) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new OptionsError(`option ${hook} must be a function`)
  }
  if (options.redis !== undefined && typeof (options.redis as { defineCommand?: unknown })?.defineCommand !== 'function') {
    throw new OptionsError('option redis must be an ioredis Redis or Cluster instance')
  }

  const access = options.accessToken
  const hasSecret = access.secret !== undefined
  if (hasSecret === (access.keys !== undefined)) throw new OptionsError('option accessToken needs exactly one of secret (HS256) or keys (EdDSA, ES256, RS256)')
  let secret: Buffer | null = null
  if (hasSecret) {
    if (typeof access.secret !== 'string' && !Buffer.isBuffer(access.secret)) throw new OptionsError('option accessToken.secret must be a string or a Buffer')
    secret = Buffer.from(access.secret)
    if (secret.length < MIN_HS256_SECRET_BYTES) throw new OptionsError(`option accessToken.secret must be at least ${MIN_HS256_SECRET_BYTES} bytes for HS256`)
  }
  let keySet: { keys: ResolvedKey[], signingKid: string | null } = { keys: [], signingKid: null }
  if (access.keys !== undefined) keySet = resolveKeySet(access.keys, access.signingKid)
  else if (access.signingKid !== undefined) throw new OptionsError('option accessToken.signingKid needs accessToken.keys')

  const routePrefix = options.routePrefix ?? DEFAULTS.routePrefix
  const refresh = options.refreshToken ?? {}
  const limits = {
    idleTtlMs: durationMs('refreshToken.idleTtl', refresh.idleTtl, DEFAULTS.idleTtlMs),
    absoluteTtlMs: durationMs('refreshToken.absoluteTtl', refresh.absoluteTtl, DEFAULTS.absoluteTtlMs),
    reuseGraceMs: durationMs('refreshToken.reuseGrace', refresh.reuseGrace, DEFAULTS.reuseGraceMs),
    maxSessionsPerUser: options.maxSessionsPerUser ?? DEFAULTS.maxSessionsPerUser
  }
  if (limits.idleTtlMs < 1000) throw new OptionsError('option refreshToken.idleTtl must be at least 1s')
  if (limits.absoluteTtlMs < 1000) throw new OptionsError('option refreshToken.absoluteTtl must be at least 1s')
  const commandTimeoutMs = durationMs('commandTimeout', options.commandTimeout, DEFAULTS.commandTimeoutMs)
  if (commandTimeoutMs < 1) throw new OptionsError('option commandTimeout must be at least 1ms')
  const ttlSeconds = Math.round(durationMs('accessToken.ttl', access.ttl, DEFAULTS.accessTokenTtlMs) / 1000)
  if (ttlSeconds < 1) throw new OptionsError('option accessToken.ttl must be at least 1s')
  // Whole seconds, as iat and nbf are; beyond 5 minutes a leeway hides a broken clock.
  const clockSkewMs = durationMs('accessToken.clockSkew', access.clockSkew, DEFAULTS.clockSkewMs)
  if (clockSkewMs % 1000 !== 0 || clockSkewMs > MAX_CLOCK_SKEW_MS) throw new OptionsError('option accessToken.clockSkew must be whole seconds from 0s to 5m')

  const cookie = options.cookie ?? {}
  const hostPrefix = cookie.hostPrefix ?? DEFAULTS.cookie.hostPrefix
  if (hostPrefix && (cookie.secure === false || cookie.domain !== undefined || (cookie.path !== undefined && cookie.path !== '/'))) {
    throw new OptionsError('option cookie.hostPrefix requires secure, no domain and path /')
  }
  const baseName = cookie.name ?? DEFAULTS.cookie.name
  const sameSite = cookie.sameSite ?? DEFAULTS.cookie.sameSite
  const secure = cookie.secure ?? DEFAULTS.cookie.secure
  if (sameSite === 'none' && !secure) throw new OptionsError('option cookie.sameSite none requires cookie.secure')

  const loginLimits = options.loginLimits === false
    ? false as const
    : {
        perUserIp: loginLimit('loginLimits.perUserIp', options.loginLimits?.perUserIp, DEFAULTS.loginLimits.perUserIp),
        perIp: loginLimit('loginLimits.perIp', options.loginLimits?.perIp, DEFAULTS.loginLimits.perIp)
      }

  let prefix: string
  try {
    prefix = validatePrefix(options.prefix ?? DEFAULTS.prefix)
  } catch (error) {
    throw new OptionsError(`option ${(error as Error).message}`)
  }

  const decorators = {
    authenticate: options.decorators?.authenticate ?? DEFAULTS.decorators.authenticate,
    authenticateSession: options.decorators?.authenticateSession ?? DEFAULTS.decorators.authenticateSession,
    requireRoles: options.decorators?.requireRoles ?? DEFAULTS.decorators.requireRoles,
    requireBinding: options.decorators?.requireBinding ?? DEFAULTS.decorators.requireBinding,
    requireRecentAuth: options.decorators?.requireRecentAuth ?? DEFAULTS.decorators.requireRecentAuth,
    refreshSessions: options.decorators?.refreshSessions ?? DEFAULTS.decorators.refreshSessions
  }
  const names = Object.values(decorators)
  if (new Set(names).size !== names.length) throw new OptionsError('option decorators must give each decorator its own name')

  return {
    prefix,
    commandTimeoutMs,
    allowRedisEviction: options.allowRedisEviction ?? false,
    routePrefix,
    routes: { ...DEFAULTS.routes, ...options.routes },
    accessToken: {
      secret,
      keys: keySet.keys,
      signingKid: keySet.signingKid,
      ttlSeconds,
      issuer: access.issuer ?? null,
      audience: access.audience ?? null,
      cookieName: access.cookieName ?? null,
      verifyCacheSize: access.verifyCacheSize ?? DEFAULTS.verifyCacheSize,
      clockSkewSeconds: clockSkewMs / 1000
    },
    limits,
    transport: options.transport ?? DEFAULTS.transport,
    cookie: {
      name: hostPrefix ? `__Host-${baseName}` : baseName,
      secure: hostPrefix ? true : secure,
      sameSite,
      path: hostPrefix ? '/' : (cookie.path ?? (routePrefix === '' ? '/' : routePrefix)),
      domain: cookie.domain ?? null
    },
    allowedOrigins: (options.allowedOrigins ?? DEFAULTS.allowedOrigins).map((origin) => new URL(origin).origin),
    loginLimits,
    argon2: { ...DEFAULTS.argon2, ...options.argon2 },
    argon2Queue: resolveArgon2Queue(options.argon2Queue),
    dbsc: resolveDbsc(options.dbsc, secret, hostPrefix, baseName),
    decorators,
    dpop: resolveDpop(options.dpop),
    requireBinding: { clients: [...options.requireBinding?.clients ?? []] }
  }
}

/** Sized from the cores unless given: see DEFAULTS.argon2Queue. */
function resolveArgon2Queue (queue: RefreshSessionsOptions['argon2Queue']): ResolvedOptions['argon2Queue'] {
  if (queue === false) return false
  const lowerPoolPriority = queue?.lowerPoolPriority ?? DEFAULTS.argon2Queue.lowerPoolPriority
  const cores = availableParallelism()
  const fallbackConcurrency = queue?.concurrency ?? Math.max(1, cores - DEFAULTS.argon2Queue.coresLeftFree)
  const concurrency = queue?.concurrency ?? (lowerPoolPriority ? cores : fallbackConcurrency)
  return { concurrency, maxQueued: queue?.maxQueued ?? concurrency * DEFAULTS.argon2Queue.queuedPerSlot, lowerPoolPriority, fallbackConcurrency }
}

const MIN_NONCE_SECRET_BYTES = 32

function resolveDpop (dpop: RefreshSessionsOptions['dpop']): ResolvedDpop | false {
  if (dpop === false) return false
  const iatWindowMs = durationMs('dpop.iatWindow', dpop?.iatWindow, DEFAULTS.clockSkewMs)
  if (iatWindowMs < 1000 || iatWindowMs > MAX_CLOCK_SKEW_MS) throw new OptionsError('option dpop.iatWindow must be from 1s to 5m')
  let nonce: ResolvedDpop['nonce'] = null
  if (dpop?.nonce !== undefined) {
    const { secret, window } = dpop.nonce
    if ((typeof secret !== 'string' && !Buffer.isBuffer(secret)) || Buffer.byteLength(secret) < MIN_NONCE_SECRET_BYTES) throw new OptionsError(`option dpop.nonce.secret must be a string or Buffer of at least ${MIN_NONCE_SECRET_BYTES} bytes`)
    const windowMs = durationMs('dpop.nonce.window', window, DEFAULTS.dpop.nonceWindowMs)
    if (windowMs < 1000) throw new OptionsError('option dpop.nonce.window must be at least 1s')
    nonce = { secret: Buffer.from(secret), windowMs }
  }
  return {
    algorithms: [...dpop?.algorithms ?? DEFAULTS.dpop.algorithms],
    iatWindowMs,
    origins: dpop?.origins?.map((origin) => new URL(origin).origin) ?? null,
    nonce
  }
}

const DBSC_SECRET_INFO = 'fastify-refresh-sessions dbsc bound cookie'

function resolveDbsc (dbsc: DbscOptions | undefined, accessTokenSecret: Buffer | null, hostPrefix: boolean, refreshCookieName: string): ResolvedDbscOptions {
  const enabled = dbsc?.enabled ?? DEFAULTS.dbsc.enabled
  const maxAgeMs = durationMs('dbsc.boundCookieMaxAge', dbsc?.boundCookieMaxAge, DEFAULTS.dbsc.boundCookieMaxAgeMs)
  if (maxAgeMs % 1000 !== 0 || maxAgeMs < 1000) throw new OptionsError('option dbsc.boundCookieMaxAge must be whole seconds, at least 1s')
  const challengeTtlMs = durationMs('dbsc.challengeTtl', dbsc?.challengeTtl, DEFAULTS.dbsc.challengeTtlMs)
  if (challengeTtlMs < 1000) throw new OptionsError('option dbsc.challengeTtl must be at least 1s')
  let secret: Buffer | null = null
  if (dbsc?.secret !== undefined) {
    if (typeof dbsc.secret !== 'string' && !Buffer.isBuffer(dbsc.secret)) throw new OptionsError('option dbsc.secret must be a string or a Buffer')
    secret = Buffer.from(dbsc.secret)
    if (secret.length < MIN_HS256_SECRET_BYTES) throw new OptionsError(`option dbsc.secret must be at least ${MIN_HS256_SECRET_BYTES} bytes`)
  } else if (enabled) {
    // Its own key, not the JWT secret itself: a bound cookie must never verify as anything else.
    if (accessTokenSecret === null) throw new OptionsError('option dbsc.secret is required with accessToken.keys (it signs the bound cookies on every instance)')
    secret = Buffer.from(hkdfSync('sha256', accessTokenSecret, Buffer.alloc(0), DBSC_SECRET_INFO, 32))
  }
  const boundCookieName = dbsc?.boundCookieName ?? DEFAULTS.dbsc.boundCookieName
  if (boundCookieName === refreshCookieName) throw new OptionsError('option dbsc.boundCookieName must differ from cookie.name')
  return {
    enabled,
    // The bound cookie travels with the refresh cookie: same prefix, same attributes.
    boundCookieName: hostPrefix ? `__Host-${boundCookieName}` : boundCookieName,
    boundCookieMaxAgeSeconds: maxAgeMs / 1000,
    challengeTtlMs,
    secret: enabled ? secret : null,
    routes: { ...DEFAULTS.dbsc.routes, ...dbsc?.routes }
  }
}

/**
 * A schema-valid duration in ms, or the default when undefined. Every part that takes a duration
 * wants a safe integer: beyond it (some 285 000 years) the option is refused here, by name.
 */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000

function durationMs (path: string, value: string | number | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs
  const ms = parseDuration(value)
  if (!Number.isSafeInteger(ms)) throw new OptionsError(`option ${path} is too long`)
  return ms
}

function loginLimit (path: string, limit: { max: number, window: string | number } | undefined, fallback: LoginLimit): LoginLimit {
  if (limit === undefined) return { ...fallback }
  const windowMs = durationMs(`${path}.window`, limit.window, 0)
  if (windowMs < 1) throw new OptionsError(`option ${path}.window must be at least 1ms`)
  return { max: limit.max, windowMs }
}

/**
 * A schema error in words a user can act on: TypeBox says only "Expected union value" for a bad
 * duration, transport or sameSite, so a union is explained by its deepest branch error (a bad
 * `loginLimits.perIp.max`), its description (durations) or its allowed literals.
 */
function explain (error: ValueError): { path: string, message: string } {
  if (error.type === ValueErrorType.Union) {
    const branches = error.errors.map((branch) => branch.First()).filter((branch) => branch !== undefined)
    const deeper = branches.filter((branch) => branch.path.length > error.path.length).sort((a, b) => b.path.length - a.path.length)[0]
    if (deeper !== undefined) return explain(deeper)
    if (typeof error.schema.description === 'string') return { path: error.path, message: `must be ${error.schema.description}` }
    const literals = (error.schema.anyOf as Array<{ const?: unknown }>).map((branch) => branch.const)
    if (literals.every((value) => value !== undefined)) return { path: error.path, message: `must be one of ${literals.map((value) => JSON.stringify(value)).join(', ')}` }
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty) return { path: error.path, message: 'is required' }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return { path: error.path, message: 'is not a known option' }
  return { path: error.path, message: error.message.replace(/^Expected/, 'expected') }
}
