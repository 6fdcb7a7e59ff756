/**
 * P2: our `app.authenticateSession` on GET /me (token check plus session liveness, on the Redis
 * store), P1's tokens, in the steady state: tokens issued once the revocation feed is up, which
 * it vouches for, so a request costs no Redis round trip. The scenario mints them only after a
 * fresh token passes without one (the feed trusts tokens issued a clock-skew allowance after it
 * became ready).
 *
 * P2-store (BENCH_P2_TOKENS=before-feed): the tokens are minted right after the app is ready,
 * before the feed can vouch for them, as in an instance's first minutes or while the feed is down:
 * each request asks Redis whether the session is live.
 */
import type { FastifyInstance } from 'fastify'
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, countSentCommands } from '../lib/fixtures.js'
import { mintAccessTokens, pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ argon2: CHEAP_ARGON2, redisUrl: env.redisUrl() }, 'authenticateSession')
await app.ready()
// One counter for the wait below and the load: the runner takes the load's share as a difference.
const sent = countSentCommands(redis!)
if (process.env.BENCH_P2_TOKENS !== 'before-feed') await untilTheFeedVouches(app, sent)
// Through startSession (what login does after the password): a thousand in well under the feed's
// clock-skew allowance, so P2-store's tokens all predate what the feed can vouch for.
const tokens = await mintAccessTokens(app, env.tokens())
await serve(app, { tokens }, () => ({ sent: Object.fromEntries(sent) }))

/** Until a token minted now is let through without a store call (bounded: the feed is up within seconds). */
async function untilTheFeedVouches (app: FastifyInstance, sent: Map<string, number>): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const [token] = await mintAccessTokens(app, 1)
    const before = total(sent)
    const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token!}` } })
    if (response.statusCode !== 200) throw new Error(`/me answered ${response.statusCode}: ${response.body}`)
    if (total(sent) === before) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error('the revocation feed never vouched for a fresh token within 30 s')
}

function total (sent: Map<string, number>): number {
  let sum = 0
  for (const count of sent.values()) sum += count
  return sum
}
