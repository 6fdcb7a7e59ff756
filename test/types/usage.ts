/**
 * Type-level usage, compiled by `tsc --noEmit` with the rest of the project (never run): the
 * plugin registered exactly as SPEC's opening example, then everything a TypeScript user touches.
 * test/types.test.ts checks that this file compiles and that misuse.fail.ts does not.
 */
import Fastify, { type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify'
// The named import: under NodeNext, ioredis' types make the default import a namespace.
import { Redis } from 'ioredis'
import refreshSessions, {
  MemoryStore,
  RedisStore,
  errors,
  parseDuration,
  type AuthUser,
  type AuthUserRecord,
  type LoginFailedEvent,
  type LoginUserRecord,
  type RefreshSessionsApi,
  type RefreshSessionsOptions,
  type AccessTokenResponse,
  type TokenResponse,
  type Session,
  type SessionStore
} from '../../src/index.js'

/** True only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function assertType<A, B> (_same: Equal<A, B>): void {}

interface UserRow { id: string, passwordHash: string, roles: string[], disabled?: boolean }
declare const users: {
  byName (username: string): Promise<UserRow | null>
  byId (id: string): Promise<Omit<UserRow, 'passwordHash'> | null>
}
declare const handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

const app = Fastify({ logger: true })
await app.register(refreshSessions, {
  // SPEC writes `new Redis(process.env.REDIS_URL)`; ioredis' own types need a string there.
  redis: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),          // or a Cluster; omitted = in-memory store
  accessToken: { secret: process.env.JWT_SECRET, ttl: '15m', issuer: 'tasks-api' },
  refreshToken: { idleTtl: '7d', absoluteTtl: '30d', reuseGrace: '10s' },
  findUser: (username) => users.byName(username),   // -> { id, passwordHash, roles } | null
  loadUser: (id) => users.byId(id),                 // at refresh: fresh roles, disabled users refused
})
app.get('/me', { preHandler: app.authenticate }, (req) => req.user)
app.get('/admin', { preHandler: [app.authenticate, app.requireRoles('admin')] }, handler)

// request.user and its fields
app.get('/whoami', { preHandler: app.authenticateSession }, async (request) => {
  assertType<typeof request.user, AuthUser>(true)
  assertType<typeof request.user.id, string>(true)
  assertType<typeof request.user.sessionId, string>(true)
  assertType<typeof request.user.roles, string[]>(true)
  assertType<typeof request.user.claims, Record<string, unknown>>(true)
  const tier = request.user.claims.tier
  assertType<typeof tier, unknown>(true)
  assertType<typeof request.user.authTime, number | undefined>(true)
  assertType<typeof request.user.amr, string[]>(true)
  return { id: request.user.id, admin: request.user.roles.includes('admin') }
})

// decorators
assertType<typeof app.authenticate, preHandlerAsyncHookHandler>(true)
assertType<typeof app.authenticateSession, preHandlerAsyncHookHandler>(true)
assertType<ReturnType<typeof app.requireRoles>, preHandlerAsyncHookHandler>(true)
app.requireRoles('admin', 'auditor')
app.route({ method: 'POST', url: '/transfer', preHandler: [app.authenticateSession, app.requireRoles('user')], handler })
assertType<ReturnType<typeof app.requireRecentAuth>, preHandlerAsyncHookHandler>(true)
app.post('/account/delete', { preHandler: [app.authenticate, app.requireRecentAuth({ maxAge: '5m', amr: ['hwk', 'swk'] })] }, handler)
app.post('/password', { preHandler: [app.authenticate, app.requireRecentAuth({ maxAge: 300 })] }, handler)

// other sign-in methods and re-authentication
app.post('/passkeys/finish', async (request, reply) => {
  const body = await app.refreshSessions.startSession(request, reply, { id: 42, roles: ['user'], claims: { tier: 'gold' } }, { amr: ['hwk', 'user'], clientId: 'web' })
  assertType<typeof body, TokenResponse>(true)
  assertType<typeof body.refreshToken, string | undefined>(true)
  return body
})
app.post('/passkeys/reauthenticate', { preHandler: app.authenticate }, async (request, reply) => {
  const body = await app.refreshSessions.reauthenticate(request, reply, { amr: ['hwk'] })
  assertType<typeof body, AccessTokenResponse>(true)
  assertType<typeof body.tokenType, 'Bearer' | 'DPoP'>(true)
  return body
})

// the programmatic API
assertType<typeof app.refreshSessions, RefreshSessionsApi>(true)
const sessions = await app.refreshSessions.listSessions('u-1')
assertType<typeof sessions, Session[]>(true)
const first = sessions[0]
if (first !== undefined) {
  assertType<typeof first.id, string>(true)
  assertType<typeof first.expiresAt, number>(true)
  assertType<typeof first.userAgent, string | null>(true)
  const revoked = await app.refreshSessions.revokeSession('u-1', first.id)
  assertType<typeof revoked, boolean>(true)
}
const count = await app.refreshSessions.revokeAllSessions('u-1', { except: 'session-id' })
assertType<typeof count, number>(true)
await app.refreshSessions.revokeAllSessions('u-1')
const hash = await app.refreshSessions.hashPassword('correct horse battery staple')
assertType<typeof hash, string>(true)
const matches = await app.refreshSessions.verifyPassword(hash, 'correct horse battery staple')
assertType<typeof matches, boolean>(true)
assertType<typeof app.refreshSessions.store, SessionStore>(true)

// options as a value of their own, hooks with typed events, other stores and helpers
const options: RefreshSessionsOptions = {
  accessToken: { secret: Buffer.alloc(32, 1), ttl: 900, audience: ['web', 'mobile'] },
  transport: 'both',
  cookie: { hostPrefix: true, sameSite: 'lax' },
  loginLimits: { perUserIp: { max: 5, window: '15m' }, perIp: { max: 50, window: 900 } },
  argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
  findUser: async (username): Promise<LoginUserRecord | null> => username === 'a' ? { id: 1, passwordHash: '$argon2id$...', roles: ['user'], claims: { tier: 'gold' } } : null,
  loadUser: (id): AuthUserRecord | null => ({ id, disabled: false }),
  onLogin: (event, request) => {
    assertType<typeof event.amr, string[]>(true)
    request.log.info({ userId: event.userId, sessionId: event.sessionId, clientId: event.clientId, amr: event.amr }, 'login')
  },
  routes: { reauthenticate: false },
  onLoginFailed: (event) => {
    assertType<typeof event, LoginFailedEvent>(true)
    assertType<typeof event.reason, 'unknown-user' | 'wrong-password' | 'disabled' | 'rate-limited'>(true)
  },
  onRefresh: async (event) => { assertType<typeof event.grace, boolean>(true) },
  onLogout: (event) => { assertType<typeof event.sessionId, string | null>(true) },
  onReuseDetected: (event) => { assertType<typeof event.reuse, 'predecessor' | 'older'>(true) },
  onPasswordRehash: async (event) => { assertType<typeof event.passwordHash, string>(true) }
}
await Fastify().register(refreshSessions, options)
await Fastify().register(refreshSessions, { accessToken: { secret: 'x'.repeat(32) }, findUser: () => null })

const memory: SessionStore = new MemoryStore({ idleTtlMs: 1000, absoluteTtlMs: 2000, reuseGraceMs: 100, maxSessionsPerUser: 1 })
const redisStore: SessionStore = new RedisStore({ redis: new Redis(), idleTtlMs: 1000, absoluteTtlMs: 2000, reuseGraceMs: 100, maxSessionsPerUser: 1 })
void memory
void redisStore
assertType<ReturnType<typeof parseDuration>, number>(true)
const error = new errors.InvalidCredentialsError()
assertType<typeof error.code, 'AUTH_INVALID_CREDENTIALS'>(true)
assertType<typeof error.statusCode, 401>(true)
