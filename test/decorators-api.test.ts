/**
 * `fastify.refreshSessions`: the programmatic API an app uses from its own code (admin screens,
 * password changes, registration): password helpers, session listing and revocation, the store.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ALICE, BOB, buildApp, login } from './helpers/build-app.js'
import { MemoryStore } from '../src/index.js'

const strict = (app: FastifyInstance, accessToken: string): Promise<number> =>
  app.inject({ method: 'GET', url: '/me/strict', headers: { authorization: `Bearer ${accessToken}` } }).then((response) => response.statusCode)
const refresh = (app: FastifyInstance, refreshToken: string): Promise<{ statusCode: number, code?: string }> =>
  app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshToken } }).then((response) => ({ statusCode: response.statusCode, code: response.json().code }))

t.test('hashPassword gives an argon2id hash that verifyPassword and the login route accept', async (t) => {
  const { app, users } = await buildApp(t)
  const api = app.refreshSessions
  const hash = await api.hashPassword('carol-password-1')
  t.match(hash, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/, "argon2id with the plugin's parameters")
  t.not(await api.hashPassword('carol-password-1'), hash, 'salted: two hashes of one password differ')
  t.equal(await api.verifyPassword(hash, 'carol-password-1'), true)
  t.equal(await api.verifyPassword(hash, 'carol-password-2'), false)
  t.equal(await api.verifyPassword(hash, ''), false)
  t.equal(await api.verifyPassword('not a hash', 'carol-password-1'), false, 'a malformed hash is false, not a throw')

  users.set('carol', { id: 'u-carol', username: 'carol', password: 'carol-password-1', roles: ['user'], passwordHash: hash })
  const carol = await login(app, { id: 'u-carol', username: 'carol', password: 'carol-password-1', roles: ['user'] })
  t.ok(carol.accessToken, 'the login route accepts the hash')
  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'carol', password: 'carol-password-2' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'AUTH_INVALID_CREDENTIALS')
})

t.test('listSessions, revokeSession and revokeAllSessions({ except })', async (t) => {
  const { app } = await buildApp(t)
  const api = app.refreshSessions
  const first = await login(app, ALICE, { headers: { 'user-agent': 'first' } })
  const second = await login(app, ALICE, { headers: { 'user-agent': 'second' } })
  const third = await login(app, ALICE, { headers: { 'user-agent': 'third' } })
  const bob = await login(app, BOB)

  const listed = await api.listSessions(ALICE.id)
  t.strictSame(listed.map((session) => session.id).sort(), [first.sessionId, second.sessionId, third.sessionId].sort())
  t.match(listed.find((session) => session.id === first.sessionId), { userId: ALICE.id, userAgent: 'first', createdAt: Number, lastUsedAt: Number, expiresAt: Number })
  t.strictSame(await api.listSessions('u-nobody'), [])

  t.equal(await api.revokeSession(BOB.id, first.sessionId), false, "another user's session is not found, and stays")
  t.equal(await api.revokeSession(ALICE.id, first.sessionId), true)
  t.equal(await api.revokeSession(ALICE.id, first.sessionId), false, 'revoking twice: the second finds nothing')
  t.equal(await strict(app, first.accessToken), 401, 'authenticateSession sees the revoke')
  t.strictSame(await refresh(app, first.refreshToken), { statusCode: 401, code: 'AUTH_REFRESH_INVALID' }, 'its refresh token is dead')

  t.equal(await api.revokeAllSessions(ALICE.id, { except: third.sessionId }), 1, 'only second was left to revoke')
  t.strictSame((await api.listSessions(ALICE.id)).map((session) => session.id), [third.sessionId])
  t.equal(await strict(app, second.accessToken), 401)
  t.equal(await strict(app, third.accessToken), 200, 'the excepted session lives')
  t.equal((await refresh(app, third.refreshToken)).statusCode, 200)

  t.equal(await api.revokeAllSessions(ALICE.id), 1)
  t.strictSame(await api.listSessions(ALICE.id), [])
  t.equal(await strict(app, third.accessToken), 401)
  t.equal(await strict(app, bob.accessToken), 200, "another user's sessions are untouched")
  t.equal((await api.listSessions(BOB.id)).length, 1)
})

t.test('sessions and store: the session core and the store it runs on, with their whole interfaces', async (t) => {
  const { app } = await buildApp(t)
  const { sessions, store } = app.refreshSessions
  t.ok(store instanceof MemoryStore, 'no redis option: the memory store')
  t.equal(sessions.store, store, 'the core runs on that store')
  for (const method of ['create', 'rotate', 'revokeBySecret', 'revoke', 'revokeAll', 'list', 'isLive', 'close'] as const) {
    t.type(store[method], 'function', `store.${method}`)
  }
  for (const method of ['create', 'rotate', 'revokeByToken', 'revoke', 'revokeAll', 'list', 'isLive', 'close'] as const) {
    t.type(sessions[method], 'function', `sessions.${method}`)
  }
  const { sessionId } = await login(app)
  t.equal(await store.isLive(ALICE.id, sessionId), true, 'a login is visible through the store')
  t.equal(await store.isLive(BOB.id, sessionId), false)
  t.equal(await sessions.isLive(ALICE.id, sessionId), true, 'and through the core')
  const { token } = await sessions.create(BOB.id, { userAgent: 'UA' })
  t.equal((await sessions.rotate(token)).outcome, 'rotated', 'a session made through the core refreshes')
})
