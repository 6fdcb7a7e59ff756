/** P4: our POST /auth/login with the default argon2id parameters (m=19456, t=2, p=1), store and limiter on Redis. */
import { env, serve } from '../lib/child.js'
import { countSentCommands } from '../lib/fixtures.js'
import { pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ redisUrl: env.redisUrl() }, null)
const sent = countSentCommands(redis!)
await serve(app, { loginUsers: 'user-', users: env.tokens() }, () => ({ sent: Object.fromEntries(sent) }))
