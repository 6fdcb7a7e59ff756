/**
 * The Lua restatement of the session rules (src/redis/lua/session-rules.lua) agrees with their
 * TypeScript home (session-ttl.ts, retired-secrets.ts) on random inputs and on every boundary.
 */
import fc from 'fast-check'
import t from 'tap'
import { scriptSource, SESSION_RULES } from '../src/redis/scripts.js'
import { classifySecret, FINGERPRINT_BYTES, olderPosition, VERIFIER_BYTES, type SecretHistory } from '../src/session/retired-secrets.js'
import { sessionExpiry } from '../src/session/session-ttl.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis } from './helpers/redis-clients.js'

const server = await redisForTest(t)
const redis = await connectRedis(t, server)
// The rules file is put in front of a probe that calls them, as scripts.ts does for the real scripts.
const rules = SESSION_RULES
redis.defineCommand('probeExpiry', { numberOfKeys: 0, lua: `${rules}\nreturn sessionExpiry(tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))` })
redis.defineCommand('probeClassify', { numberOfKeys: 0, lua: `${rules}\nreturn classifySecret(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))` })
redis.defineCommand('probeOlder', { numberOfKeys: 0, lua: `${rules}\nreturn olderPosition(ARGV[1], string.sub(ARGV[2], 1, tonumber(ARGV[3])), tonumber(ARGV[3]))` })
type Probe = (...args: Array<string | number | Buffer>) => Promise<unknown>
const probe = redis as unknown as { probeExpiry: Probe, probeClassify: Probe, probeOlder: Probe }

t.test('every session script runs the rules file', async (t) => {
  for (const file of ['create-3.lua', 'rotate-3.lua', 'revoke-by-secret-2.lua', 'revoke-2.lua', 'revoke-all-3.lua', 'list-2.lua', 'is-live-2.lua', 'bind-3.lua', 'set-authentication-3.lua']) {
    t.ok(scriptSource(file, { sessionRules: true }).lua.includes(SESSION_RULES), file)
  }
})

t.test('sessionExpiry: min(lastUsed + idle, created + absolute)', async (t) => {
  const ms = fc.integer({ min: 0, max: 2 ** 40 })
  await fc.assert(fc.asyncProperty(ms, ms, fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 1, max: 2 ** 32 }), async (createdAt, used, idleTtlMs, absoluteTtlMs) => {
    const lastUsedAt = createdAt + used
    const expected = sessionExpiry({ idleTtlMs, absoluteTtlMs, reuseGraceMs: 0, maxSessionsPerUser: 1 }, createdAt, lastUsedAt)
    t.equal(Number(await probe.probeExpiry(createdAt, lastUsedAt, idleTtlMs, absoluteTtlMs)), expected)
  }), { numRuns: 300 })
})

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes))

t.test('classifySecret and olderPosition: every class, at and around the grace boundaries, verifiers of both layouts', async (t) => {
  const history = fc.record({
    newest: hash,
    previous: fc.option(hash),
    older: fc.array(hash, { maxLength: 8 }),
    rotatedAt: fc.integer({ min: 1, max: 10_000 }),
    previousRotatedAt: fc.integer({ min: 0, max: 10_000 }),
    // What a record keeps of the newest and the predecessor: a verifier, or (layout 1) the whole hash.
    kept: fc.constantFrom(VERIFIER_BYTES, 32)
  })
  await fc.assert(fc.asyncProperty(history, fc.nat(12), fc.constantFrom(0, 1, 99, 100, 101), fc.constantFrom(0, 100), hash, async (h, pick, elapsed, graceMs, stranger) => {
    const secrets: SecretHistory = { newest: h.newest.subarray(0, h.kept), previous: h.previous?.subarray(0, h.kept) ?? null, older: Buffer.concat(h.older.map((b) => b.subarray(0, FINGERPRINT_BYTES))), rotatedAt: h.rotatedAt, previousRotatedAt: h.previousRotatedAt }
    // Present the newest, the predecessor, an older one or a stranger.
    const candidates = [h.newest, ...(h.previous === null ? [] : [h.previous]), ...h.older, stranger]
    const presented = candidates[pick % candidates.length]!
    const base = pick % 2 === 0 ? h.rotatedAt : h.previousRotatedAt
    const now = base + elapsed
    const expected = classifySecret(secrets, presented, now, graceMs)
    const actual = await probe.probeClassify(secrets.newest, secrets.previous ?? '', secrets.older, secrets.rotatedAt, secrets.previousRotatedAt, presented, now, graceMs, FINGERPRINT_BYTES)
    t.equal(String(actual), expected, `${expected}`)
    t.equal(Number(await probe.probeOlder(secrets.older, presented, FINGERPRINT_BYTES)), olderPosition(secrets.older, presented))
  }), { numRuns: 300 })
})
