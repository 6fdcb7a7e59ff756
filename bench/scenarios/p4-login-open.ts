/** P4-open: P4 with `argon2Queue: false`, every verify straight to libuv's pool as before the queue: P4's baseline. */
import { env, serve } from '../lib/child.js'
import { countSentCommands } from '../lib/fixtures.js'
import { pluginApp } from '../lib/plugin-app.js'

const { app, redis } = await pluginApp({ redisUrl: env.redisUrl(), argon2Queue: false }, null)
const sent = countSentCommands(redis!)
await serve(app, { loginUsers: 'user-', users: env.tokens() }, () => ({ sent: Object.fromEntries(sent) }))
