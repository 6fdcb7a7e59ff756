/**
 * Issue 9, item 4: a good neighbour. The decorator names are an option; an app that already has
 * an `authenticate` (as @fastify/jwt's README teaches) registers the plugin by renaming ours; a
 * name that is taken fails register with a message naming the option, not Fastify's
 * FST_ERR_DEC_ALREADY_PRESENT; our own routes keep using our authenticate whatever its name.
 */
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import refreshSessions, { type RefreshSessionsOptions } from '../src/index.js'
import { ALICE, FAST_ARGON2, HS256_SECRET, hashFor } from './helpers/build-app.js'

const APP_JWT_SECRET = 'the-app-s-own-jwt-secret-0123456789abcdef'

async function options (extra: Partial<RefreshSessionsOptions> = {}): Promise<RefreshSessionsOptions> {
  const passwordHash = await hashFor(ALICE.password)
  return {
    accessToken: { secret: HS256_SECRET },
    argon2: FAST_ARGON2,
    findUser: (username) => username === ALICE.username ? { id: ALICE.id, passwordHash, roles: ALICE.roles } : null,
    ...extra
  }
}

/** An app as @fastify/jwt's README writes it: its own JWT and its own `authenticate`. */
async function appWithOwnAuthenticate (t: { teardown (fn: () => unknown): void }): Promise<{ app: FastifyInstance, calls: () => number }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: APP_JWT_SECRET })
  let calls = 0
  app.decorate('authenticate', async function (request: FastifyRequest, reply: FastifyReply) {
    calls++
    try {
      await request.jwtVerify()
    } catch {
      await reply.code(401).send({ app: 'own authenticate refused' })
    }
  })
  return { app, calls: () => calls }
}

t.test('today, without renaming: register fails with a message that names the option', async (t) => {
  const { app } = await appWithOwnAuthenticate(t)
  await t.rejects(async () => {
    await app.register(refreshSessions, await options())
    await app.ready()
  }, { name: 'OptionsError', message: 'fastify-refresh-sessions: decorator "authenticate" already exists: choose another name with option decorators.authenticate' })
})

t.test('renamed: the app keeps its authenticate, ours works under its new name and on our routes', async (t) => {
  const { app, calls } = await appWithOwnAuthenticate(t)
  await app.register(refreshSessions, await options({ decorators: { authenticate: 'authenticateAccess' } }))
  const ours = app.getDecorator<FastifyInstance['authenticate']>('authenticateAccess')
  app.get('/mine', { preHandler: ours }, async (request) => ({ id: request.user.id }))
  app.get('/app', { preHandler: app.authenticate }, async (request) => ({ user: request.user }))
  await app.ready()

  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(login.statusCode, 200)
  const { accessToken } = login.json()
  const bearer = { authorization: `Bearer ${accessToken}` }

  const mine = await app.inject({ method: 'GET', url: '/mine', headers: bearer })
  t.equal(mine.statusCode, 200)
  t.same(mine.json(), { id: ALICE.id }, 'our authenticate under its new name')

  const sessions = await app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer })
  t.equal(sessions.statusCode, 200, 'GET /auth/sessions uses our authenticate')
  t.equal(sessions.json().sessions.length, 1)
  const anonymous = await app.inject({ method: 'GET', url: '/auth/sessions' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'AUTH_TOKEN_MISSING', 'refused by ours, with our code, not by the app one')
  t.equal(anonymous.headers['www-authenticate'], 'Bearer')

  const appToken = app.jwt.sign({ sub: 'app-user' })
  const appRoute = await app.inject({ method: 'GET', url: '/app', headers: { authorization: `Bearer ${appToken}` } })
  t.equal(appRoute.statusCode, 200, "the app's authenticate still verifies the app's tokens")
  t.equal(appRoute.json().user.sub, 'app-user')
  const appRefuses = await app.inject({ method: 'GET', url: '/app', headers: bearer })
  t.same(appRefuses.json(), { app: 'own authenticate refused' }, "the app's authenticate was not replaced by ours")
  const before = calls()

  const logoutAll = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer })
  t.equal(logoutAll.statusCode, 204, 'POST /auth/logout-all uses our authenticate')
  t.equal(calls(), before, "our routes never call the app's authenticate")
})

t.test('every decorator name is an option; each taken name is reported with its option', async (t) => {
  const renamed = { authenticate: 'rsAuthenticate', authenticateSession: 'rsAuthenticateSession', requireRoles: 'rsRequireRoles', refreshSessions: 'rsApi' } as const
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(refreshSessions, await options({ decorators: renamed }))
  await app.ready()
  for (const name of Object.values(renamed)) t.ok(app.hasDecorator(name), `${name} is decorated`)
  for (const name of ['authenticate', 'authenticateSession', 'requireRoles', 'refreshSessions']) t.notOk(app.hasDecorator(name), `${name} is left free`)
  t.equal(typeof app.getDecorator<{ listSessions: unknown }>('rsApi').listSessions, 'function')

  for (const [option, name] of Object.entries({ authenticate: 'authenticate', authenticateSession: 'authenticateSession', requireRoles: 'requireRoles', refreshSessions: 'refreshSessions' })) {
    const taken = Fastify()
    taken.decorate(name, () => {})
    await t.rejects(async () => {
      await taken.register(refreshSessions, await options())
      await taken.ready()
    }, { message: `fastify-refresh-sessions: decorator "${name}" already exists: choose another name with option decorators.${option}` }, `${name} taken`)
    await taken.close()
  }
})

t.test('the defaults are authenticate, authenticateSession, requireRoles, refreshSessions', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(refreshSessions, await options())
  await app.ready()
  t.equal(typeof app.authenticate, 'function')
  t.equal(typeof app.authenticateSession, 'function')
  t.equal(typeof app.requireRoles, 'function')
  t.equal(typeof app.refreshSessions.listSessions, 'function')
})

t.test('a bad decorator name fails registration with a message naming the option', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an identifier', { authenticate: 'my-authenticate' }, /^fastify-refresh-sessions: option decorators\.authenticate expected string to match/],
    ['empty', { requireRoles: '' }, /^fastify-refresh-sessions: option decorators\.requireRoles expected string to match/],
    ['not a string', { refreshSessions: 42 }, /^fastify-refresh-sessions: option decorators\.refreshSessions expected string/],
    ['unknown decorator', { authenticateUser: 'x' }, /^fastify-refresh-sessions: option decorators\.authenticateUser is not a known option$/],
    ['two decorators, one name', { authenticate: 'auth', authenticateSession: 'auth' }, /^fastify-refresh-sessions: option decorators must give each decorator its own name$/],
    ['a rename onto another default', { authenticate: 'requireRoles' }, /^fastify-refresh-sessions: option decorators must give each decorator its own name$/]
  ]
  for (const [name, decorators, message] of cases) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(refreshSessions, await options({ decorators } as Partial<RefreshSessionsOptions>))
      await app.ready()
    }, { message }, name)
    await app.close()
  }
})
