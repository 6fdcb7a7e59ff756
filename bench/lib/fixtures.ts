/**
 * What the scenario servers share: secrets, users, argon2 parameters, and minting live tokens
 * through the plugin's own login route (app.inject), so every token the load carries is real.
 */
import argon2 from 'argon2'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import refreshSessions, { type RefreshSessionsOptions } from '../../src/index.js'
import { setCookieValue } from './set-cookie.js'

export const HS256_SECRET = 'bench-hs256-secret-of-at-least-32-bytes-0123456789'
/** Cheap argon2 so that minting 1 000 sessions at start takes about a second. */
export const CHEAP_ARGON2 = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1 })
/** The plugin's default (OWASP) parameters, spelled out for the login scenarios. */
export const DEFAULT_ARGON2 = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
export const PASSWORD = 'correct horse battery staple'
export const REFRESH_COOKIE = 'refresh_token'

export const userName = (i: number): string => `user-${i}`

export async function hashPassword (params: { memoryCost: number, timeCost: number, parallelism: number }): Promise<string> {
  return await argon2.hash(PASSWORD, { type: argon2.argon2id, ...params })
}

/** Every username matching `names` is a user with PASSWORD (one hash shared by all). */
export function usersWithHash (names: RegExp, passwordHash: string): (username: string) => { id: string, passwordHash: string, roles: string[] } | null {
  return (username) => names.test(username) ? { id: username, passwordHash, roles: ['user'] } : null
}

export interface PluginAppOptions {
  /** The runner's Redis, for the plugin's store and login limiter; none: the in-memory ones. */
  redisUrl?: string
  /** The plugin's argon2 option (hash / rehash / dummy parameters); verify follows each stored hash. */
  argon2?: { memoryCost: number, timeCost: number, parallelism: number }
  /** Parameters of the users' stored hashes (default: the plugin's). */
  userHashes?: { memoryCost: number, timeCost: number, parallelism: number }
  accessToken?: RefreshSessionsOptions['accessToken']
  /** Instead of users `user-N` with `userHashes`. */
  findUser?: RefreshSessionsOptions['findUser']
}

/** A Fastify app with the plugin registered as the README shows, plus GET /me behind `guard`. */
export async function pluginApp (options: PluginAppOptions, guard: 'authenticate' | 'authenticateSession' | null): Promise<{ app: FastifyInstance, redis: Redis | null }> {
  const app = Fastify()
  const redis = options.redisUrl === undefined ? null : redisFor(app, options.redisUrl)
  await app.register(refreshSessions, {
    accessToken: options.accessToken ?? { secret: HS256_SECRET, ttl: '15m' },
    ...(redis !== null && { redis }),
    ...(options.argon2 !== undefined && { argon2: options.argon2 }),
    findUser: options.findUser ?? usersWithHash(/^user-\d+$/, await hashPassword(options.userHashes ?? options.argon2 ?? DEFAULT_ARGON2))
  })
  if (guard !== null) app.get('/me', { preHandler: app[guard] }, async (request) => ({ id: request.user.id }))
  return { app, redis }
}

/** Counts what an ioredis client sends over the wire, by command name: round trips, not script internals. */
export function countSentCommands (redis: Redis): Map<string, number> {
  const sent = new Map<string, number>()
  const original = redis.sendCommand.bind(redis)
  redis.sendCommand = ((command, stream) => {
    sent.set(command.name, (sent.get(command.name) ?? 0) + 1)
    return original(command, stream)
  }) as typeof redis.sendCommand
  return sent
}

export interface MintedSession { accessToken: string, refreshToken: string }

/** `count` sessions of `count` distinct users, by real logins; a few at a time (argon2 runs on 4 threads). */
export async function mintSessions (app: FastifyInstance, count: number, firstUser = 0): Promise<MintedSession[]> {
  const sessions: MintedSession[] = []
  for (let i = 0; i < count; i += 16) {
    const batch = await Promise.all(Array.from({ length: Math.min(16, count - i) }, async (_, j) => {
      const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: userName(firstUser + i + j), password: PASSWORD } })
      if (response.statusCode !== 200) throw new Error(`login for minting answered ${response.statusCode}: ${response.body}`)
      const refreshToken = setCookieValue(response.headers['set-cookie'], REFRESH_COOKIE)
      if (refreshToken === null) throw new Error('login for minting set no refresh cookie')
      return { accessToken: (response.json() as { accessToken: string }).accessToken, refreshToken }
    }))
    sessions.push(...batch)
  }
  return sessions
}

/** ioredis on the runner's Redis, closed with the app (call before the app is ready). */
export function redisFor (app: FastifyInstance, url: string): Redis {
  const redis = new Redis(url)
  app.addHook('onClose', async () => { redis.disconnect() })
  return redis
}
