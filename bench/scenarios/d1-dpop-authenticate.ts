/**
 * D1: `authenticate` on GET /me with DPoP on (`Authorization: DPoP` + a proof with `ath`, its jti
 * claimed on Redis) or off (Bearer), BENCH_DPOP=on|off; run by bench/dpop.ts, which signs the
 * proofs. One session: the proofs name its access token.
 */
import { env, serve } from '../lib/child.js'
import { dpopApp, dpopMode, mintDpopSessions } from '../lib/dpop-app.js'

const { on, jwk } = dpopMode()
const app = await dpopApp(env.redisUrl(), on)
let statuses: Record<number, number> = {}
app.addHook('onResponse', async (_request, reply) => { statuses[reply.statusCode] = (statuses[reply.statusCode] ?? 0) + 1 })
await app.ready()
const [session] = await mintDpopSessions(app, 1, on, jwk)
statuses = {}
await serve(app, { accessToken: session!.accessToken }, () => ({ statuses: { ...statuses } }))
