/**
 * Every default of the plugin, once, in the unit the code works in (ms, counts, KiB).
 * resolveOptions falls back to these for an option left undefined; the password hasher, the login
 * limiter and the Redis fail-fast wrapper use them when built without options. Imports nothing,
 * so every layer may import it without importing the options module.
 */

const SECOND_MS = 1000
const MINUTE_MS = 60 * SECOND_MS
const DAY_MS = 24 * 60 * MINUTE_MS

export const DEFAULTS = Object.freeze({
  /** Redis key prefix, so several apps can share one Redis. */
  prefix: 'rs:',
  commandTimeoutMs: SECOND_MS,
  routePrefix: '/auth',
  routes: Object.freeze({ login: '/login', refresh: '/refresh', logout: '/logout', logoutAll: '/logout-all', sessions: '/sessions', reauthenticate: '/reauthenticate', jwks: '/.well-known/jwks.json' }),
  accessTokenTtlMs: 15 * MINUTE_MS,
  verifyCacheSize: 10_000,
  /** Leeway for an access token's iat / nbf ahead of our clock. */
  clockSkewMs: 30 * SECOND_MS,
  /** DPoP: the asymmetric algorithms a proof may use; a proof's iat may be clockSkewMs from our clock. */
  dpop: Object.freeze({ algorithms: Object.freeze(['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519'] as const), nonceWindowMs: 5 * MINUTE_MS }),
  idleTtlMs: 7 * DAY_MS,
  absoluteTtlMs: 30 * DAY_MS,
  reuseGraceMs: 10 * SECOND_MS,
  maxSessionsPerUser: 10,
  transport: 'cookie',
  cookie: Object.freeze({ name: 'refresh_token', secure: true, sameSite: 'strict', hostPrefix: false }),
  allowedOrigins: Object.freeze([] as string[]),
  /** Failed logins: 10 per 15 min per username+ip, 100 per 15 min per ip. */
  loginLimits: Object.freeze({
    perUserIp: Object.freeze({ max: 10, windowMs: 15 * MINUTE_MS }),
    perIp: Object.freeze({ max: 100, windowMs: 15 * MINUTE_MS })
  }),
  /** OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1. */
  argon2: Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 }),
  /**
   * argon2 calls of the login routes running at once: one per core, with libuv's thread pool
   * lowered below the event loop's CPU priority (see thread-pool-priority.ts), so that a login
   * flood takes only the cycles the routes leave. Where the pool cannot be lowered (not Linux, or
   * `lowerPoolPriority: false`), the cores less one, which stays the event loop's (at least 1).
   * Beyond them `queuedPerSlot` per slot wait (~2 s of verifies at OWASP's parameters), and the
   * next login is answered 503 AUTH_LOGIN_BUSY with Retry-After: 1. Bench P4/P5 on 2 cores: see
   * the README's "Logins under a flood".
   */
  argon2Queue: Object.freeze({ coresLeftFree: 1, queuedPerSlot: 64, lowerPoolPriority: true }),
  /**
   * Device Bound Session Credentials (browsers): off unless asked for. The bound cookie is short on
   * purpose (proof of possession every 10 min); a challenge lives long enough for a browser to
   * sign it in the background after login, and no longer.
   */
  dbsc: Object.freeze({
    enabled: false,
    boundCookieName: 'bound_session',
    boundCookieMaxAgeMs: 10 * MINUTE_MS,
    challengeTtlMs: 5 * MINUTE_MS,
    routes: Object.freeze({ register: '/dbsc/register', refresh: '/dbsc/refresh' })
  }),
  /** The names under which the plugin decorates the app (an app may already use one, as @fastify/jwt teaches). */
  decorators: Object.freeze({ authenticate: 'authenticate', authenticateSession: 'authenticateSession', requireRoles: 'requireRoles', requireBinding: 'requireBinding', requireRecentAuth: 'requireRecentAuth', refreshSessions: 'refreshSessions' })
} as const)
