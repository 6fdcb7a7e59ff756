/**
 * The session rules' boundaries, pinned to the millisecond on a controlled clock, on the
 * MemoryStore and on the RedisStore (whose scripts restate the rules in Lua): at each boundary
 * and one millisecond past it.
 */
import t, { type Test } from 'tap'
import { RedisStore } from '../src/redis/redis-store.js'
import { MemoryStore } from '../src/session/memory-store.js'
import { SessionCore } from '../src/session/session-core.js'
import type { SessionLimits } from '../src/session/store.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const LIMITS: SessionLimits = { idleTtlMs: 10_000, absoluteTtlMs: 25_000, reuseGraceMs: 2_000, maxSessionsPerUser: 5 }
const server = await redisForTest(t)
const redis = await connectRedis(t, server)

interface Clocked { sessions: SessionCore, at: (ms: number) => void }

/** A core on each store, on a clock that starts a day ahead of real time (so Redis never drops a key by itself) and moves only when told. */
const stores: Record<string, () => Clocked> = {
  memory: () => {
    const start = Date.now() + 86_400_000
    let now = start
    const sessions = new SessionCore(new MemoryStore({ ...LIMITS, clock: () => now }))
    t.teardown(() => sessions.close())
    return { sessions, at: (ms) => { now = start + ms } }
  },
  redis: () => {
    const start = Date.now() + 86_400_000
    let now = start
    return { sessions: new SessionCore(new RedisStore({ redis, prefix: uniquePrefix('edge'), ...LIMITS, clock: () => now })), at: (ms) => { now = start + ms } }
  }
}

let users = 0
const user = (): string => `edge-${++users}`

async function rotated (t: Test, sessions: SessionCore, token: string): Promise<string> {
  const result = await sessions.rotate(token)
  t.equal(result.outcome, 'rotated')
  return result.outcome === 'rotated' ? result.token : ''
}

for (const [name, make] of Object.entries(stores)) {
  t.test(`${name}: grace ends exactly reuseGrace after the rotation`, async (t) => {
    for (const [offset, expected] of [[LIMITS.reuseGraceMs, 'grace'], [LIMITS.reuseGraceMs + 1, 'reused']] as const) {
      const { sessions, at } = make()
      at(0)
      const { token } = await sessions.create(user())
      at(1_000)
      await rotated(t, sessions, token)
      at(1_000 + offset)
      t.equal((await sessions.rotate(token)).outcome, expected, `predecessor ${offset} ms after the rotation: ${expected}`)
    }
  })

  t.test(`${name}: stale ends exactly reuseGrace after the rotation before the last`, async (t) => {
    for (const [offset, expected] of [[LIMITS.reuseGraceMs, 'stale'], [LIMITS.reuseGraceMs + 1, 'reused']] as const) {
      const { sessions, at } = make()
      at(0)
      const { token } = await sessions.create(user())
      at(1_000)
      const second = await rotated(t, sessions, token)
      at(1_500)
      await rotated(t, sessions, second)
      at(1_000 + offset)
      const result = await sessions.rotate(token)
      t.equal(result.outcome, expected, `two rotations old, ${offset} ms after its retirement: ${expected}`)
      if (result.outcome === 'reused') t.equal(result.reuse, 'older')
    }
  })

  t.test(`${name}: a session is idle-expired exactly idleTtl after its last use`, async (t) => {
    for (const [offset, expected] of [[LIMITS.idleTtlMs - 1, 'rotated'], [LIMITS.idleTtlMs, 'expired']] as const) {
      const { sessions, at } = make()
      const userId = user()
      at(0)
      const { token, session } = await sessions.create(userId)
      t.equal(session.expiresAt - session.createdAt, LIMITS.idleTtlMs)
      at(offset - 1)
      t.equal(await sessions.isLive(userId, session.id), true, `live ${offset - 1} ms after login`)
      at(offset)
      t.equal(await sessions.isLive(userId, session.id), expected === 'rotated', `isLive ${offset} ms after login`)
      t.equal((await sessions.rotate(token)).outcome, expected, `refresh ${offset} ms after login: ${expected}`)
    }
  })

  t.test(`${name}: the absolute lifetime ends exactly absoluteTtl after login, however active`, async (t) => {
    for (const [offset, expected] of [[LIMITS.absoluteTtlMs - 1, 'rotated'], [LIMITS.absoluteTtlMs, 'expired']] as const) {
      const { sessions, at } = make()
      at(0)
      let { token } = await sessions.create(user())
      for (const when of [8_000, 16_000, 24_000]) {
        at(when)
        const result = await sessions.rotate(token)
        if (result.outcome !== 'rotated') return t.fail(`rotation at ${when}: ${result.outcome}`)
        t.equal(result.session.expiresAt - result.session.createdAt, Math.min(when + LIMITS.idleTtlMs, LIMITS.absoluteTtlMs), `expiry after the rotation at ${when}`)
        token = result.token
      }
      at(offset)
      t.equal((await sessions.rotate(token)).outcome, expected, `refresh ${offset} ms after login: ${expected}`)
    }
  })
}
