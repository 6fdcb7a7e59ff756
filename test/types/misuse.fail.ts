/**
 * Misuse that must NOT compile (excluded from the project's tsconfig; test/types.test.ts compiles it
 * alone). Every line marked `// expect TSxxxx <text>` must produce that error, with <text> in its
 * message, and no other line may produce one: the file fails for these reasons and no others.
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import refreshSessions, { type RefreshSessionsOptions } from '../../src/index.js'

const app = Fastify()
const secret = 'x'.repeat(32)
const findUser = (username: string) => ({ id: username, passwordHash: '$argon2id$...', roles: ['user'] })

// options
await app.register(refreshSessions, { accessToken: { secret } }) // expect TS2769 'findUser' is missing
await app.register(refreshSessions, { findUser }) // expect TS2769 'accessToken' is missing
await app.register(refreshSessions, { accessToken: { secret }, findUser, transport: 'carrier-pigeon' }) // expect TS2769 "carrier-pigeon"
await app.register(refreshSessions, { accessToken: { secret: 42 }, findUser }) // expect TS2769 'number' is not assignable
await app.register(refreshSessions, { accessToken: { secret, ttl: true }, findUser }) // expect TS2769 'true' is not assignable to type 'string | number
await app.register(refreshSessions, { accessToken: { secret }, findUser, cookie: { sameSite: 'sideways' } }) // expect TS2769 "sideways"
await app.register(refreshSessions, { accessToken: { secret }, findUser, refreshToken: { idleTTL: '7d' } }) // expect TS2769 Did you mean to write 'idleTtl'?
await app.register(refreshSessions, { accessToken: { secret }, findUser: (username: string) => ({ id: username }) }) // expect TS2769 'passwordHash' is missing
await app.register(refreshSessions, { accessToken: { secret }, findUser, redis: 'redis://localhost:6379' }) // expect TS2769 'Redis | Cluster
await app.register(refreshSessions, { accessToken: { secret }, findUser, loginLimits: true }) // expect TS2769 'true' is not assignable to type 'false | {
await app.register(refreshSessions, { accessToken: { secret, keys: [{ kid: 'k1', alg: 'HS512', publicKey: 'pem' }] }, findUser }) // expect TS2769 "HS512"
const options: RefreshSessionsOptions = { accessToken: { secret }, findUser, onLogin: 'audit' } // expect TS2322 Hook<LoginEvent>
void options
void new Redis()

// request.user and decorators
app.get('/me', { preHandler: app.authenticate }, async (request) => {
  void request.user.nope // expect TS2339 'nope' does not exist on type 'AuthUser'
  const id: number = request.user.id // expect TS2322 'string' is not assignable to type 'number'
  request.user.roles.push(1) // expect TS2345 'number' is not assignable to parameter of type 'string'
  void id
})
app.requireRoles(42) // expect TS2345 'number' is not assignable to parameter of type 'string'
void app.authenticates // expect TS2551 Did you mean 'authenticate'?
app.requireRecentAuth({ maxAge: true }) // expect TS2322 'true' is not assignable to type 'string | number
app.requireRecentAuth({ amr: 'hwk' }) // expect TS2322 'string' is not assignable to type 'readonly string[]'
app.requireRecentAuth() // expect TS2554 Expected 1 arguments

// the programmatic API
await app.refreshSessions.revokeSession('u-1') // expect TS2554 Expected 2 arguments
await app.refreshSessions.listSessions({ id: 'u-1' }) // expect TS2345 parameter of type 'string'
await app.refreshSessions.revokeAllSessions('u-1', { but: 's' }) // expect TS2353 'but' does not exist
const sessions: string[] = await app.refreshSessions.listSessions('u-1') // expect TS2322 'Session[]' is not assignable to type 'string[]'
void sessions
app.post('/sign-in', async (request, reply) => {
  await app.refreshSessions.startSession(request, reply, { id: 'u-1' }) // expect TS2554 Expected 4 arguments
  await app.refreshSessions.startSession(request, reply, { roles: ['user'] }, { amr: ['hwk'] }) // expect TS2345 'id' is missing
  await app.refreshSessions.startSession(request, reply, { id: 'u-1' }, { method: 'hwk' }) // expect TS2353 'method' does not exist
  await app.refreshSessions.reauthenticate(request, reply, { amr: 'pwd' }) // expect TS2322 'string' is not assignable to type 'readonly string[]'
})
