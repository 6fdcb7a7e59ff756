/**
 * P1: our `app.authenticate` (HS256) on GET /me; 1 000 live tokens of 1 000 users, minted by real
 * logins. P1-uncached: BENCH_TOKENS above 1 000 (twice the verify cache), minted through
 * `startSession`, which is what a login does after the password, without a thousand argon2 runs.
 * P1-nocache: BENCH_VERIFY_CACHE=0 (`verifyCacheSize: 0`): every request verifies its token.
 */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, HS256_SECRET } from '../lib/fixtures.js'
import { mintAccessTokens, mintSessions, pluginApp } from '../lib/plugin-app.js'

const LOGINS = 1000
const verifyCacheSize = process.env.BENCH_VERIFY_CACHE === undefined ? undefined : Number(process.env.BENCH_VERIFY_CACHE)
const { app } = await pluginApp({ argon2: CHEAP_ARGON2, accessToken: { secret: HS256_SECRET, ttl: '15m', ...(verifyCacheSize !== undefined && { verifyCacheSize }) } }, 'authenticate')
await app.ready()
const count = env.tokens()
const tokens = count <= LOGINS ? (await mintSessions(app, count)).map((s) => s.accessToken) : await mintAccessTokens(app, count)
await serve(app, { tokens })
