/**
 * The plugin's scenarios: an app with the plugin registered as the README shows, and live tokens
 * minted through its own login route (app.inject), so every token the load carries is real.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import refreshSessions, { type RefreshSessionsOptions } from '../../src/index.js'
import { DEFAULT_ARGON2, HS256_SECRET, hashPassword, PASSWORD, redisFor, userName, usersWithHash } from './fixtures.js'
import { REFRESH_COOKIE, setCookieValue } from '../../support/set-cookie.js'

export interface PluginAppOptions {
  /** The runner's Redis, for the plugin's store and login limiter; none: the in-memory ones. */
  redisUrl?: string
  /** The plugin's argon2 option (hash / rehash / dummy parameters); verify follows each stored hash. */
  argon2?: { memoryCost: number, timeCost: number, parallelism: number }
  /** Parameters of the users' stored hashes (default: the plugin's). */
  userHashes?: { memoryCost: number, timeCost: number, parallelism: number }
  accessToken?: RefreshSessionsOptions['accessToken']
  /** The plugin's argon2Queue option (undefined: its default). */
  argon2Queue?: RefreshSessionsOptions['argon2Queue']
  /** Instead of users `user-N` with `userHashes`. */
  findUser?: RefreshSessionsOptions['findUser']
  maxSessionsPerUser?: number
}

/** A Fastify app with the plugin registered as the README shows, plus GET /me behind `guard`. */
export async function pluginApp (options: PluginAppOptions, guard: 'authenticate' | 'authenticateSession' | null): Promise<{ app: FastifyInstance, redis: Redis | null }> {
  const app = Fastify()
  const redis = options.redisUrl === undefined ? null : redisFor(app, options.redisUrl)
  await app.register(refreshSessions, {
    accessToken: options.accessToken ?? { secret: HS256_SECRET, ttl: '15m' },
    // A prefix per process: what one scenario leaves in the shared Redis (sessions, login-limit
    // counters of requests cut off when it stopped) never reaches the next one. The scale runner
    // (bench/scale.ts) sets BENCH_PREFIX: the sessions it pre-filled are then the app's own.
    ...(redis !== null && { redis, prefix: process.env.BENCH_PREFIX ?? `bench${process.pid}:` }),
    ...(options.maxSessionsPerUser !== undefined && { maxSessionsPerUser: options.maxSessionsPerUser }),
    ...(options.argon2 !== undefined && { argon2: options.argon2 }),
    ...(options.argon2Queue !== undefined && { argon2Queue: options.argon2Queue }),
    findUser: options.findUser ?? usersWithHash(/^user-\d+$/, await hashPassword(options.userHashes ?? options.argon2 ?? DEFAULT_ARGON2))
  })
  if (guard !== null) app.get('/me', { preHandler: app[guard] }, async (request) => ({ id: request.user.id }))
  // For mintAccessTokens: a session started as the app would after its own sign-in (startSession).
  app.post<{ Body: { user: string } }>(MINT_ROUTE, async (request, reply) => await app.refreshSessions.startSession(request, reply, { id: request.body.user, roles: ['user'] }, { amr: ['pwd'] }))
  return { app, redis }
}

const MINT_ROUTE = '/bench/start-session'
const MINT_IN_FLIGHT = 64

/**
 * `count` live access tokens of `count` distinct users, each its own session, through
 * `startSession` (what login does after the password): tens of thousands in seconds, where
 * logins, even with cheap argon2, take a millisecond each.
 */
export async function mintAccessTokens (app: FastifyInstance, count: number): Promise<string[]> {
  const tokens: string[] = []
  for (let i = 0; i < count; i += MINT_IN_FLIGHT) {
    tokens.push(...await Promise.all(Array.from({ length: Math.min(MINT_IN_FLIGHT, count - i) }, async (_, j) => {
      const response = await app.inject({ method: 'POST', url: MINT_ROUTE, payload: { user: userName(i + j) } })
      if (response.statusCode !== 200) throw new Error(`startSession for minting answered ${response.statusCode}: ${response.body}`)
      return (response.json() as { accessToken: string }).accessToken
    })))
  }
  return tokens
}

export interface MintedSession { accessToken: string, refreshToken: string }

/** `count` sessions of `count` distinct users (`name(i)`), by real logins; a few at a time (argon2 runs on 4 threads). */
export async function mintSessions (app: FastifyInstance, count: number, firstUser = 0, name: (i: number) => string = userName): Promise<MintedSession[]> {
  const sessions: MintedSession[] = []
  for (let i = 0; i < count; i += 16) {
    const batch = await Promise.all(Array.from({ length: Math.min(16, count - i) }, async (_, j) => {
      const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: name(firstUser + i + j), password: PASSWORD } })
      if (response.statusCode !== 200) throw new Error(`login for minting answered ${response.statusCode}: ${response.body}`)
      const refreshToken = setCookieValue(response.headers['set-cookie'], REFRESH_COOKIE)
      if (refreshToken === null) throw new Error('login for minting set no refresh cookie')
      return { accessToken: (response.json() as { accessToken: string }).accessToken, refreshToken }
    }))
    sessions.push(...batch)
  }
  return sessions
}
