/**
 * The floor for P3: what any rotating refresh costs at the least on this stack. One EVALSHA of a
 * trivial script on the same Redis, one HS256 sign with fast-jwt (what @fastify/jwt signs with),
 * one Set-Cookie. Same route, same cookie, same request and response shapes as P3, so the runner
 * walks its chains in exactly the same way.
 */
import fastifyCookie from '@fastify/cookie'
import Fastify from 'fastify'
import { createSigner } from 'fast-jwt'
import type { Result } from 'ioredis'
import { randomBytes } from 'node:crypto'
import { env, serve } from '../lib/child.js'
import { REFRESH_COOKIE } from '../../support/set-cookie.js'
import { countSentCommands, HS256_SECRET, redisFor, userName } from '../lib/fixtures.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    benchFloor (key: string, token: string): Result<string, Context>
  }
}

const TTL_SECONDS = 900
const app = Fastify()
const redis = redisFor(app, env.redisUrl())
redis.defineCommand('benchFloor', { numberOfKeys: 1, lua: 'return ARGV[1]' })
const sign = createSigner({ key: HS256_SECRET, algorithm: 'HS256', expiresIn: TTL_SECONDS * 1000 })
await app.register(fastifyCookie)

app.post('/auth/refresh', async (request, reply) => {
  const token = request.cookies[REFRESH_COOKIE] ?? ''
  const [user = '', sessionId = ''] = token.split('.')
  const next = await redis.benchFloor(`bench-floor:{${user}}`, token)
  const accessToken = sign({ sub: user, sid: sessionId, roles: ['user'] })
  reply.setCookie(REFRESH_COOKIE, next, { httpOnly: true, secure: true, sameSite: 'strict', path: '/auth', maxAge: 7 * 86_400 })
  return { accessToken, tokenType: 'Bearer', expiresIn: TTL_SECONDS, sessionId }
})
await app.ready()

// Tokens shaped like ours (user.session.secret); the floor echoes them, so a chain stays on one.
const refreshTokens = Array.from({ length: env.tokens() }, (_, i) =>
  `${Buffer.from(userName(i)).toString('base64url')}.${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`)
const sent = countSentCommands(redis)
await serve(app, { refreshTokens }, () => ({ sent: Object.fromEntries(sent) }))
