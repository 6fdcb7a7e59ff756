import t from 'tap'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { commandCalls, networkCommands } from './helpers/commandstats.js'

const limits = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }

t.test('a rotation costs exactly one Redis command (EVALSHA)', async (t) => {
  // Its own server: INFO commandstats counts every client of the server.
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const store = new SessionCore(new RedisStore({ redis, prefix: uniquePrefix(), ...limits }))
  const admin = await connectRedis(t, server)
  let { token } = await store.create('alice')
  const warm = await store.rotate(token) // the first call may pay EVALSHA -> NOSCRIPT -> EVAL
  token = warm.outcome === 'rotated' ? warm.token : ''

  const rotations = 25
  await admin.config('RESETSTAT')
  const sent = await networkCommands(await connectRedis(t, server), redis, async () => {
    for (let i = 0; i < rotations; i++) {
      const result = await store.rotate(token)
      t.equal(result.outcome, 'rotated')
      if (result.outcome === 'rotated') token = result.token
    }
  })
  const calls = await commandCalls(admin)
  t.equal(calls.get('evalsha'), rotations, 'INFO commandstats: one EVALSHA per rotation')
  t.equal(calls.get('eval') ?? 0, 0, 'no script sent in full')
  t.same(sent, Array(rotations).fill('evalsha'), 'MONITOR: nothing else crossed the network')
})

t.test('grace replays and reuse detection are one command each too', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const store = new SessionCore(new RedisStore({ redis, prefix: uniquePrefix(), ...limits, reuseGraceMs: 50 }))
  const { token } = await store.create('bob')
  await store.rotate(token)
  const sent = await networkCommands(await connectRedis(t, server), redis, async () => {
    t.equal((await store.rotate(token)).outcome, 'grace')
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.equal((await store.rotate(token)).outcome, 'reused')
  })
  t.same(sent, ['evalsha', 'evalsha'])
})
