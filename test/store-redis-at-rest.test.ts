import t from 'tap'
import type { Redis } from 'ioredis'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { parseRefreshToken } from '../src/session/refresh-token.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

/** Every byte the store has written under `prefix`: key names, values, members, scores, plus each key's PTTL. */
async function dump (redis: Redis, prefix: string): Promise<{ bytes: Buffer, ttls: Map<string, number> }> {
  const chunks: Buffer[] = []
  const ttls = new Map<string, number>()
  for (const key of await redis.keysBuffer(`${prefix}*`)) {
    chunks.push(key)
    ttls.set(key.toString(), await redis.pttl(key))
    const type = await redis.type(key)
    if (type === 'string') chunks.push((await redis.getBuffer(key))!)
    else if (type === 'zset') chunks.push(...await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES'))
    else t.fail(`unexpected ${type} key`)
  }
  return { bytes: Buffer.concat(chunks), ttls }
}

t.test('a dump of Redis holds no token and no part of a secret, and every key expires', async (t) => {
  const server = await redisForTest(t)
  const redis = await connectRedis(t, server)
  const prefix = uniquePrefix('at-rest')
  const store = new SessionCore(new RedisStore({ redis, prefix, idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 10_000, maxSessionsPerUser: 3 }))
  const tokens: string[] = []
  for (const user of ['dave', 'erin', 'dave']) {
    let { token } = await store.create(user, { userAgent: 'UA', ip: '198.51.100.7', clientId: 'web' })
    tokens.push(token)
    for (let i = 0; i < 4; i++) {
      const rotated = await store.rotate(token, { clientId: 'web' })
      if (rotated.outcome !== 'rotated') throw new Error(rotated.outcome)
      const replay = await store.rotate(token, { clientId: 'web' }) // grace replay reads the sealed successor
      t.equal(replay.outcome, 'grace')
      token = rotated.token
      tokens.push(token)
    }
  }
  const { bytes, ttls } = await dump(redis, prefix)
  t.ok(bytes.length > 0)
  for (const token of tokens) {
    const { secret } = parseRefreshToken(token)!
    t.equal(bytes.indexOf(token), -1, 'no token')
    t.equal(bytes.indexOf(secret), -1, 'no secret in text form')
    t.equal(bytes.indexOf(secret.slice(0, 16)), -1, 'no part of a secret in text form')
    t.equal(bytes.indexOf(Buffer.from(secret, 'base64url').subarray(0, 12)), -1, 'no part of a secret in raw form')
  }
  t.equal(ttls.size, 2 + 1 + 1, "dave's two session records and his index; erin's only session, kept in her index key")
  for (const [key, ttl] of ttls) t.ok(ttl > 0, `${key} has a TTL`)
})
