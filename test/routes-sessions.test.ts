/**
 * GET /auth/sessions and DELETE /auth/sessions/:id (Bearer; own sessions only), and the
 * programmatic API on fastify.refreshSessions.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, BOB, buildApp, login } from './helpers/build-app.js'

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000
const NOT_FOUND = { statusCode: 404, code: 'AUTH_SESSION_NOT_FOUND', error: 'Not Found', message: 'No such session' }
const TOKEN_MISSING = { statusCode: 401, code: 'AUTH_TOKEN_MISSING', error: 'Unauthorized', message: 'No access token was sent' }

const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` })

function list (app: FastifyInstance, accessToken: string): Promise<LightMyRequestResponse> {
  return app.inject({ url: '/auth/sessions', headers: bearer(accessToken) })
}

function revoke (app: FastifyInstance, accessToken: string | null, id: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'DELETE', url: `/auth/sessions/${id}`, headers: accessToken === null ? {} : bearer(accessToken) })
}

function refresh (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: token } })
}

t.test('GET /auth/sessions: own sessions, newest first, ISO dates, metadata, current only for the caller', async (t) => {
  const { app } = await buildApp(t)
  const logins = []
  for (const agent of ['Firefox/1', 'Safari/2', 'curl/3']) {
    logins.push(await login(app, ALICE, { headers: { 'user-agent': agent } }))
    await sleep(5) // distinct createdAt milliseconds, so "newest first" is observable
  }
  await login(app, BOB)
  const started = Date.now()
  const response = await list(app, logins[1]!.accessToken)
  t.equal(response.statusCode, 200)
  const { sessions } = response.json() as { sessions: Array<Record<string, unknown>> }
  t.same(Object.keys(response.json()), ['sessions'])
  t.same(sessions.map((s) => s.id), [logins[2]!.sessionId, logins[1]!.sessionId, logins[0]!.sessionId], 'newest first, only alice')
  t.same(sessions.map((s) => s.userAgent), ['curl/3', 'Safari/2', 'Firefox/1'])
  t.same(sessions.map((s) => s.current), [false, true, false], 'current only for the session of the access token')
  for (const session of sessions) {
    t.same(Object.keys(session).sort(), ['amr', 'authTime', 'binding', 'createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent'], 'no token, no hash, no userId, no data')
    t.equal(session.ip, '127.0.0.1')
    t.same(session.amr, ['pwd'])
    const authTime = Date.parse(session.authTime as string)
    t.ok(authTime % 1000 === 0 && authTime <= Date.parse(session.createdAt as string) && authTime > Date.parse(session.createdAt as string) - 2000, 'authTime: the sign-in, in whole seconds')
    for (const field of ['createdAt', 'lastUsedAt', 'expiresAt'] as const) t.match(session[field], ISO, field)
    const created = Date.parse(session.createdAt as string)
    t.ok(created <= started && created > started - 10_000, 'createdAt is recent')
    t.equal(session.lastUsedAt, session.createdAt, 'never refreshed: lastUsedAt is createdAt')
    t.equal(Date.parse(session.expiresAt as string), created + SEVEN_DAYS_MS, 'expires after the idle TTL')
  }
  const serialized = response.body
  for (const l of logins) t.notOk(serialized.includes(l.refreshToken.split('.')[2]!), 'no refresh secret in the list')

  await sleep(5)
  const refreshed = await refresh(app, logins[0]!.refreshToken)
  t.equal(refreshed.statusCode, 200)
  const after = (await list(app, refreshed.json().accessToken)).json().sessions as Array<Record<string, unknown>>
  t.same(after.map((s) => s.id), sessions.map((s) => s.id), 'order is by creation, not by use')
  const oldest = after[2]!
  t.equal(oldest.current, true, 'current follows the new access token')
  t.ok(Date.parse(oldest.lastUsedAt as string) > Date.parse(oldest.createdAt as string), 'lastUsedAt moved with the refresh')

  const bobView = (await list(app, (await login(app, BOB)).accessToken)).json().sessions as unknown[]
  t.equal(bobView.length, 2, "bob sees his two sessions and none of alice's")

  t.same(after.map((s) => s.binding), [null, null, null], 'not bound: null')
  const thumbprint = 'A'.repeat(43)
  t.equal(await app.refreshSessions.sessions.bind(ALICE.id, logins[2]!.sessionId, { kind: 'dbsc', thumbprint }), 'bound')
  t.equal(await app.refreshSessions.sessions.bind(ALICE.id, logins[1]!.sessionId, { kind: 'dpop', thumbprint }), 'bound')
  const bound = (await list(app, refreshed.json().accessToken)).json()
  t.same(bound.sessions.map((s: { binding: unknown }) => s.binding), ['dbsc', 'dpop', null], 'the kind of key each session is bound to')
  t.notOk(JSON.stringify(bound).includes(thumbprint), 'the kind only, not the thumbprint')
})

t.test('DELETE /auth/sessions/:id: 204, then that refresh token is dead', async (t) => {
  const { app } = await buildApp(t)
  const phone = await login(app, ALICE)
  const laptop = await login(app, ALICE)
  const response = await revoke(app, laptop.accessToken, phone.sessionId)
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  t.equal(response.headers['set-cookie'], undefined, "revoking another device does not touch this device's cookie")
  const dead = await refresh(app, phone.refreshToken)
  t.equal(dead.statusCode, 401)
  t.equal(dead.json().code, 'AUTH_REFRESH_INVALID')
  t.same((await list(app, laptop.accessToken)).json().sessions.map((s: { id: string }) => s.id), [laptop.sessionId])
  const twice = await revoke(app, laptop.accessToken, phone.sessionId)
  t.equal(twice.statusCode, 404, 'already revoked: not found')
  t.same(twice.json(), NOT_FOUND)

  const self = await revoke(app, laptop.accessToken, laptop.sessionId)
  t.equal(self.statusCode, 204, 'a session may revoke itself')
  t.equal((await refresh(app, laptop.refreshToken)).statusCode, 401)
  const strict = await app.inject({ url: '/me/strict', headers: bearer(laptop.accessToken) })
  t.equal(strict.statusCode, 401)
  t.equal(strict.json().code, 'AUTH_SESSION_REVOKED')
})

t.test("404 AUTH_SESSION_NOT_FOUND for unknown, malformed and other users' session ids", async (t) => {
  const { app } = await buildApp(t)
  const alice = await login(app, ALICE)
  const bob = await login(app, BOB)
  const ids: Array<[string, string]> = [
    ['an unknown id', randomBytes(16).toString('base64url')],
    ['a malformed id', 'not-a-session-id'],
    ['a path-looking id', '..%2F..%2Fetc'],
    ['a Redis-looking id', '*'],
    ['a hash-tag id', '%7Bu-bob%7D'],
    ["bob's session", bob.sessionId]
  ]
  for (const [what, id] of ids) {
    const response = await revoke(app, alice.accessToken, id)
    t.equal(response.statusCode, 404, what)
    t.same(response.json(), NOT_FOUND, what)
  }
  t.equal((await refresh(app, bob.refreshToken)).statusCode, 200, "bob's session still works")
  t.equal((await refresh(app, alice.refreshToken)).statusCode, 200)
  const tooLong = await revoke(app, alice.accessToken, 'a'.repeat(65))
  t.equal(tooLong.statusCode, 400, 'an id longer than any session id is refused before the store')
  t.match(tooLong.json(), { statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: /^params\/id/ })
})

t.test('401 without a Bearer token', async (t) => {
  const { app } = await buildApp(t)
  const alice = await login(app, ALICE)
  for (const response of [
    await app.inject({ url: '/auth/sessions' }),
    await revoke(app, null, alice.sessionId),
    await app.inject({ url: '/auth/sessions', cookies: { refresh_token: alice.refreshToken } })
  ]) {
    t.equal(response.statusCode, 401)
    t.same(response.json(), TOKEN_MISSING)
    t.equal(response.headers['www-authenticate'], 'Bearer')
  }
  const garbage = await app.inject({ url: '/auth/sessions', headers: { authorization: 'Bearer not.a.jwt' } })
  t.equal(garbage.statusCode, 401)
  t.same(garbage.json(), { statusCode: 401, code: 'AUTH_TOKEN_INVALID', error: 'Unauthorized', message: 'The access token is invalid' })
  t.equal(garbage.headers['www-authenticate'], 'Bearer error="invalid_token"')
  t.equal((await refresh(app, alice.refreshToken)).statusCode, 200, 'nothing was revoked')
})

t.test('programmatic API: listSessions, revokeSession, revokeAllSessions({ except })', async (t) => {
  const { app } = await buildApp(t)
  const api = app.refreshSessions
  const one = await login(app, ALICE, { headers: { 'user-agent': 'one' } })
  await sleep(5)
  const two = await login(app, ALICE, { clientId: 'mobile' })
  await sleep(5)
  const three = await login(app, ALICE)
  const bob = await login(app, BOB)

  const sessions = await api.listSessions(ALICE.id)
  t.same(sessions.map((s) => s.id), [three.sessionId, two.sessionId, one.sessionId])
  const oldest = sessions[2]!
  t.equal(oldest.userId, ALICE.id)
  t.equal(oldest.userAgent, 'one')
  t.equal(oldest.ip, '127.0.0.1')
  t.equal(oldest.clientId, null)
  t.equal(sessions[1]!.clientId, 'mobile')
  t.equal(oldest.expiresAt, oldest.createdAt + SEVEN_DAYS_MS)
  t.equal(oldest.data, null, 'with loadUser nothing is kept with the session')

  t.equal(await api.revokeSession(BOB.id, one.sessionId), false, "bob's id cannot revoke alice's session")
  t.equal((await refresh(app, one.refreshToken)).statusCode, 200)
  t.equal(await api.revokeSession(ALICE.id, two.sessionId), true)
  t.equal(await api.revokeSession(ALICE.id, two.sessionId), false, 'already revoked')
  t.equal(await api.revokeSession(ALICE.id, 'nope'), false)
  t.equal((await refresh(app, two.refreshToken)).statusCode, 401)

  const four = await login(app, ALICE)
  t.equal(await api.revokeAllSessions(ALICE.id, { except: four.sessionId }), 2, 'one and three')
  t.same((await api.listSessions(ALICE.id)).map((s) => s.id), [four.sessionId])
  t.equal((await refresh(app, three.refreshToken)).statusCode, 401)
  t.equal((await refresh(app, four.refreshToken)).statusCode, 200, 'the excepted session lives')
  t.equal(await api.revokeAllSessions(ALICE.id), 1)
  t.same(await api.listSessions(ALICE.id), [])
  t.equal((await refresh(app, bob.refreshToken)).statusCode, 200, 'bob untouched')
  t.same(await api.listSessions('u-nobody'), [])
  t.equal(await api.revokeAllSessions('u-nobody'), 0)
})

t.test('maxSessionsPerUser: a new login evicts the oldest session, whose refresh token then fails', async (t) => {
  const { app } = await buildApp(t, { options: { maxSessionsPerUser: 2 } })
  const first = await login(app, ALICE)
  await sleep(5)
  const second = await login(app, ALICE)
  await sleep(5)
  const third = await login(app, ALICE)
  const bob = await login(app, BOB)
  const { sessions } = (await list(app, third.accessToken)).json() as { sessions: Array<{ id: string }> }
  t.same(sessions.map((s) => s.id), [third.sessionId, second.sessionId], 'the oldest was evicted')
  const evicted = await refresh(app, first.refreshToken)
  t.equal(evicted.statusCode, 401)
  t.equal(evicted.json().code, 'AUTH_REFRESH_INVALID')
  t.equal((await refresh(app, second.refreshToken)).statusCode, 200)
  t.equal((await refresh(app, bob.refreshToken)).statusCode, 200, "the cap is per user: bob's session is not counted")
})
