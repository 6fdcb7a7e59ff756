/** P2: our `app.authenticateSession` on GET /me (token check plus session liveness, on the Redis store), P1's tokens. */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, countSentCommands } from '../lib/fixtures.js'
import { mintSessions, pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ argon2: CHEAP_ARGON2, redisUrl: env.redisUrl() }, 'authenticateSession')
await app.ready()
const sessions = await mintSessions(app, env.tokens())
// Counted from here on: minting's logins are not the load.
const sent = countSentCommands(redis!)
await serve(app, { tokens: sessions.map((s) => s.accessToken) }, () => ({ sent: Object.fromEntries(sent) }))
