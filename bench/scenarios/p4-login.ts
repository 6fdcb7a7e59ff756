/** P4: our POST /auth/login with the default argon2id parameters (m=19456, t=2, p=1), store and limiter on Redis. */
import { env, serve } from '../lib/child.js'
import { pluginApp } from '../lib/fixtures.js'

const { app } = await pluginApp({ redisUrl: env.redisUrl() }, null)
await serve(app, { loginUsers: 'user-', users: env.tokens() })
