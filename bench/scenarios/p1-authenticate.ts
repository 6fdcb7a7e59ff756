/**
 * P1: our `app.authenticate` (HS256) on GET /me; 1 000 live tokens of 1 000 users, minted by real
 * logins. P1-uncached: BENCH_TOKENS above 1 000 (twice the verify cache), minted through
 * `startSession`, which is what a login does after the password, without a thousand argon2 runs.
 */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2 } from '../lib/fixtures.js'
import { mintAccessTokens, mintSessions, pluginApp } from '../lib/plugin-app.js'

const LOGINS = 1000
const { app } = await pluginApp({ argon2: CHEAP_ARGON2 }, 'authenticate')
await app.ready()
const count = env.tokens()
const tokens = count <= LOGINS ? (await mintSessions(app, count)).map((s) => s.accessToken) : await mintAccessTokens(app, count)
await serve(app, { tokens })
