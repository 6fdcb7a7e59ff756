import t from 'tap'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { networkCommands } from './helpers/commandstats.js'

t.test('bad tokens and ids never reach Redis: no command, no key built from them, no exception', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const store = new SessionCore(new RedisStore({ redis, prefix: uniquePrefix(), idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 1_000, maxSessionsPerUser: 5 }))
  const admin = await connectRedis(t, server)
  const { token } = await store.create('carol')
  const [user, session, secret] = token.split('.') as [string, string, string]
  const tokens: unknown[] = [
    '', 'x', 'x'.repeat(10_240), `${user}.${session}`, `${user}.${session}.${secret}.`, `${user}.${session}.${secret.slice(1)}`,
    `${user}.${session.slice(1)}.${secret}`, `${user}*.${session}.${secret}`, `{${user}}.${session}.${secret}`,
    `${user}.${session}.${secret}`.replace('.', ' '), `${Buffer.from([0xc3, 0x28]).toString('base64url')}.${session}.${secret}`,
    `${'A'.repeat(400)}.${session}.${secret}`, `..${secret}`, '\u0000', null, undefined, 123, { token }
  ]
  const sent = await networkCommands(admin, redis, async () => {
    for (const bad of tokens) {
      t.same(await store.rotate(bad as string), { outcome: 'invalid' })
      t.same(await store.revokeByToken(bad as string), { outcome: 'invalid' })
    }
    for (const badUser of ['', 'x'.repeat(300), '\uDC00', 42, null]) {
      t.same(await store.list(badUser as string), [])
      t.equal(await store.revokeAll(badUser as string), 0)
      t.equal(await store.revoke(badUser as string, session), false)
      t.equal(await store.isLive(badUser as string, session), false)
    }
    for (const badSession of ['', 'short', '*', session + 'x', '../../etc', 42]) {
      t.equal(await store.revoke('carol', badSession as string), false)
      t.equal(await store.isLive('carol', badSession as string), false)
    }
  })
  t.same(sent, [], 'not one command reached Redis')
  t.equal((await store.rotate(token)).outcome, 'rotated', 'the real token still works')
})
