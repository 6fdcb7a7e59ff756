/**
 * D2: POST /auth/refresh with DPoP on (a proof per refresh, the session bound to the runner's
 * key) or off, BENCH_DPOP=on|off; one rotation chain per connection, as P3; run by bench/dpop.ts.
 */
import { env, serve } from '../lib/child.js'
import { dpopApp, dpopMode, mintDpopSessions } from '../lib/dpop-app.js'

const { on, jwk } = dpopMode()
const app = await dpopApp(env.redisUrl(), on)
let statuses: Record<number, number> = {}
app.addHook('onResponse', async (_request, reply) => { statuses[reply.statusCode] = (statuses[reply.statusCode] ?? 0) + 1 })
await app.ready()
const sessions = await mintDpopSessions(app, env.tokens(), on, jwk)
statuses = {}
await serve(app, { refreshTokens: sessions.map((s) => s.refreshToken) }, () => ({ statuses: { ...statuses } }))
