/**
 * Rolling deploy: session records written by 0.1.0 (record layout 1: whole 32-byte hashes, 8-byte
 * fingerprints, absolute times, a whole sealed successor, the user agent as it came, 10 to 13
 * fields) keep every behaviour under this version, which writes layout 2 at their next write.
 * The records are planted byte for byte as 0.1.0's scripts wrote them, for a session that
 * rotated three times: s0 (login) -> s1 -> s2 -> s3.
 */
import { createHash, createHmac } from 'node:crypto'
import t, { type Test } from 'tap'
import { sessionKeys } from '../src/redis/keys.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { formatRefreshToken, mintSecret, mintSessionId } from '../src/session/refresh-token.js'
import { SessionCore } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const LIMITS = { idleTtlMs: 3_600_000, absoluteTtlMs: 86_400_000, reuseGraceMs: 1_000, maxSessionsPerUser: 10 }
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const server = await redisForTest(t)
const redis = await connectRedis(t, server)

const sha = (secret: string): Buffer => createHash('sha256').update(secret).digest()
/** How 0.1.0 sealed a successor: the whole secret XOR an HMAC of the one it replaced. */
function sealWhole (retired: string, successor: string): Buffer {
  const pad = createHmac('sha256', retired).update('fastify-refresh-sessions/successor').digest()
  return Buffer.from(Buffer.from(successor, 'base64url').map((byte, i) => byte ^ pad[i]!))
}

const PLANT = `
local r = { ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10] }
if ARGV[11] ~= 'none' then r[11], r[12], r[13] = tonumber(ARGV[11]), ARGV[12], ARGV[13] end
redis.call('SET', KEYS[1], cmsgpack.pack(r), 'PXAT', ARGV[14])
redis.call('ZADD', KEYS[2], ARGV[14], ARGV[15])
redis.call('PEXPIREAT', KEYS[2], tonumber(ARGV[14]) + 3600000)
`

interface Planted { userId: string, secrets: string[], token: (i: number) => string, createdAt: number, times: number[] }

/**
 * A layout 1 session rotated three times, the last at `t3`, the one before 200 ms earlier (so
 * that s1 is within the grace window of its retirement at t3 + 500). `fields` 10: a record
 * written before the previous-rotation time, authentication and binding existed.
 */
async function plant (prefix: string, t3: number, fields: 10 | 13 = 13): Promise<Planted> {
  const userId = `layout1-${mintSessionId()}`
  const sessionId = mintSessionId()
  const secrets = [mintSecret(), mintSecret(), mintSecret(), mintSecret()]
  const createdAt = t3 - 60_000
  const times = [createdAt, t3 - 30_000, t3 - 200, t3]
  const older = Buffer.concat([sha(secrets[1]!).subarray(0, 8), sha(secrets[0]!).subarray(0, 8)])
  const keys = sessionKeys(prefix, userId)
  const expiresAt = Math.min(t3 + LIMITS.idleTtlMs, createdAt + LIMITS.absoluteTtlMs)
  await redis.eval(PLANT, 2, keys.sessionBase + sessionId, keys.index,
    sha(secrets[3]!), createdAt, t3, sha(secrets[2]!), sealWhole(secrets[2]!, secrets[3]!), older, UA, '203.0.113.45', '', '[["user"],{}]',
    fields === 13 ? String(times[2]) : 'none', 'lz0abc pwd', 'dpop:' + THUMBPRINT, expiresAt, sessionId)
  return { userId, secrets, createdAt, times, token: (i) => formatRefreshToken({ userId, sessionId, secret: secrets[i]! }) }
}

const T3 = Date.now() + 86_400_000

/** A store on a controlled clock (at T3), and a layout 1 session planted in it. */
async function planted (t: Test, fields: 10 | 13 = 13): Promise<{ core: SessionCore, prefix: string, clock: { now: number }, s: Planted }> {
  const prefix = uniquePrefix('layout1')
  const clock = { now: T3 }
  const store = new RedisStore({ redis, prefix, ...LIMITS, clock: () => clock.now })
  t.teardown(async () => { await store.close() })
  return { core: new SessionCore(store), prefix, clock, s: await plant(prefix, T3, fields) }
}

/** A real thumbprint is canonical base64url: this version keeps it as bytes, 0.1.0 kept text. */
const THUMBPRINT = Buffer.alloc(32, 0xb5).toString('base64url')
const DPOP = { kind: 'dpop' as const, thumbprint: THUMBPRINT }

t.test('the newest secret rotates, keeping every field, and the chain goes on in layout 2', async (t) => {
  const { core, prefix, clock, s } = await planted(t)
  clock.now = T3 + 5_000
  const rotated = await core.rotate(s.token(3), { binding: DPOP })
  t.equal(rotated.outcome, 'rotated')
  if (rotated.outcome !== 'rotated') return
  t.match(rotated.session, { createdAt: s.createdAt, lastUsedAt: T3 + 5_000, expiresAt: T3 + 5_000 + LIMITS.idleTtlMs, userAgent: UA, ip: '203.0.113.45', clientId: null, data: '[["user"],{}]', authentication: 'lz0abc pwd', binding: 'dpop:' + THUMBPRINT })
  t.equal(rotated.boundNow, false, 'it was bound already')
  const record = await redis.getBuffer(sessionKeys(prefix, s.userId).sessionBase + rotated.session.id)
  // Layout 2 starts with 0x02, then its msgpack array whose first field is a 16-byte string (0xb0).
  t.same([...record!.subarray(0, 3)], [0x02, 0x9d, 0xb0], 'rewritten in layout 2: its marker, 13 fields, a 16-byte verifier first')
  // What every 0.1.0 script that reads a record does first: it fails on layout 2 rather than misread it.
  await t.rejects(redis.eval('local h, c = unpack(cmsgpack.unpack(redis.call(\'GET\', KEYS[1]))) return c', 1, sessionKeys(prefix, s.userId).sessionBase + rotated.session.id), 'a 0.1.0 script fails on it')
  clock.now += 100
  const grace = await core.rotate(s.token(3), { binding: DPOP })
  t.equal(grace.outcome, 'grace', 'the layout 1 secret it retired gets the grace reply')
  t.equal(grace.outcome === 'grace' && grace.token, rotated.token, '...with the newest token')
  clock.now += 100
  const next = await core.rotate(rotated.token, { binding: DPOP })
  t.equal(next.outcome, 'rotated', 'the layout 2 record rotates')
  clock.now += 5_000
  const reuse = await core.rotate(s.token(1), { binding: DPOP })
  t.same(reuse.outcome === 'reused' && reuse.reuse, 'older', "an older secret's 8-byte fingerprint, cut to 5 in layout 2, still tells reuse")
})

t.test('grace: the retired secret within the window gets the newest token, whole-sealed by 0.1.0', async (t) => {
  const { core, clock, s } = await planted(t)
  clock.now = T3 + 500
  const grace = await core.rotate(s.token(2), { binding: DPOP })
  t.equal(grace.outcome, 'grace')
  t.equal(grace.outcome === 'grace' && grace.token, s.token(3))
  t.equal(grace.outcome === 'grace' && grace.session.lastUsedAt, T3)
})

t.test('stale: the secret retired by the rotation before, within that window, is refused and nothing is revoked', async (t) => {
  const { core, clock, s } = await planted(t)
  clock.now = T3 + 500
  t.equal((await core.rotate(s.token(1), { binding: DPOP })).outcome, 'stale')
  t.equal((await core.rotate(s.token(3), { binding: DPOP })).outcome, 'rotated', 'the session lives')
})

t.test('reuse of the predecessor and of an older secret after the window revokes', async (t) => {
  for (const [i, kind] of [[2, 'predecessor'], [1, 'older'], [0, 'older']] as const) {
    const { core, clock, s } = await planted(t)
    clock.now = T3 + 2_000
    const reuse = await core.rotate(s.token(i), { binding: DPOP })
    t.same(reuse.outcome === 'reused' && reuse.reuse, kind, `s${i}: ${kind}`)
    t.equal((await core.rotate(s.token(3), { binding: DPOP })).outcome, 'missing', 'the session is gone')
  }
})

t.test('a wrong secret, another client and a missing key are refused as before', async (t) => {
  const { core, clock, s } = await planted(t)
  clock.now = T3 + 2_000
  t.equal((await core.rotate(formatRefreshToken({ userId: s.userId, sessionId: s.token(3).split('.')[1]!, secret: mintSecret() }), { binding: DPOP })).outcome, 'invalid')
  t.equal((await core.rotate(s.token(3), { binding: DPOP, clientId: 'other' })).outcome, 'invalid')
  t.equal((await core.rotate(s.token(3))).outcome, 'unbound')
  t.equal((await core.rotate(s.token(3), { binding: DPOP })).outcome, 'rotated')
})

t.test('list, logout by an older secret, bind and set-authentication read layout 1', async (t) => {
  const { core, prefix, clock, s } = await planted(t)
  clock.now = T3 + 2_000
  const [listed] = await core.list(s.userId)
  t.match(listed, { createdAt: s.createdAt, lastUsedAt: T3, expiresAt: T3 + LIMITS.idleTtlMs, userAgent: UA, data: '[["user"],{}]', authentication: 'lz0abc pwd' })
  t.equal(await core.setAuthentication(s.userId, listed!.id, 'lz0abd pwd otp'), true)
  t.equal(await core.bind(s.userId, listed!.id, DPOP), 'bound', 'already bound to that key')
  const rotated = await core.rotate(s.token(3), { binding: DPOP })
  t.equal(rotated.outcome === 'rotated' && rotated.session.authentication, 'lz0abd pwd otp', 'the new authentication rotates with it')
  const other = await plant(prefix, T3)
  t.equal((await core.revokeByToken(other.token(0))).outcome, 'revoked', 'logout with the oldest remembered secret')
})

t.test('a 10-field record (before previous-rotation time, authentication and binding) rotates', async (t) => {
  const { core, clock, s } = await planted(t, 10)
  clock.now = T3 + 5_000
  const rotated = await core.rotate(s.token(3))
  t.equal(rotated.outcome, 'rotated')
  t.match(rotated.outcome === 'rotated' && rotated.session, { authentication: null, binding: null, userAgent: UA })
  clock.now += 5_000
  const reuse = await core.rotate(s.token(0))
  t.same(reuse.outcome === 'reused' && reuse.reuse, 'older')
})
