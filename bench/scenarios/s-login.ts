/**
 * Scale runner (bench/scale.ts): our POST /auth/login on Redis with cheap argon2 (m=1024 t=1), so
 * that what the store does per login (create, evict beyond 10 sessions per user) is not lost in
 * argon2's milliseconds; users `user-N`, round-robin below BENCH_TOKENS.
 */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, countSentCommands } from '../lib/fixtures.js'
import { pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ argon2: CHEAP_ARGON2, redisUrl: env.redisUrl() }, null)
await app.ready()
const sent = countSentCommands(redis!)
await serve(app, { loginUsers: 'user-', users: env.tokens() }, () => ({ sent: Object.fromEntries(sent) }))
