/** P1: our `app.authenticate` (HS256) on GET /me; 1 000 live tokens of 1 000 users, minted by real logins. */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2 } from '../lib/fixtures.js'
import { mintSessions, pluginApp } from '../lib/plugin-app.js'

const { app } = await pluginApp({ argon2: CHEAP_ARGON2 }, 'authenticate')
await app.ready()
const sessions = await mintSessions(app, env.tokens())
await serve(app, { tokens: sessions.map((s) => s.accessToken) })
