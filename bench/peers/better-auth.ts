/**
 * B4 / B4-cache: better-auth's `auth.api.getSession` on GET /me, its sessions in Redis as its
 * `secondaryStorage` (ioredis on the runner's Redis), users and accounts in its memory adapter.
 * BENCH_COOKIE_CACHE=on turns on its cookie cache (a signed `session_data` cookie, 5 min, read
 * without a Redis round trip); off, every getSession reads the session from Redis.
 *
 * better-auth lives in bench/peers/node_modules (it cannot be a root devDependency: npm ERESOLVE
 * against ours), installed on demand by the runner; this file sits beside it so that Node resolves
 * it, and imports it by a computed name so that `tsc` passes where it is not installed.
 * 1 000 users sign up at start (a cheap password hash for them: getSession never checks one).
 */
import Fastify from 'fastify'
import { createHash } from 'node:crypto'
import { env, serve } from '../lib/child.js'
import { countSentCommands, PASSWORD, redisFor, userName } from '../lib/fixtures.js'

interface Session { user: { id: string } }
interface BetterAuth {
  api: {
    getSession (input: { headers: Headers }): Promise<Session | null>
    signUpEmail (input: { body: { email: string, password: string, name: string }, asResponse: true }): Promise<Response>
  }
}
type Load = (name: string) => Promise<Record<string, (...args: any[]) => any>>
const load: Load = async (name) => await import(name)

const { betterAuth } = await load('better-auth')
const { memoryAdapter } = await load('better-auth/adapters/memory')
const { fromNodeHeaders } = await load('better-auth/node')

const cookieCache = process.env.BENCH_COOKIE_CACHE === 'on'
const app = Fastify()
const redis = redisFor(app, env.redisUrl())
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

const auth = betterAuth!({
  baseURL: 'http://127.0.0.1:3000',
  secret: 'bench-better-auth-secret-of-at-least-32-bytes-0123456789',
  database: memoryAdapter!({ user: [], session: [], account: [], verification: [], rateLimit: [] }),
  // better-auth's documented Redis recipe: the session lives only here (storeSessionInDatabase off).
  secondaryStorage: {
    get: async (key: string) => await redis.get(key),
    getAndDelete: async (key: string) => await redis.getdel(key),
    increment: async (key: string, ttl: number) => {
      const [[, count] = []] = (await redis.multi().incr(key).expire(key, ttl, 'NX').exec()) ?? []
      return Number(count)
    },
    set: async (key: string, value: string, ttl?: number) => { await (ttl === undefined || ttl <= 0 ? redis.set(key, value) : redis.set(key, value, 'EX', ttl)) },
    delete: async (key: string) => { await redis.del(key) }
  },
  emailAndPassword: {
    enabled: true,
    password: { hash: async (password: string) => sha256(password), verify: async ({ hash, password }: { hash: string, password: string }) => hash === sha256(password) }
  },
  session: { cookieCache: { enabled: cookieCache, maxAge: 5 * 60 } },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { disabled: true }
}) as BetterAuth

app.get('/me', async (request, reply) => {
  const session = await auth.api.getSession({ headers: fromNodeHeaders!(request.headers) })
  if (session === null) return await reply.code(401).send({ error: 'no session' })
  return { id: session.user.id }
})
await app.ready()

const cookies: string[] = []
for (let i = 0; i < env.tokens(); i++) {
  const response = await auth.api.signUpEmail({ body: { email: `${userName(i)}@bench.example`, password: PASSWORD, name: userName(i) }, asResponse: true })
  if (response.status !== 200) throw new Error(`better-auth sign-up answered ${response.status}: ${await response.text()}`)
  // Every cookie it set (session_token, and session_data with the cookie cache), as a browser sends them back.
  cookies.push(response.headers.getSetCookie().map((line) => line.slice(0, line.indexOf(';'))).join('; '))
}
if (cookieCache && !cookies[0]!.includes('session_data=')) throw new Error('better-auth set no session_data cookie with the cookie cache on')
// Counted from here on: the sign-ups are not the load.
const sent = countSentCommands(redis)
await serve(app, { cookies }, () => ({ sent: Object.fromEntries(sent) }))
