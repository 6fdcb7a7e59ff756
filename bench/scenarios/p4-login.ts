/**
 * P4: our POST /auth/login with the default argon2id parameters (m=19456, t=2, p=1), store and
 * limiter on Redis, argon2 behind the plugin's default argon2Queue (BENCH_ARGON2_QUEUE overrides).
 */
import { env, serve } from '../lib/child.js'
import { countSentCommands } from '../lib/fixtures.js'
import { pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ redisUrl: env.redisUrl(), argon2Queue: env.argon2Queue() }, null)
const sent = countSentCommands(redis!)
await serve(app, { loginUsers: 'user-', users: env.tokens() }, () => ({ sent: Object.fromEntries(sent) }))
