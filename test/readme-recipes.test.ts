/**
 * What the README teaches beyond its Usage snippet, run as written:
 * - "Behind a proxy": `trustProxy: true` lets a client choose request.ip with X-Forwarded-For and
 *   walk past the per-ip login limits, writing its chosen ip into the session list; trusting the
 *   proxy's address (or a function that checks it) does not; a hop count is ignored.
 * - "From lucia-style session tables": a session started with startSession after the app's own
 *   sign-in (an OAuth callback that redirects) gets the login's refresh cookie, its access token
 *   from the first refresh, its roles from the sign-in and amr ['fed']; revokeSession ends it.
 */
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import refreshSessions from '../src/index.js'
import { ALICE, buildApp, FAST_ARGON2, HS256_SECRET, login, refreshCookie } from './helpers/build-app.js'

const PROXY = '127.0.0.1' // app.inject's remote address: the proxy in these tests
const REAL_CLIENT = '198.51.100.9'
const LIMIT = 10 // the default perUserIp limit

/** LIMIT + 2 wrong passwords for alice, each claiming another X-Forwarded-For; the proxy appends the real address. */
async function guesses (app: FastifyInstance): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < LIMIT + 2; i++) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'x-forwarded-for': `203.0.113.${i + 1}, ${REAL_CLIENT}` },
      payload: { username: ALICE.username, password: `guess-${i}` }
    })
    statuses.push(response.statusCode)
  }
  return statuses
}

t.test('trustProxy: true lets each guess claim its own ip: the login limit never fills', async (t) => {
  const { app } = await buildApp(t, { fastify: { trustProxy: true } })
  const statuses = await guesses(app)
  t.same(statuses, Array(LIMIT + 2).fill(401), `${LIMIT + 2} guesses, no 429`)

  const { accessToken } = await login(app, ALICE, { headers: { 'x-forwarded-for': `192.0.2.66, ${REAL_CLIENT}` } })
  const sessions = (await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })).json() as { sessions: Array<{ ip: string }> }
  t.equal(sessions.sessions[0]?.ip, '192.0.2.66', 'the session list shows the ip the client wrote')
})

t.test('trustProxy naming the proxy: request.ip is the address the proxy saw, the limit holds', async (t) => {
  const { app } = await buildApp(t, { fastify: { trustProxy: PROXY } })
  const statuses = await guesses(app)
  t.same(statuses.slice(0, LIMIT), Array(LIMIT).fill(401), `${LIMIT} guesses answered 401`)
  t.same(statuses.slice(LIMIT), [429, 429], 'then 429, whatever X-Forwarded-For claims')

  const { accessToken } = await login(app, ALICE, { headers: { 'x-forwarded-for': '192.0.2.66, 198.51.100.10' } })
  const sessions = (await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })).json() as { sessions: Array<{ ip: string }> }
  t.equal(sessions.sessions[0]?.ip, '198.51.100.10', 'the session list shows the address the proxy saw')
})

t.test('trustProxy as a function that checks the proxy (the README\'s third form)', async (t) => {
  const { app } = await buildApp(t, { fastify: { trustProxy: (address, hop) => hop === 0 && address === PROXY } })
  const statuses = await guesses(app)
  t.same(statuses.slice(LIMIT), [429, 429], 'the limit holds')
})

t.test('a hop count is ignored by this Fastify (the README says so): every client has the proxy\'s address', async (t) => {
  // The types refuse a number since Fastify 5.12.1; JavaScript apps can still pass one.
  const { app } = await buildApp(t, { fastify: { trustProxy: 1 as unknown as string } })
  const { accessToken } = await login(app, ALICE, { headers: { 'x-forwarded-for': `192.0.2.66, ${REAL_CLIENT}` } })
  const sessions = (await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })).json() as { sessions: Array<{ ip: string }> }
  t.equal(sessions.sessions[0]?.ip, PROXY, 'request.ip is the proxy: one per-ip counter for everybody')
})

t.test('a session started after the app\'s own sign-in (the README\'s lucia recipe)', async (t) => {
  const users = new Map([['u-42', { id: 'u-42', roles: ['user', 'editor'] }]])
  const logins: unknown[] = []
  // No @fastify/cookie in the app: startSession sets the refresh cookie all the same.
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(refreshSessions, {
    accessToken: { secret: HS256_SECRET },
    argon2: FAST_ARGON2,
    findUser: async () => null,
    onLogin: (event) => { logins.push(event) }
  })
  const signInWithGitHub = async (request: FastifyRequest): Promise<{ id: string, roles: string[] }> => users.get(String((request.query as { user: string }).user))!

  // The README's route, as written.
  app.get('/login/github/callback', async (request, reply) => {
    const user = await signInWithGitHub(request) // your code: { id, roles? } from your user table
    await app.refreshSessions.startSession(request, reply, user, { amr: ['fed'] })
    return reply.redirect('/')                  // the refresh cookie is set; the page's client refreshes first
  })
  app.get('/me', { preHandler: app.authenticate }, async (request) => request.user)

  const callback = await app.inject({ url: '/login/github/callback?user=u-42', headers: { 'user-agent': 'recipe-test' } })
  t.equal(callback.statusCode, 302)
  t.equal(callback.headers.location, '/')
  const cookie = refreshCookie(callback)
  t.ok(cookie !== undefined && cookie.value.length > 0, 'the refresh cookie is set')
  t.same({ ...cookie, value: '<token>' }, { name: 'refresh_token', value: '<token>', maxAge: 604800, path: '/auth', httpOnly: true, secure: true, sameSite: 'Strict' }, 'the login route\'s attributes')

  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: cookie!.value } })
  t.equal(refresh.statusCode, 200, 'the first refresh gives the token response')
  const { accessToken, sessionId } = refresh.json() as { accessToken: string, sessionId: string }
  t.not(refreshCookie(refresh)?.value, cookie!.value, 'and rotates the refresh token')
  const me = (await app.inject({ url: '/me', headers: { authorization: `Bearer ${accessToken}` } })).json() as { id: string, roles: string[], amr: string[] }
  t.same({ id: me.id, roles: me.roles, amr: me.amr }, { id: 'u-42', roles: ['user', 'editor'], amr: ['fed'] }, 'roles from the sign-in, amr fed')
  t.same(logins, [{ userId: 'u-42', sessionId, ip: '127.0.0.1', userAgent: 'recipe-test', clientId: null, amr: ['fed'] }], 'onLogin ran')

  const listed = await app.refreshSessions.listSessions('u-42')
  t.same(listed.map((s) => [s.id, s.userAgent]), [[sessionId, 'recipe-test']], 'listed like any session')
  t.equal(await app.refreshSessions.revokeSession('u-42', sessionId), true, 'revokeSession ends it')
  const after = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshCookie(refresh)!.value } })
  t.equal(after.statusCode, 401, 'no refresh after the revoke')
})
