/**
 * The demo (examples/tasks-api, SPEC 7) through app.inject: seeded users, registration, /me,
 * per-user tasks, the admin route, the OpenAPI document, JWT_ALG key pairs with their JWKS, and
 * the Redis / Redis Cluster stores chosen by REDIS_URL / REDIS_CLUSTER_NODES.
 */
import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTasksApi } from '../examples/tasks-api/app.js'
import { readConfig } from '../examples/tasks-api/config.js'
import { redisClusterForTest, redisForTest } from '../support/redis-harness.js'

const ALICE = { username: 'alice', password: 'alice-password-1' }
const ADMIN = { username: 'admin', password: 'admin-password-1' }
const MEMORY_WARNING = /in-memory store/

interface Demo { app: FastifyInstance, logs: () => string[] }

async function demo (t: Test, env: Record<string, string> = {}): Promise<Demo> {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done() } })
  const { app } = await buildTasksApi(readConfig({ JWT_SECRET: 'a-demo-test-secret-of-at-least-32-bytes-long', ...env }), { logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.ready()
  return { app, logs: () => [...lines] }
}

interface LoggedIn { accessToken: string, refreshToken: string, sessionId: string, response: LightMyRequestResponse }

async function login (t: Test, app: FastifyInstance, user: { username: string, password: string }): Promise<LoggedIn> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: user })
  t.equal(response.statusCode, 200, `${user.username} logs in`)
  const body = response.json() as { accessToken: string, sessionId: string }
  const cookie = response.cookies.find((c) => c.name === 'refresh_token')
  return { accessToken: body.accessToken, sessionId: body.sessionId, refreshToken: cookie?.value ?? '', response }
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

function jwtPart (token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

t.test('seeded users log in with their roles; /me tells who is calling', async (t) => {
  const { app } = await demo(t)
  const alice = await login(t, app, ALICE)
  t.same(jwtPart(alice.accessToken, 1).roles, ['user'])
  t.equal(jwtPart(alice.accessToken, 1).iss, 'tasks-api')
  t.ok(alice.refreshToken, 'a refresh cookie')
  const admin = await login(t, app, ADMIN)
  t.same(jwtPart(admin.accessToken, 1).roles, ['user', 'admin'])

  const me = await app.inject({ url: '/me', headers: bearer(alice.accessToken) })
  t.equal(me.statusCode, 200)
  t.match(me.json(), { username: 'alice', roles: ['user'], sessionId: alice.sessionId, id: String })
  const anonymous = await app.inject({ url: '/me' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'AUTH_TOKEN_MISSING')

  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'not-her-password' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'AUTH_INVALID_CREDENTIALS')
})

t.test('POST /auth/register: 201, then login works; duplicate 409; bad input 400', async (t) => {
  const { app } = await demo(t)
  const created = await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'carol', password: 'carol-password-1' } })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { id: String, username: 'carol' })
  t.same(Object.keys(created.json()).sort(), ['id', 'username'], 'no hash in the answer')
  const carol = await login(t, app, { username: 'carol', password: 'carol-password-1' })
  t.same(jwtPart(carol.accessToken, 1).roles, ['user'], 'a registered user is a plain user')

  const duplicate = await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'carol', password: 'another-password' } })
  t.equal(duplicate.statusCode, 409)
  t.match(duplicate.json(), { statusCode: 409, code: 'DEMO_USERNAME_TAKEN', error: 'Conflict', message: String })
  const seeded = await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'admin', password: 'i-want-to-be-admin' } })
  t.equal(seeded.statusCode, 409, 'a seeded name cannot be taken over')

  const bad: Array<[string, unknown]> = [
    ['password too short', { username: 'dave', password: 'short' }],
    ['username too short', { username: 'da', password: 'dave-password-1' }],
    ['username with a space', { username: 'da ve', password: 'dave-password-1' }],
    ['missing password', { username: 'dave' }],
    ['wrong types', { username: 42, password: ['x'] }],
    ['not an object', 'dave'],
    ['empty body', undefined]
  ]
  for (const [what, payload] of bad) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/register',
      ...(payload !== undefined && { payload: JSON.stringify(payload) }),
      headers: { 'content-type': 'application/json' }
    })
    t.equal(response.statusCode, 400, what)
    t.match(response.json(), { statusCode: 400, code: String, error: 'Bad Request', message: String }, `${what}: error body`)
  }
  const malformed = await app.inject({ method: 'POST', url: '/auth/register', payload: '{"username":', headers: { 'content-type': 'application/json' } })
  t.equal(malformed.statusCode, 400, 'malformed JSON')
  const afterBad = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'dave', password: 'dave-password-1' } })
  t.equal(afterBad.statusCode, 401, 'none of the bad registrations created a user')
})

const register = (app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/auth/register', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } })

t.test('the demo validates without coercion: wrong types are 400, not converted', async (t) => {
  const { app } = await demo(t)
  const cases: Array<[string, unknown]> = [
    ['password as an array', { username: 'dave', password: ['dave-password-123'] }],
    ['password as a number', { username: 'dave', password: 123456789012345 }],
    ['username as an array', { username: ['dave'], password: 'dave-password-123' }],
    ['username as a number', { username: 12345, password: 'dave-password-123' }],
    ['an extra property', { username: 'dave', password: 'dave-password-123', roles: ['admin'] }]
  ]
  for (const [what, payload] of cases) {
    const response = await register(app, payload)
    t.equal(response.statusCode, 400, what)
    t.equal(response.json().code, 'FST_ERR_VALIDATION', `${what}: code`)
  }
  t.equal((await register(app, { password: ['12345678'] })).statusCode, 400, 'the issue\'s example')
  const alice = await login(t, app, ALICE)
  const task = await app.inject({ method: 'POST', url: '/tasks', headers: bearer(alice.accessToken), payload: { title: 12345 } })
  t.equal(task.statusCode, 400, 'a task title as a number')
  t.equal(task.json().code, 'FST_ERR_VALIDATION')
  t.equal((await login(t, app, ALICE)).response.statusCode, 200, 'seeded users still log in')
})

t.test('the password rule: 12+ characters, not common, not the username; 400 DEMO_WEAK_PASSWORD', async (t) => {
  const { app } = await demo(t)
  const weak: Array<[string, { username: string, password: string }]> = [
    ['11 characters', { username: 'dave', password: 'abcdefgh-1x' }],
    ['a common password', { username: 'dave', password: 'Password1234' }],
    ['one character repeated', { username: 'dave', password: 'zzzzzzzzzzzzzzzz' }],
    ['the username (any case)', { username: 'DaveDaveDave', password: 'davedavedave' }]
  ]
  for (const [what, payload] of weak) {
    const response = await register(app, payload)
    t.equal(response.statusCode, 400, what)
    t.match(response.json(), { statusCode: 400, code: 'DEMO_WEAK_PASSWORD', error: 'Bad Request', message: String }, `${what}: body`)
    t.notOk(response.body.includes(payload.password), `${what}: the password is not echoed`)
  }
  const ok = await register(app, { username: 'dave', password: 'abcdefgh-12x' }, { 'x-forwarded-for': '203.0.113.9' })
  t.equal(ok.statusCode, 201, 'exactly 12 characters')
})

t.test('registrations are limited per ip: the 6th in a minute is 429 DEMO_RATE_LIMITED with Retry-After', async (t) => {
  const { app } = await demo(t)
  for (let i = 0; i < 10; i++) t.equal((await register(app, { username: 'x', password: i })).statusCode, 400, 'a body refused by validation')
  t.equal((await register(app, { username: 'erin', password: 'erin-password-12' })).statusCode, 201, 'schema-invalid bodies were not counted')
  t.equal((await register(app, { username: 'erin', password: 'erin-password-12' })).statusCode, 409)
  for (let i = 0; i < 3; i++) t.equal((await register(app, { username: 'fred', password: 'short' })).statusCode, 400, 'a weak password counts')
  const limited = await register(app, { username: 'gina', password: 'gina-password-12' })
  t.equal(limited.statusCode, 429)
  t.match(limited.json(), { statusCode: 429, code: 'DEMO_RATE_LIMITED', error: 'Too Many Requests', message: String })
  t.match(limited.headers['retry-after'], /^\d+$/, 'Retry-After in seconds')
  t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'gina', password: 'gina-password-12' } })).statusCode, 401, 'not registered')
  const elsewhere = await register(app, { username: 'gina', password: 'gina-password-12' }, { 'x-forwarded-for': '203.0.113.10' })
  t.equal(elsewhere.statusCode, 201, 'another client ip has its own count')
  t.equal((await login(t, app, ALICE)).response.statusCode, 200, 'login is not limited by it')
})

t.test('unknown URLs: 404 with a code, inside and outside the plugin\'s prefix', async (t) => {
  const { app } = await demo(t)
  const outside = await app.inject({ url: '/no/such/route?token=secret-value' })
  t.equal(outside.statusCode, 404)
  t.same(outside.json(), { statusCode: 404, code: 'DEMO_NOT_FOUND', error: 'Not Found', message: 'Route GET /no/such/route not found' })
  const posted = await app.inject({ method: 'POST', url: '/tasks/x/y', payload: {} })
  t.equal(posted.json().code, 'DEMO_NOT_FOUND')
  const inside = await app.inject({ url: '/auth/no-such-route' })
  t.equal(inside.statusCode, 404)
  t.match(inside.json(), { statusCode: 404, code: String })
})

t.test('tasks are per user; /admin/users is for admins', async (t) => {
  const { app } = await demo(t)
  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'bob', password: 'bob-password-1' } })).statusCode, 201)
  const alice = await login(t, app, ALICE)
  const bob = await login(t, app, { username: 'bob', password: 'bob-password-1' })

  const created = await app.inject({ method: 'POST', url: '/tasks', headers: bearer(alice.accessToken), payload: { title: 'buy milk' } })
  t.equal(created.statusCode, 201)
  const task = created.json() as { id: string, title: string, done: boolean, createdAt: string }
  t.match(task, { id: String, title: 'buy milk', done: false, createdAt: String })
  t.ok(!Number.isNaN(Date.parse(task.createdAt)), 'createdAt is a date')

  const aliceList = await app.inject({ url: '/tasks', headers: bearer(alice.accessToken) })
  t.equal(aliceList.statusCode, 200)
  t.same(aliceList.json(), { tasks: [task] })
  const bobList = await app.inject({ url: '/tasks', headers: bearer(bob.accessToken) })
  t.equal(bobList.statusCode, 200)
  t.same(bobList.json(), { tasks: [] }, "bob does not see alice's task")

  const bobDelete = await app.inject({ method: 'DELETE', url: `/tasks/${task.id}`, headers: bearer(bob.accessToken) })
  t.equal(bobDelete.statusCode, 404, "bob cannot delete alice's task")
  t.equal(bobDelete.json().code, 'DEMO_TASK_NOT_FOUND')
  t.equal((await app.inject({ url: '/tasks', headers: bearer(alice.accessToken) })).json().tasks.length, 1, 'still there')
  const aliceDelete = await app.inject({ method: 'DELETE', url: `/tasks/${task.id}`, headers: bearer(alice.accessToken) })
  t.equal(aliceDelete.statusCode, 204)
  t.equal(aliceDelete.body, '')
  t.same((await app.inject({ url: '/tasks', headers: bearer(alice.accessToken) })).json(), { tasks: [] })
  t.equal((await app.inject({ method: 'DELETE', url: `/tasks/${task.id}`, headers: bearer(alice.accessToken) })).statusCode, 404, 'gone')

  t.equal((await app.inject({ method: 'POST', url: '/tasks', headers: bearer(alice.accessToken), payload: { title: '' } })).statusCode, 400, 'empty title')
  t.equal((await app.inject({ method: 'POST', url: '/tasks', payload: { title: 'x' } })).statusCode, 401, 'no token')
  t.equal((await app.inject({ url: '/tasks', headers: bearer(`${alice.accessToken}x`) })).statusCode, 401, 'tampered token')

  const forbidden = await app.inject({ url: '/admin/users', headers: bearer(alice.accessToken) })
  t.equal(forbidden.statusCode, 403)
  t.match(forbidden.json(), { statusCode: 403, code: 'AUTH_FORBIDDEN' })
  t.equal((await app.inject({ url: '/admin/users' })).statusCode, 401)
  const admin = await login(t, app, ADMIN)
  const list = await app.inject({ url: '/admin/users', headers: bearer(admin.accessToken) })
  t.equal(list.statusCode, 200)
  const users = (list.json() as { users: Array<Record<string, unknown>> }).users
  t.same(users.map((u) => u.username).sort(), ['admin', 'alice', 'bob'])
  t.ok(users.every((u) => !('passwordHash' in u)), 'no password hashes')
})

t.test('OpenAPI at /docs/json documents every plugin route', async (t) => {
  const { app } = await demo(t)
  const response = await app.inject('/docs/json')
  t.equal(response.statusCode, 200)
  const doc = response.json() as { openapi: string, paths: Record<string, Record<string, OpenApiOperation>> }
  t.match(doc.openapi, /^3\./)
  interface OpenApiOperation { requestBody?: { required?: boolean, content: Record<string, { schema: { properties?: Record<string, unknown> } }> }, responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>, security?: unknown }
  const routes: Array<{ path: string, method: string, body: string[] | null, bodyRequired?: boolean, statuses: string[], bearer: boolean }> = [
    { path: '/auth/login', method: 'post', body: ['username', 'password', 'clientId'], bodyRequired: true, statuses: ['200', '400', '401', '429'], bearer: false },
    { path: '/auth/refresh', method: 'post', body: ['refreshToken', 'clientId'], bodyRequired: false, statuses: ['200', '401', '403', '503'], bearer: false },
    { path: '/auth/logout', method: 'post', body: ['refreshToken', 'clientId'], bodyRequired: false, statuses: ['204', '403'], bearer: false },
    { path: '/auth/logout-all', method: 'post', body: null, statuses: ['204', '401'], bearer: true },
    { path: '/auth/sessions', method: 'get', body: null, statuses: ['200', '401'], bearer: true },
    { path: '/auth/sessions/{id}', method: 'delete', body: null, statuses: ['204', '401', '404'], bearer: true },
    { path: '/.well-known/jwks.json', method: 'get', body: null, statuses: ['200', '404'], bearer: false }
  ]
  for (const route of routes) {
    const operation = doc.paths[route.path]?.[route.method]
    if (operation === undefined) {
      t.fail(`${route.method.toUpperCase()} ${route.path} is missing`)
      continue
    }
    const name = `${route.method.toUpperCase()} ${route.path}`
    if (route.body === null) {
      t.equal(operation.requestBody, undefined, `${name}: no request body`)
    } else {
      const schema = operation.requestBody?.content['application/json']?.schema
      t.same(Object.keys(schema?.properties ?? {}).sort(), [...route.body].sort(), `${name}: request body schema`)
      if (route.bodyRequired === true) t.equal(operation.requestBody?.required, true, `${name}: body required`)
      else {
        t.equal(operation.requestBody?.required, false, `${name}: body optional (the cookie transport sends none)`)
        t.equal((operation as unknown as Record<string, unknown>)['x-body-optional'], undefined, `${name}: the marker is removed`)
      }
    }
    for (const status of route.statuses) {
      const answer = operation.responses[status]
      t.ok(answer, `${name}: documents ${status}`)
      if (status === '204') t.equal(answer?.content, undefined, `${name}: 204 has no content`)
      else t.ok(answer?.content?.['application/json']?.schema?.properties, `${name}: ${status} has a JSON schema`)
    }
    for (const [status, answer] of Object.entries(operation.responses)) {
      if (Number(status) >= 400) t.same(Object.keys(answer.content?.['application/json']?.schema.properties ?? {}).sort(), ['code', 'error', 'message', 'statusCode'], `${name}: ${status} is the error body`)
    }
    t.equal(operation.security !== undefined, route.bearer, `${name}: ${route.bearer ? 'bearer security' : 'no bearer'}`)
  }
  const token = doc.paths['/auth/login']!.post!.responses['200']!.content!['application/json']!.schema.properties!
  t.same(Object.keys(token).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType'])
  t.ok(doc.paths['/tasks'] && doc.paths['/tasks/{id}'] && doc.paths['/me'] && doc.paths['/admin/users'] && doc.paths['/auth/register'], 'demo routes too')
  for (const path of ['/passkeys', '/passkeys/registration-options', '/auth/passkey/login-options', '/auth/passkey/login', '/auth/passkey/reauthenticate-options', '/auth/passkey/reauthenticate', '/account/password', '/account']) t.ok(doc.paths[path], `and ${path}`)
  t.notOk(doc.paths['/'] ?? doc.paths['/client.js'], 'the page is hidden')
})

t.test('JWT_ALG: a generated key pair signs, the JWKS serves its public key', async (t) => {
  const expected = { EdDSA: { kty: 'OKP', crv: 'Ed25519' }, ES256: { kty: 'EC', crv: 'P-256' }, RS256: { kty: 'RSA' } } as const
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
    await t.test(alg, async (t) => {
      const { app } = await demo(t, { JWT_ALG: alg })
      const jwks = await app.inject('/.well-known/jwks.json')
      t.equal(jwks.statusCode, 200)
      const keys = (jwks.json() as { keys: Array<Record<string, unknown>> }).keys
      t.equal(keys.length, 1, 'one key')
      const key = keys[0]!
      t.match(key, { ...expected[alg], alg, kid: String })
      t.notOk('d' in key || 'p' in key || 'q' in key, 'no private part')
      const { accessToken } = await login(t, app, ALICE)
      const header = jwtPart(accessToken, 0)
      t.equal(header.alg, alg, 'the token carries the alg')
      t.equal(header.kid, key.kid, 'and the kid of the JWKS key')
      t.equal((await app.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 200, 'and verifies')
    })
  }
  await t.test('HS256 (default): no JWKS', async (t) => {
    const { app } = await demo(t)
    t.equal((await app.inject('/.well-known/jwks.json')).statusCode, 404)
    const { accessToken } = await login(t, app, ALICE)
    t.equal(jwtPart(accessToken, 0).alg, 'HS256')
  })
})

t.test('no REDIS_URL: the memory store, with its one warning', async (t) => {
  const { app, logs } = await demo(t)
  await login(t, app, ALICE)
  t.equal(logs().filter((line) => MEMORY_WARNING.test(line)).length, 1)
})

t.test('REDIS_URL: sessions live in Redis', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  t.teardown(() => { admin.disconnect() })
  await admin.connect()
  const { app, logs } = await demo(t, { REDIS_URL: server.url })
  t.same(await admin.keys('rs:*'), [], 'nothing before login')
  const alice = await login(t, app, ALICE)
  const keys = await admin.keys('rs:*')
  t.ok(keys.length > 0, `keys with the rs: prefix appear (${keys.join(', ')})`)
  t.same(await admin.keys('*'), keys, 'and nothing else')
  const dump = (await Promise.all(keys.map(async (key) => JSON.stringify(await dumpKey(admin, key))))).join('\n')
  // A user's only session lives in the user's index key (README, "Redis layout"), a second one in its own key.
  t.ok(keys.some((key) => key.includes(alice.sessionId)) || dump.includes(alice.sessionId), 'one of them holds the session')
  t.notOk(dump.includes(alice.refreshToken), 'the refresh token is not stored')
  t.notOk(dump.includes(alice.refreshToken.split('.').at(-1)!), 'nor its secret part')

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: alice.refreshToken } })
  t.equal(refreshed.statusCode, 200, 'refresh through Redis')
  const logout = await app.inject({ method: 'POST', url: '/auth/logout', cookies: { refresh_token: refreshed.cookies.find((c) => c.name === 'refresh_token')!.value } })
  t.equal(logout.statusCode, 204)
  const sessions = await app.inject({ url: '/auth/sessions', headers: bearer((await login(t, app, ALICE)).accessToken) })
  t.equal(sessions.json().sessions.length, 1, 'the logged-out session is gone from Redis, the new one listed')
  t.notOk(logs().some((line) => MEMORY_WARNING.test(line)), 'no in-memory warning')
})

t.test('REDIS_CLUSTER_NODES: login and refresh work on a Redis Cluster', async (t) => {
  const cluster = await redisClusterForTest(t)
  const { app, logs } = await demo(t, { REDIS_CLUSTER_NODES: cluster.nodes.map((node) => `${node.host}:${node.port}`).join(',') })
  let alice: LoggedIn | undefined
  // The Cluster client connects lazily and the demo does not queue while offline: give it a moment.
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: ALICE })
    if (response.statusCode !== 503) {
      t.equal(response.statusCode, 200, 'alice logs in')
      alice = { ...(response.json() as { accessToken: string, sessionId: string }), refreshToken: response.cookies.find((c) => c.name === 'refresh_token')?.value ?? '', response }
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (alice === undefined) throw new Error('the demo never reached the cluster')
  let cookie = alice.refreshToken
  for (let i = 0; i < 3; i++) {
    const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: cookie } })
    t.equal(refreshed.statusCode, 200, `refresh ${i + 1}`)
    cookie = refreshed.cookies.find((c) => c.name === 'refresh_token')!.value
    t.equal(refreshed.json().sessionId, alice.sessionId)
  }
  const sessions = await app.inject({ url: '/auth/sessions', headers: bearer(alice.accessToken) })
  t.equal(sessions.statusCode, 200)
  t.ok(sessions.json().sessions.some((s: { id: string }) => s.id === alice.sessionId), 'listed')
  t.notOk(logs().some((line) => MEMORY_WARNING.test(line)), 'no in-memory warning')
})

async function dumpKey (redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key)
  if (type === 'string') return await redis.get(key)
  if (type === 'hash') return await redis.hgetall(key)
  if (type === 'zset') return await redis.zrange(key, 0, -1, 'WITHSCORES')
  if (type === 'set') return await redis.smembers(key)
  if (type === 'list') return await redis.lrange(key, 0, -1)
  return type
}
