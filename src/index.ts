/**
 * fastify-refresh-sessions: options -> store -> access tokens -> decorators -> routes.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { createAccessTokens } from './access/access-token.js'
import type { PluginContext } from './context.js'
import { createAuthenticate, createAuthenticateCheck, createAuthenticateSession, createRequireBinding, requireRoles } from './access/authenticate.js'
import { requireRecentAuth } from './access/require-recent-auth.js'
import { startSession } from './http/start-session.js'
import { reauthenticate } from './http/reauthenticate.js'
import { createDpop } from './binding/dpop/create.js'
import { RevocationCache } from './access/revocations.js'
import { Dbsc } from './binding/dbsc/dbsc.js'
import type { LoginLimiter } from './login-limiter/limiter.js'
import { MemoryLoginLimiter } from './login-limiter/memory-limiter.js'
import { RedisLoginLimiter } from './login-limiter/redis-limiter.js'
import { LoginBusyError, OptionsError } from './errors.js'
import { resolveOptions, type RefreshSessionsOptions } from './options.js'
import { createPasswordHasher, gatedHasher } from './password.js'
import { lowerThreadPoolPriority } from './thread-pool-priority.js'
import { WorkGate } from './work-gate.js'
import { authErrorHandler, authRoutes } from './http/routes/index.js'
import { jwksRoute } from './http/routes/jwks.js'
import { MemoryStore } from './session/memory-store.js'
import { guardEvictionPolicy } from './redis/eviction-policy.js'
import { RedisStore } from './redis/redis-store.js'
import { SessionCore } from './session/session-core.js'
import type { SessionStore } from './session/store.js'
import type { RefreshSessionsApi } from './types.js'
import { Telemetry } from './telemetry.js'

async function refreshSessions (fastify: FastifyInstance, userOptions: RefreshSessionsOptions): Promise<void> {
  const options = resolveOptions(userOptions)
  const { redis } = userOptions
  // Checked before anything starts (store timers, JWT): a clash fails register with the option to change.
  for (const [option, name] of Object.entries(options.decorators)) {
    if (fastify.hasDecorator(name)) throw new OptionsError(`decorator "${name}" already exists: choose another name with option decorators.${option}`)
  }

  let store: SessionStore
  let limiter: LoginLimiter | null = null
  if (redis !== undefined) {
    const stopEvictionCheck = await guardEvictionPolicy(redis, { allow: options.allowRedisEviction, timeoutMs: options.commandTimeoutMs, log: fastify.log })
    fastify.addHook('onClose', async () => { stopEvictionCheck() })
    store = new RedisStore({ redis, prefix: options.prefix, commandTimeoutMs: options.commandTimeoutMs, ...options.limits })
    if (options.loginLimits !== false) limiter = new RedisLoginLimiter({ redis, prefix: options.prefix, limits: options.loginLimits, commandTimeoutMs: options.commandTimeoutMs })
  } else {
    fastify.log.warn('fastify-refresh-sessions: no redis option, using the in-memory store: sessions are neither shared between processes nor durable')
    store = new MemoryStore(options.limits)
    if (options.loginLimits !== false) limiter = new MemoryLoginLimiter({ limits: options.loginLimits })
  }
  // Decided once, here: with no OpenTelemetry SDK installed the store and limiter are used unwrapped.
  const telemetry = new Telemetry()
  limiter = telemetry.observeLimiter(limiter, redis !== undefined)
  const sessions = new SessionCore(telemetry.observeStore(store, redis !== undefined))
  fastify.addHook('onClose', async () => {
    // Our timers only: the Redis client is the app's to close.
    await sessions.close()
    await limiter?.close()
  })

  const tokens = createAccessTokens(options.accessToken)
  const passwords = createPasswordHasher(options.argon2)
  const argon2Queue = options.argon2Queue === false ? null : new WorkGate(options.argon2Queue, () => new LoginBusyError())
  // The routes' argon2 calls queue for a bounded number of slots; the app's own hashPassword and
  // verifyPassword calls (sign-up, its own forms) are its to pace and go straight through.
  const routePasswords = argon2Queue === null ? passwords : gatedHasher(passwords, argon2Queue)
  const queueOptions = options.argon2Queue
  if (argon2Queue !== null && queueOptions !== false && queueOptions.lowerPoolPriority) {
    fastify.addHook('onReady', async () => {
      const threads = await lowerThreadPoolPriority()
      if (threads > 0) return
      argon2Queue.limit(queueOptions.fallbackConcurrency)
      fastify.log.debug({ concurrency: queueOptions.fallbackConcurrency }, 'fastify-refresh-sessions: libuv\'s thread pool could not be lowered below the event loop (not Linux, or Node before 22); argon2Queue keeps a core free instead')
    })
  }
  const dpop = createDpop(options, redis, userOptions)
  const checkAccessToken = createAuthenticateCheck(tokens, options.accessToken.cookieName, dpop)
  const authenticate = createAuthenticate(checkAccessToken)
  const revocations = store.watchRevocations === undefined ? null : new RevocationCache(options.accessToken.ttlSeconds * 1000)
  if (revocations !== null) {
    let stopWatching: (() => Promise<void>) | undefined
    fastify.addHook('onReady', async () => { stopWatching = sessions.watchRevocations(telemetry.observeRevocations(revocations)) ?? undefined })
    fastify.addHook('onClose', async () => {
      await stopWatching?.()
      revocations.close()
    })
  }

  // request.user is NOT decorated here: @fastify/jwt decorates it unconditionally, so an app that
  // registers its own @fastify/jwt after this plugin would fail to start. authenticate assigns it.
  // Our own routes use `authenticate` through the context, whatever its public name.
  const context: PluginContext = { options, sessions, tokens, passwords: routePasswords, argon2Queue, limiter, callbacks: userOptions, authenticate, telemetry, dbsc: Dbsc.create(options, redis), dpop }
  const names = options.decorators
  fastify.decorate(names.authenticate, authenticate)
  fastify.decorate(names.authenticateSession, createAuthenticateSession(checkAccessToken, sessions, revocations))
  fastify.decorate(names.requireRoles, requireRoles)
  fastify.decorate(names.requireBinding, createRequireBinding(dpop))
  fastify.decorate(names.requireRecentAuth, requireRecentAuth)
  fastify.decorate(names.refreshSessions, {
    startSession: async (request, reply, user, sessionOptions) => await startSession(request, reply, context, user, sessionOptions),
    reauthenticate: async (request, reply, reauthOptions) => await reauthenticate(request, reply, context, reauthOptions),
    listSessions: (userId) => sessions.list(String(userId)),
    revokeSession: (userId, sessionId) => sessions.revoke(String(userId), sessionId),
    revokeAllSessions: (userId, revokeOptions) => sessions.revokeAll(String(userId), revokeOptions),
    hashPassword: (password) => passwords.hash(password),
    verifyPassword: (hash, password) => passwords.verify(hash, password),
    sessions,
    store,
    argon2Queue
  } satisfies RefreshSessionsApi)

  await fastify.register(authRoutes, { prefix: options.routePrefix, context })
  if (options.routes.jwks !== false) {
    const path = options.routes.jwks
    await fastify.register(async (scope) => {
      scope.setErrorHandler(authErrorHandler)
      jwksRoute(scope, context, path)
    })
  }
}

const plugin: FastifyPluginAsync<RefreshSessionsOptions> = fp(refreshSessions, { fastify: '5.x', name: 'fastify-refresh-sessions' })
export default plugin

export type { RefreshSessionsOptions, DbscOptions, AuthUserRecord, LoginUserRecord, LoginEvent, LoginFailedEvent, RefreshEvent, LogoutEvent, ReuseDetectedEvent, PasswordRehashEvent, SessionBoundEvent, ProofRefusedEvent, ProofRefusedReason } from './options.js'
export type { AuthUser, AuthUserClaims, RefreshSessionsApi, RefreshSessionsJWT, RequestUserTypes } from './types.js'
export type { SessionStore, Session, SessionLimits, StoredMetadata, CreateInput, CreateResult, RotateInput, StoreRotateResult, RevokeBySecretInput, RevokeBySecretResult, RevocationWatcher, ReuseKind } from './session/store.js'
export type { CreatedSession, RotateResult, RotateContext, RevokeByTokenResult, SessionMetadata } from './session/session-core.js'
export { SessionCore } from './session/session-core.js'
export type { AccessTokenClaims } from './access/access-token.js'
export type { RequireRecentAuthOptions } from './access/require-recent-auth.js'
export type { SessionUser, StartSessionOptions } from './http/start-session.js'
export type { ReauthenticateOptions } from './http/reauthenticate.js'
export type { AccessTokenResponse, TokenResponse } from './http/schemas.js'
export { MemoryStore } from './session/memory-store.js'
export { RedisStore } from './redis/redis-store.js'
export * as errors from './errors.js'
export { parseDuration } from './options.js'
export { optionalBodies } from './http/openapi.js'
