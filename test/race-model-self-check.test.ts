/**
 * The race model (helpers/race-model.ts) catches broken stores: each store below breaks one rule
 * of the session semantics, and a short run of the model must report violations for it. A model
 * that passed every store would prove nothing about the real ones.
 */
import t from 'tap'
import { MemoryStore } from '../src/session/memory-store.js'
import { SessionCore } from '../src/session/session-core.js'
import type { SessionLimits, SessionStore } from '../src/session/store.js'
import { RaceModel, raceSeed } from './helpers/race-model.js'

const GRACE_MS = 150
const CAP = 3
const LIMITS: SessionLimits = { idleTtlMs: 3_600_000, absoluteTtlMs: 7_200_000, reuseGraceMs: GRACE_MS, maxSessionsPerUser: CAP }
const seed = raceSeed()

/** A MemoryStore with some methods replaced; the rest is the real thing. */
function broken (limits: SessionLimits, patch: (inner: MemoryStore) => Partial<SessionStore>): SessionStore {
  const inner = new MemoryStore(limits)
  t.teardown(() => inner.close())
  const real: SessionStore = {
    limits: inner.limits,
    create: async (input) => await inner.create(input),
    rotate: async (input) => await inner.rotate(input),
    revokeBySecret: async (input) => await inner.revokeBySecret(input),
    revoke: async (userId, sessionId) => await inner.revoke(userId, sessionId),
    revokeAll: async (userId, except) => await inner.revokeAll(userId, except),
    list: async (userId) => await inner.list(userId),
    isLive: async (userId, sessionId) => await inner.isLive(userId, sessionId),
    bind: async (input) => await inner.bind(input),
    setAuthentication: async (input) => await inner.setAuthentication(input),
    close: async () => await inner.close()
  }
  return { ...real, ...patch(inner) }
}

const BROKEN: Record<string, () => SessionStore> = {
  'grace replies with another token than the rotation returned': () => broken(LIMITS, (inner) => ({
    rotate: async (input) => {
      const result = await inner.rotate(input)
      if (result.outcome !== 'grace') return result
      const sealed = Buffer.from(result.sealedSuccessor)
      sealed[0]! ^= 1
      return { ...result, sealedSuccessor: sealed }
    }
  })),
  'the binding is not checked: a token without its key rotates': () => broken(LIMITS, (inner) => ({
    rotate: async (input) => await inner.rotate({ ...input, binding: (await inner.list(input.userId)).find((s) => s.id === input.sessionId)?.binding ?? input.binding })
  })),
  'the grace window is twice as long as configured': () => broken({ ...LIMITS, reuseGraceMs: GRACE_MS * 2 }, () => ({})),
  'the per-user cap is not enforced': () => broken({ ...LIMITS, maxSessionsPerUser: CAP + 2 }, () => ({})),
  'revoke answers true and revokes nothing': () => broken(LIMITS, (inner) => ({
    revoke: async (userId, sessionId) => await inner.isLive(userId, sessionId)
  })),
  'revoke-all answers and revokes nothing': () => broken(LIMITS, (inner) => ({
    revokeAll: async (userId, except) => (await inner.list(userId)).filter((s) => s.id !== except).length
  })),
  'logout answers revoked and revokes nothing': () => broken(LIMITS, () => ({
    revokeBySecret: async () => 'revoked' as const
  })),
  'reuse is answered but the session lives on': () => broken(LIMITS, (inner) => {
    // Reuse is decided by the real store, then the session is put back as a fresh one would be: the stolen token's session survives.
    return {
      rotate: async (input) => {
        const before = (await inner.list(input.userId)).find((s) => s.id === input.sessionId)
        const result = await inner.rotate(input)
        if (result.outcome === 'reused' && before !== undefined) {
          await inner.create({ userId: input.userId, sessionId: input.sessionId, secretHash: input.successorHash, metadata: { userAgent: before.userAgent ?? '', ip: before.ip ?? '', clientId: before.clientId ?? '', data: before.data ?? '', authentication: before.authentication ?? '', binding: before.binding ?? '' } })
        }
        return result
      }
    }
  })
}

t.comment(`race model self-check: RACE_SEED=${seed}`)

for (const [name, make] of Object.entries(BROKEN)) {
  t.test(`caught: ${name}`, async (t) => {
    const sessions = new SessionCore(make())
    const model = new RaceModel([sessions, sessions], { seed, batches: 60, graceMs: GRACE_MS, cap: CAP, users: 3, label: name }, name)
    const stats = await model.run()
    // A store that throws would be "caught" for the wrong reason.
    const violations = stats.violations.filter((violation) => !violation.includes('the store threw'))
    t.equal(violations.length, stats.violations.length, 'no operation threw')
    t.ok(violations.length > 0, `${violations.length} violations in ${stats.operations} operations (RACE_SEED=${seed})${violations.length > 0 ? `, e.g. ${violations[0]!.slice(0, 240)}` : ''}`)
  })
}

t.test('and the real MemoryStore passes the same short run', async (t) => {
  const sessions = new SessionCore(new MemoryStore(LIMITS))
  t.teardown(() => sessions.close())
  const stats = await new RaceModel([sessions, sessions], { seed, batches: 60, graceMs: GRACE_MS, cap: CAP, users: 3, label: 'memory' }, 'memory').run()
  t.same(stats.violations, [])
})
