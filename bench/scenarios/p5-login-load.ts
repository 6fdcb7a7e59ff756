/**
 * P5: P1's GET /me in the same process as P4-style logins. Users `user-N` have cheap hashes and
 * only serve to mint the /me tokens at start; the login load uses users `login-N`, whose stored
 * hashes have the default parameters, so each of those logins costs exactly what a P4 login does
 * (argon2 verify follows the stored hash; the plugin's own cheap parameters never flag a
 * stronger hash for rehashing). argon2 behind the plugin's default argon2Queue (BENCH_ARGON2_QUEUE
 * overrides).
 */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, countSentCommands, DEFAULT_ARGON2, hashPassword, usersWithHash } from '../lib/fixtures.js'
import { mintSessions, pluginApp } from '../lib/plugin-app.js'

const tokenUsers = usersWithHash(/^user-\d+$/, await hashPassword(CHEAP_ARGON2))
const loginUsers = usersWithHash(/^login-\d+$/, await hashPassword(DEFAULT_ARGON2))
const { app, redis } = await pluginApp({
  argon2: CHEAP_ARGON2,
  argon2Queue: env.argon2Queue(),
  redisUrl: env.redisUrl(),
  findUser: (username) => tokenUsers(username) ?? loginUsers(username)
}, 'authenticate')
await app.ready()
const sessions = await mintSessions(app, env.tokens())
const sent = countSentCommands(redis!)
await serve(app, { tokens: sessions.map((s) => s.accessToken), loginUsers: 'login-', users: env.tokens() }, () => ({ sent: Object.fromEntries(sent) }))
