/**
 * Redis memory per session: INFO memory `used_memory` before and after 100 000 logins (and after
 * one rotation of each), on a redis-server of its own. Run: `npx tsx bench/redis-memory.ts`.
 * The figure includes the session record, its index entry and the per-user index key, shared
 * by that user's sessions (so it depends on sessions per user: both layouts are measured).
 */
import { Redis } from 'ioredis'
import { sessionKeys } from '../src/redis/keys.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { encodeAuthentication } from '../src/session/authentication.js'
import { startRedis } from '../support/redis-harness.js'

const SESSIONS = Number(process.env.SESSIONS ?? 100_000)
// A real desktop Chrome user agent: the longest field of a session.
export const USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IP = '203.0.113.45'

async function usedMemory (redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
}

/** One session's keys as Redis sizes them (`MEMORY USAGE`, which counts key name, value and overhead). */
export interface KeySample { keyName: number, record: number, recordMemory: number, indexMemory: number }

export interface MemoryPerSession {
  sessions: number
  sessionsPerUser: number
  afterLogin: number
  afterRotation: number
  version: string
  sample: { afterLogin: KeySample, afterRotation: KeySample }
}

async function sampleKeys (redis: Redis, userId: string, sessionId: string): Promise<KeySample> {
  const keys = sessionKeys('rs:', userId)
  const key = keys.sessionBase + sessionId
  const usage = async (name: string): Promise<number> => Number(await redis.call('MEMORY', 'USAGE', name, 'SAMPLES', '0'))
  return { keyName: Buffer.byteLength(key), record: await redis.strlen(key), recordMemory: await usage(key), indexMemory: await usage(keys.index) }
}

/**
 * Bytes of `used_memory` per session, over `sessions` sessions of `sessionsPerUser` each (bench/run.ts calls this too).
 * Each keeps what a password login keeps: its auth_time and amr (`authentication: false` leaves them out, as 0.1 did).
 */
export async function measureMemoryPerSession (sessionsPerUser: number, sessions = SESSIONS, { authentication = true } = {}): Promise<MemoryPerSession> {
  const server = await startRedis({ allowExternal: false })
  const redis = new Redis(server.url)
  try {
    const store = new SessionCore(new RedisStore({ redis, prefix: 'rs:', idleTtlMs: 7 * 86_400_000, absoluteTtlMs: 30 * 86_400_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }))
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))![1]!
    const before = await usedMemory(redis)
    const tokens: string[] = []
    let first: { userId: string, id: string } | undefined
    for (let i = 0; i < sessions; i += 1000) {
      const batch = await Promise.all(Array.from({ length: Math.min(1000, sessions - i) }, (_, j) =>
        store.create(`user-${Math.floor((i + j) / sessionsPerUser)}`, { userAgent: USER_AGENT, ip: IP, ...(authentication && { authentication: encodeAuthentication(['pwd']) }) })))
      for (const created of batch) tokens.push(created.token)
      first ??= batch[0]!.session
    }
    const afterLogin = (await usedMemory(redis) - before) / sessions
    const sampleAfterLogin = await sampleKeys(redis, first!.userId, first!.id)
    for (let i = 0; i < tokens.length; i += 1000) await Promise.all(tokens.slice(i, i + 1000).map((token) => store.rotate(token)))
    const afterRotation = (await usedMemory(redis) - before) / sessions
    const sample = { afterLogin: sampleAfterLogin, afterRotation: await sampleKeys(redis, first!.userId, first!.id) }
    return { sessions, sessionsPerUser, afterLogin, afterRotation, version, sample }
  } finally {
    redis.disconnect()
    await server.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`Redis memory per session over ${SESSIONS} sessions (user agent ${USER_AGENT.length} chars)`)
  for (const perUser of [10, 1]) {
    const { afterLogin, afterRotation, version, sample } = await measureMemoryPerSession(perUser)
    console.log(`redis ${version}, ${perUser} session(s) per user: ${afterLogin.toFixed(0)} B after login, ${afterRotation.toFixed(0)} B after one rotation`)
    console.log(`  one session: key name ${sample.afterRotation.keyName} B, record ${sample.afterLogin.record} -> ${sample.afterRotation.record} B, MEMORY USAGE record ${sample.afterLogin.recordMemory} -> ${sample.afterRotation.recordMemory} B, its user's index ${sample.afterRotation.indexMemory} B`)
  }
}
