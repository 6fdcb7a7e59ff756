/**
 * Stopgap demo until the Tasks API lands (issue "The demo, the client and the two commands"):
 * the session store behind three JSON routes, on the memory store unless REDIS_URL is set.
 *
 *   curl -s -XPOST localhost:3000/sessions -H 'content-type: application/json' -d '{"userId":"alice"}'
 *   curl -s -XPOST localhost:3000/sessions/refresh -H 'content-type: application/json' -d '{"token":"..."}'
 *   curl -s localhost:3000/sessions/alice
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { MemoryStore } from '../../src/store/memory-store.js'
import { RedisStore } from '../../src/store/redis-store.js'
import type { SessionStore } from '../../src/store/store.js'

const limits = { idleTtlMs: 7 * 86_400_000, absoluteTtlMs: 30 * 86_400_000, reuseGraceMs: 10_000, maxSessionsPerUser: 10 }
const app = Fastify({ logger: { level: 'warn' } })
let store: SessionStore
if (process.env.REDIS_URL) {
  const redis = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false })
  app.addHook('onClose', async () => redis.disconnect())
  store = new RedisStore({ redis, ...limits })
} else {
  app.log.warn('REDIS_URL is not set: sessions live in this process only (MemoryStore)')
  store = new MemoryStore(limits)
}

app.post<{ Body: { userId: string } }>('/sessions', async (request) => {
  const { token, session } = await store.create(String(request.body?.userId ?? 'demo'), { userAgent: request.headers['user-agent'], ip: request.ip })
  return { refreshToken: token, session }
})
app.post<{ Body: { token: string } }>('/sessions/refresh', async (request) => await store.rotate(String(request.body?.token ?? '')))
app.get<{ Params: { userId: string } }>('/sessions/:userId', async (request) => ({ sessions: await store.list(request.params.userId) }))

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
await app.listen({ host, port })
console.log(`listening on http://${host}:${port}`)
