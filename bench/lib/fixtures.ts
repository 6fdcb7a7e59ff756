/**
 * What the scenario servers share: secrets, users, argon2 parameters, Redis clients. Nothing here
 * loads the plugin: the baselines must run whatever state src/ is in (see plugin-app.ts).
 */
import argon2 from 'argon2'
import type { FastifyInstance } from 'fastify'
import { Cluster, Redis } from 'ioredis'

/**
 * BENCH_IOREDIS=6: the scenario's clients are ioredis 6 (the `ioredis-6` alias of the dev
 * dependencies) instead of 5; the plugin accepts both (typed on 5, which 6 matches at runtime).
 */
export const IOREDIS_MAJOR = process.env.BENCH_IOREDIS === '6' ? 6 : 5
const RedisClient = (IOREDIS_MAJOR === 6 ? (await import('ioredis-6')).Redis : Redis) as unknown as typeof Redis

export const HS256_SECRET = 'bench-hs256-secret-of-at-least-32-bytes-0123456789'
/** Cheap argon2 so that minting 1 000 sessions at start takes about a second. */
export const CHEAP_ARGON2 = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1 })
/** The plugin's default (OWASP) parameters, spelled out for the login scenarios. */
export const DEFAULT_ARGON2 = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
export const PASSWORD = 'correct horse battery staple'

export const userName = (i: number): string => `user-${i}`

export async function hashPassword (params: { memoryCost: number, timeCost: number, parallelism: number }): Promise<string> {
  return await argon2.hash(PASSWORD, { type: argon2.argon2id, ...params })
}

/** Every username matching `names` is a user with PASSWORD (one hash shared by all). */
export function usersWithHash (names: RegExp, passwordHash: string): (username: string) => { id: string, passwordHash: string, roles: string[] } | null {
  return (username) => names.test(username) ? { id: username, passwordHash, roles: ['user'] } : null
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

/**
 * ioredis (5, or 6 with BENCH_IOREDIS=6) on the runner's Redis, closed with the app (call before
 * the app is ready). BENCH_CLUSTER_NODES (`host:port,...`, set by bench/cluster.ts): an ioredis
 * Cluster on those nodes instead (typed as a Redis: the plugin and the counters take either).
 */
export function redisFor (app: FastifyInstance, url: string): Redis {
  const nodes = process.env.BENCH_CLUSTER_NODES
  const redis = nodes === undefined || nodes === ''
    ? new RedisClient(url)
    : new Cluster(nodes.split(',').map((node) => ({ host: node.slice(0, node.lastIndexOf(':')), port: Number(node.slice(node.lastIndexOf(':') + 1)) }))) as unknown as Redis
  app.addHook('onClose', async () => { redis.disconnect() })
  return redis
}
