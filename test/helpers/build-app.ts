/**
 * A real Fastify app with the plugin registered as users do, seeded users, recorded hook events
 * and (optionally) every log line captured, for the plugin's tests.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Writable } from 'node:stream'
import argon2 from 'argon2'
import refreshSessions, { type RefreshSessionsOptions } from '../../src/index.js'

export const HS256_SECRET = 'a-test-secret-of-at-least-32-bytes-0123456789'
/** Cheap argon2 parameters so that tests can log in often; the defaults have their own tests. */
export const FAST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

export interface TestUser {
  id: string
  username: string
  password: string
  roles: string[]
  claims?: Record<string, unknown>
  disabled?: boolean
  passwordHash?: string
}

export const ALICE: TestUser = { id: 'u-alice', username: 'alice', password: 'alice-password-1', roles: ['user'], claims: { tier: 'gold' } }
export const ADMIN: TestUser = { id: 'u-admin', username: 'admin', password: 'admin-password-1', roles: ['user', 'admin'] }
export const BOB: TestUser = { id: 'u-bob', username: 'bob', password: 'bob-password-1', roles: ['user'] }

const hashCache = new Map<string, Promise<string>>()
export function hashFor (password: string, params = FAST_ARGON2): Promise<string> {
  const key = `${password}:${JSON.stringify(params)}`
  let hash = hashCache.get(key)
  if (hash === undefined) {
    hash = argon2.hash(password, { type: argon2.argon2id, ...params })
    hashCache.set(key, hash)
  }
  return hash
}

export interface BuiltApp {
  app: FastifyInstance
  users: Map<string, TestUser>
  /** Hook name -> events, in order. */
  events: Record<string, unknown[]>
  /** Every log line, when captureLogs was set. */
  logs: string[]
}

export interface BuildOptions {
  options?: Partial<RefreshSessionsOptions>
  users?: TestUser[]
  captureLogs?: boolean
  /** Give the plugin a loadUser backed by the same users (default true). */
  loadUser?: boolean
  fastify?: FastifyServerOptions
  /** Routes of the app itself, registered after the plugin. */
  routes?: (app: FastifyInstance) => void
}

export async function buildApp (t: { teardown (fn: () => unknown): void }, build: BuildOptions = {}): Promise<BuiltApp> {
  const users = new Map<string, TestUser>()
  for (const user of build.users ?? [ALICE, ADMIN, BOB]) {
    users.set(user.username, { ...user, passwordHash: user.passwordHash ?? await hashFor(user.password) })
  }
  const logs: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { logs.push(String(chunk)); done() } })
  const serverOptions: FastifyServerOptions = {
    ...(build.captureLogs === true && { logger: { level: 'trace', stream } }),
    ...build.fastify
  }
  const app = Fastify(serverOptions)
  const events: Record<string, unknown[]> = {}
  const record = (name: string) => (event: unknown) => { (events[name] ??= []).push(event) }
  const byId = (id: string): TestUser | undefined => [...users.values()].find((u) => u.id === id)
  await app.register(refreshSessions, {
    accessToken: { secret: HS256_SECRET, ttl: '15m' },
    argon2: FAST_ARGON2,
    findUser: (username) => {
      const user = users.get(username)
      return user === undefined ? null : { id: user.id, passwordHash: user.passwordHash!, roles: user.roles, claims: user.claims, disabled: user.disabled }
    },
    ...(build.loadUser !== false && {
      loadUser: (id: string) => {
        const user = byId(id)
        return user === undefined ? null : { id: user.id, roles: user.roles, claims: user.claims, disabled: user.disabled }
      }
    }),
    onLogin: record('onLogin'),
    onLoginFailed: record('onLoginFailed'),
    onRefresh: record('onRefresh'),
    onLogout: record('onLogout'),
    onReuseDetected: record('onReuseDetected'),
    onPasswordRehash: record('onPasswordRehash'),
    onSessionBound: record('onSessionBound'),
    onProofRefused: record('onProofRefused'),
    ...build.options
  } as RefreshSessionsOptions)
  app.get('/me', { preHandler: app.authenticate }, async (request) => request.user)
  app.get('/me/strict', { preHandler: app.authenticateSession }, async (request) => request.user)
  app.get('/admin', { preHandler: [app.authenticate, app.requireRoles('admin')] }, async () => ({ ok: true }))
  build.routes?.(app)
  await app.ready()
  t.teardown(() => app.close())
  return { app, users, events, logs }
}

/** Register the plugin on a bare app with exactly these options, then close it: for tests of what registration refuses. */
export async function registerPlugin (options: unknown): Promise<void> {
  const app = Fastify()
  try {
    await app.register(refreshSessions, options as RefreshSessionsOptions)
    await app.ready()
  } finally {
    await app.close().catch(() => {})
  }
}

/** The refresh cookie of a response, with its attributes, or undefined. */
export function refreshCookie (response: { cookies: Array<{ name: string, value: string, [k: string]: unknown }> }, name = 'refresh_token'): { name: string, value: string, [k: string]: unknown } | undefined {
  return response.cookies.find((cookie) => cookie.name === name)
}

/** Log in through the route; returns the parsed body and the refresh cookie. */
export async function login (app: FastifyInstance, user: TestUser = ALICE, extra: { headers?: Record<string, string>, clientId?: string } = {}): Promise<{ accessToken: string, refreshToken: string, sessionId: string, body: Record<string, unknown> }> {
  const response = await app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: extra.headers,
    payload: { username: user.username, password: user.password, ...(extra.clientId !== undefined && { clientId: extra.clientId }) }
  })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  const body = response.json()
  return { accessToken: body.accessToken, refreshToken: body.refreshToken ?? refreshCookie(response)?.value, sessionId: body.sessionId, body }
}
