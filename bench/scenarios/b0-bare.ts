/**
 * B0: a bare Fastify GET route, the ceiling for every other scenario on this machine.
 * B0-bearer (BENCH_B0_BEARER=<length>): the same route at /me, sent what P1 is sent (1 000
 * distinct `Authorization: Bearer` headers, tokens of that length) and checking none of it: what
 * the request alone costs, without what authenticate does with it.
 */
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import { env, serve } from '../lib/child.js'

const app = Fastify()
const tokenLength = Number(process.env.BENCH_B0_BEARER ?? 0)
if (tokenLength > 0) {
  app.get('/me', async () => ({ hello: 'world' }))
  const tokens = Array.from({ length: env.tokens() }, () => randomBytes(tokenLength).toString('base64url').slice(0, tokenLength))
  await serve(app, { tokens })
} else {
  app.get('/', async () => ({ hello: 'world' }))
  await serve(app)
}
