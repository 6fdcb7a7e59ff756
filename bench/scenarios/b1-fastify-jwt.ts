/**
 * B1: the usual way, @fastify/jwt's `request.jwtVerify()` (HS256) in a preHandler, with the same
 * claims and the same 1 000 distinct tokens spread over the connections as P1.
 */
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import { env, serve } from '../lib/child.js'
import { HS256_SECRET, userName } from '../lib/fixtures.js'

const app = Fastify()
await app.register(fastifyJwt, { secret: HS256_SECRET, sign: { expiresIn: '15m' } })
app.get('/me', {
  preHandler: async (request) => { await request.jwtVerify() }
}, async (request) => ({ id: (request.user as unknown as { sub: string }).sub }))
await app.ready()

const tokens = Array.from({ length: env.tokens() }, (_, i) =>
  app.jwt.sign({ sub: userName(i), sid: randomBytes(16).toString('base64url'), roles: ['user'] }))
await serve(app, { tokens })
