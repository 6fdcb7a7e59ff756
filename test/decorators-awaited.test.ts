/**
 * authenticate and authenticateSession run in Fastify's callback style as preHandlers, and return
 * a promise when an app awaits them in a hook of its own: both give the same user, status, code
 * and challenge.
 */
import t from 'tap'
import { ALICE, buildApp, login } from './helpers/build-app.js'

t.test('awaited inside the app\'s own hook: the same outcomes as used as a preHandler', async (t) => {
  const { app } = await buildApp(t, {
    routes: (app) => {
      app.get('/mine', { preHandler: async (request, reply) => { await app.authenticate(request, reply) } }, async (request) => request.user)
      app.get('/mine/strict', { preHandler: async (request, reply) => { await app.authenticateSession(request, reply) } }, async (request) => request.user)
    }
  })
  const alice = await login(app)
  const user = { id: ALICE.id, sessionId: alice.sessionId, roles: ALICE.roles, claims: ALICE.claims, amr: ['pwd'] }
  for (const [hooked, direct] of [['/me', '/mine'], ['/me/strict', '/mine/strict']] as const) {
    for (const headers of [{ authorization: `Bearer ${alice.accessToken}` }, {}, { authorization: 'Bearer not-a-jwt' }]) {
      const [a, b] = await Promise.all([app.inject({ url: hooked, headers }), app.inject({ url: direct, headers })])
      t.equal(b.statusCode, a.statusCode, `${direct} status as ${hooked}`)
      t.strictSame(b.json(), a.json(), `${direct} body as ${hooked}`)
      t.equal(b.headers['www-authenticate'], a.headers['www-authenticate'], `${direct} challenge as ${hooked}`)
    }
  }
  const me = await app.inject({ url: '/mine', headers: { authorization: `Bearer ${alice.accessToken}` } })
  t.match(me.json(), { ...user, authTime: Number }, 'request.user')
  await app.refreshSessions.revokeSession(ALICE.id, alice.sessionId)
  const revoked = await app.inject({ url: '/mine/strict', headers: { authorization: `Bearer ${alice.accessToken}` } })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().code, 'AUTH_SESSION_REVOKED')
})
