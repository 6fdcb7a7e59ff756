/**
 * Redis memory per session: INFO memory `used_memory` before and after 100 000 logins (and after
 * one rotation of each), on a redis-server of its own. Run: `npx tsx bench/redis-memory.ts`.
 * The figure includes the session record, its index entry and the per-user index key, shared
 * by that user's sessions (so it depends on sessions per user: both layouts are measured).
 */
import { Redis } from 'ioredis'
import { RedisStore } from '../src/store/redis-store.js'
import { startRedis } from '../test/helpers/redis.js'

const SESSIONS = Number(process.env.SESSIONS ?? 100_000)
// A real desktop Chrome user agent: the longest field of a session.
const USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IP = '203.0.113.45'

async function usedMemory (redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
}

export async function measureMemoryPerSession (sessionsPerUser: number): Promise<{ afterLogin: number, afterRotation: number, version: string }> {
  const server = await startRedis({ allowExternal: false })
  const redis = new Redis(server.url)
  try {
    const store = new RedisStore({ redis, prefix: 'rs:', idleTtlMs: 7 * 86_400_000, absoluteTtlMs: 30 * 86_400_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 })
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))![1]!
    const before = await usedMemory(redis)
    const tokens: string[] = []
    for (let i = 0; i < SESSIONS; i += 1000) {
      const batch = await Promise.all(Array.from({ length: Math.min(1000, SESSIONS - i) }, (_, j) =>
        store.create(`user-${Math.floor((i + j) / sessionsPerUser)}`, { userAgent: USER_AGENT, ip: IP })))
      for (const created of batch) tokens.push(created.token)
    }
    const afterLogin = (await usedMemory(redis) - before) / SESSIONS
    for (let i = 0; i < tokens.length; i += 1000) await Promise.all(tokens.slice(i, i + 1000).map((token) => store.rotate(token)))
    const afterRotation = (await usedMemory(redis) - before) / SESSIONS
    return { afterLogin, afterRotation, version }
  } finally {
    redis.disconnect()
    await server.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`Redis memory per session over ${SESSIONS} sessions (user agent ${USER_AGENT.length} chars)`)
  for (const perUser of [10, 1]) {
    const { afterLogin, afterRotation, version } = await measureMemoryPerSession(perUser)
    console.log(`redis ${version}, ${perUser} session(s) per user: ${afterLogin.toFixed(0)} B after login, ${afterRotation.toFixed(0)} B after one rotation`)
  }
}
