/** P2: our `app.authenticateSession` on GET /me (a session-liveness check in Redis per request), P1's tokens. */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, mintSessions, pluginApp } from '../lib/fixtures.js'

const { app } = await pluginApp({ argon2: CHEAP_ARGON2, redisUrl: env.redisUrl() }, 'authenticateSession')
await app.ready()
const sessions = await mintSessions(app, env.tokens())
await serve(app, { tokens: sessions.map((s) => s.accessToken) })
