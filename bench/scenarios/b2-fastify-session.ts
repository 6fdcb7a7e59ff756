/**
 * B2: the stateful peer, @fastify/session with connect-redis on ioredis; one Redis GET per request
 * (rolling and saveUninitialized off, so reading a session never writes it back). The load carries
 * 1 000 valid session cookies, created at start.
 */
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { env, serve } from '../lib/child.js'
import { countSentCommands, redisFor } from '../lib/fixtures.js'
import { mintSessionCookies, userSessionRoutes } from '../lib/cookie-sessions.js'

const COOKIE = 'sessionId'
const SEVEN_DAYS_MS = 7 * 86_400_000

const app = Fastify()
const redis = redisFor(app, env.redisUrl())
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: 'bench-session-secret-of-at-least-32-bytes-0123456789',
  cookieName: COOKIE,
  // connect-redis is written against express-session's Store; @fastify/session documents it as compatible.
  store: new RedisStore({ client: redis, prefix: 'bench-sess:' }) as unknown as fastifySession.SessionStore,
  cookie: { secure: false, httpOnly: true, sameSite: 'strict', maxAge: SEVEN_DAYS_MS },
  saveUninitialized: false,
  rolling: false
})

userSessionRoutes(app)
await app.ready()
const cookies = await mintSessionCookies(app, COOKIE, env.tokens())
const sent = countSentCommands(redis)
await serve(app, { cookies }, () => ({ sent: Object.fromEntries(sent) }))
