/**
 * P3: our POST /auth/refresh on Redis. The runner walks one real rotation chain per connection,
 * starting from the refresh tokens minted here; the stats (statuses, and the commands our ioredis
 * client sent over the wire) let it count refreshes and round trips exactly.
 */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, countSentCommands } from '../lib/fixtures.js'
import { mintSessions, pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ argon2: CHEAP_ARGON2, redisUrl: env.redisUrl() }, null)
// Requests are counted as they arrive: a request whose client went away when autocannon stopped
// still ran its script, but never reaches onResponse. Callback-style hooks: the floor counts
// nothing, and an async hook's promise per request would be charged to our refresh.
let requests = 0
const statuses: Record<number, number> = {}
app.addHook('onRequest', (_request, _reply, done) => { requests++; done() })
app.addHook('onResponse', (_request, reply, done) => { statuses[reply.statusCode] = (statuses[reply.statusCode] ?? 0) + 1; done() })
await app.ready()
const sessions = await mintSessions(app, env.tokens())
// Counted from here on: minting's logins are not refreshes.
const sent = countSentCommands(redis!)
await serve(app, { refreshTokens: sessions.map((s) => s.refreshToken) }, () => ({ requests, statuses: { ...statuses }, sent: Object.fromEntries(sent) }))
