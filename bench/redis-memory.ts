/**
 * Redis memory per session: INFO memory `used_memory` before and after 100 000 logins, after one
 * rotation of each and after ROTATIONS (default 9) rotations of each, on a redis-server of its own.
 * Run: `npx tsx bench/redis-memory.ts` (env SESSIONS, ROTATIONS).
 *
 * The figure includes the session record, its index entry and the per-user index key, shared by
 * that user's sessions (so it depends on sessions per user: 10 and 1 are measured). 9 rotations
 * fill the remembered fingerprints of older secrets (8): a session's record is then as large as
 * it ever gets, and stays so at every later rotation.
 *
 * Metadata, chosen to look like production rather than to flatter (see SAMPLE_* below): a mix of
 * five real user agents (desktop Chrome, Edge and Firefox, iPhone Safari, Android Chrome), IPv4
 * for 4 sessions in 5 and IPv6 for the 5th, identity data as the login route writes it without
 * loadUser (`[roles, claims]`), an authentication record (`<base36 seconds> pwd`, what auth_time
 * and amr keep) on every session, and a DPoP binding (`dpop:<43-char thumbprint>`) on 1 in 5.
 * The clock is the store's test clock: logins at one instant, then one rotation round every 15
 * minutes (an access token's life), so the times a record keeps are realistic, not milliseconds apart.
 */
import { Redis } from 'ioredis'
import { sessionKeys } from '../src/redis/keys.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { encodeAuthentication } from '../src/session/authentication.js'
import type { Binding } from '../src/session/binding.js'
import { startRedis } from '../support/redis-harness.js'

const SESSIONS = Number(process.env.SESSIONS ?? 100_000)
const ROTATIONS = Number(process.env.ROTATIONS ?? 9)
const ROUND_MS = 15 * 60_000

export const SAMPLE_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0'
]
/** Kept for bench/lib/report.ts: the longest-standing sample, a desktop Chrome. */
export const USER_AGENT = SAMPLE_USER_AGENTS[0]!
const SAMPLE_IPS = ['203.0.113.45', '198.51.100.7', '192.0.2.219', '203.0.113.180', '2001:db8:85a3::8a2e:370:7334']
/** What the login route keeps without loadUser (src/http/issue-tokens.ts encodeIdentity). */
const SAMPLE_DATA = '[["user"],{}]'
const DPOP_SHARE = 5

async function usedMemory (redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
}

/** One session's keys as Redis sizes them (`MEMORY USAGE`, which counts key name, value and overhead). */
export interface KeySample { keyName: number, record: number, recordMemory: number, indexMemory: number }

export interface MemoryPerSession {
  sessions: number
  sessionsPerUser: number
  /** Rotations of every session behind `afterRotation`. */
  rotations: number
  afterLogin: number
  afterOneRotation: number
  /** After `rotations` rotations: the largest a record gets. */
  afterRotation: number
  version: string
  sample: { afterLogin: KeySample, afterRotation: KeySample }
}

/** A key's size, 0 when it does not exist. */
async function usage (redis: Redis, name: string): Promise<number> {
  return Number(await redis.call('MEMORY', 'USAGE', name, 'SAMPLES', '0') ?? 0)
}

async function sampleKeys (redis: Redis, userId: string, sessionId: string): Promise<KeySample> {
  const keys = sessionKeys('rs:', userId)
  const record = await redis.exists(keys.sessionBase + sessionId) === 1 ? keys.sessionBase + sessionId : keys.index
  return { keyName: Buffer.byteLength(record), record: Number(await redis.call('STRLEN', record).catch(() => 0)), recordMemory: await usage(redis, record), indexMemory: record === keys.index ? 0 : await usage(redis, keys.index) }
}

/** Bytes of `used_memory` per session, over `sessions` sessions of `sessionsPerUser` each (bench/run.ts calls this too). */
export async function measureMemoryPerSession (sessionsPerUser: number, sessions = SESSIONS, rotations = ROTATIONS): Promise<MemoryPerSession> {
  const server = await startRedis({ allowExternal: false })
  const redis = new Redis(server.url)
  let now = Date.UTC(2026, 10, 30, 9)
  try {
    const store = new SessionCore(new RedisStore({ redis, prefix: 'rs:', idleTtlMs: 7 * 86_400_000, absoluteTtlMs: 30 * 86_400_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10, clock: () => now, commandTimeoutMs: 120_000 }))
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))![1]!
    const before = await usedMemory(redis)
    const tokens: string[] = []
    const bindings: Array<Binding | null> = []
    let first: { userId: string, id: string } | undefined
    for (let i = 0; i < sessions; i += 1000) {
      const batch = await Promise.all(Array.from({ length: Math.min(1000, sessions - i) }, (_, j) => {
        const n = i + j
        const binding: Binding | null = n % DPOP_SHARE === DPOP_SHARE - 1 ? { kind: 'dpop', thumbprint: Buffer.alloc(32, n % 251).toString('base64url') } : null
        bindings.push(binding)
        return store.create(`user-${Math.floor(n / sessionsPerUser)}`, {
          userAgent: SAMPLE_USER_AGENTS[n % SAMPLE_USER_AGENTS.length],
          // Shifted by one, so that the IPv6 session is not also the DPoP-bound one.
          ip: SAMPLE_IPS[(n + 1) % SAMPLE_IPS.length],
          data: SAMPLE_DATA,
          authentication: encodeAuthentication(['pwd'], Math.floor((now - 3_600_000 + n) / 1000)),
          binding
        })
      }))
      for (const created of batch) tokens.push(created.token)
      first ??= batch[0]!.session
    }
    const afterLogin = (await usedMemory(redis) - before) / sessions
    const sampleAfterLogin = await sampleKeys(redis, first!.userId, first!.id)
    let afterOneRotation = afterLogin
    for (let round = 1; round <= rotations; round++) {
      now += ROUND_MS
      for (let i = 0; i < tokens.length; i += 1000) {
        await Promise.all(tokens.slice(i, i + 1000).map(async (token, j) => {
          const result = await store.rotate(token, { binding: bindings[i + j] })
          if (result.outcome !== 'rotated') throw new Error(`rotation ${round} of session ${i + j}: ${result.outcome}`)
          tokens[i + j] = result.token
        }))
      }
      if (round === 1) afterOneRotation = (await usedMemory(redis) - before) / sessions
    }
    const afterRotation = (await usedMemory(redis) - before) / sessions
    const sample = { afterLogin: sampleAfterLogin, afterRotation: await sampleKeys(redis, first!.userId, first!.id) }
    return { sessions, sessionsPerUser, rotations, afterLogin, afterOneRotation, afterRotation, version, sample }
  } finally {
    redis.disconnect()
    await server.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`Redis memory per session over ${SESSIONS} sessions (5 user agents of ${SAMPLE_USER_AGENTS.map((ua) => ua.length).join(', ')} chars; identity data, authentication; 1 in ${DPOP_SHARE} DPoP-bound)`)
  console.log('| sessions per user | after login | after 1 rotation | after ' + String(ROTATIONS) + ' rotations | one record: msgpack B login → rotated, MEMORY USAGE login → rotated | its index key |')
  console.log('|---|---|---|---|---|---|')
  let version = ''
  for (const perUser of [10, 1]) {
    const m = await measureMemoryPerSession(perUser)
    version = m.version
    const { afterLogin: a, afterRotation: b } = m.sample
    console.log(`| ${perUser} | ${m.afterLogin.toFixed(0)} B | ${m.afterOneRotation.toFixed(0)} B | ${m.afterRotation.toFixed(0)} B | ${a.record} → ${b.record} B, ${a.recordMemory} → ${b.recordMemory} B (key name ${b.keyName} B) | ${b.indexMemory === 0 ? 'none (the record holds the index)' : `${b.indexMemory} B`} |`)
  }
  console.log(`redis ${version}`)
}
