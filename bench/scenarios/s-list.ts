/**
 * Scale runner (bench/scale.ts): GET /auth/sessions of one user who has BENCH_LIST_SESSIONS
 * sessions (all but one created through the session core, the last by a real login, whose access
 * token the load carries).
 */
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2, countSentCommands, hashPassword, usersWithHash } from '../lib/fixtures.js'
import { mintSessions, pluginApp } from '../lib/plugin-app.js'

const LIST_USER = 'user-list'
const count = Number(process.env.BENCH_LIST_SESSIONS ?? 10)
const { app, redis } = await pluginApp({
  argon2: CHEAP_ARGON2,
  redisUrl: env.redisUrl(),
  maxSessionsPerUser: Math.max(10, count),
  findUser: usersWithHash(/^user-list$/, await hashPassword(CHEAP_ARGON2))
}, null)
await app.ready()
for (let i = 1; i < count; i++) await app.refreshSessions.sessions.create(LIST_USER, { userAgent: 'bench', ip: '203.0.113.45' })
const [session] = await mintSessions(app, 1, 0, () => LIST_USER)
const sent = countSentCommands(redis!)
await serve(app, { tokens: [session!.accessToken] }, () => ({ sent: Object.fromEntries(sent) }))
