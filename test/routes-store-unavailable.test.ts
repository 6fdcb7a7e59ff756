/**
 * The plugin on a real redis-server that is stopped (SIGKILL) and hung (SIGSTOP): every route that
 * needs the store answers 503 AUTH_STORE_UNAVAILABLE fast, never a hang or a 500, never logs the
 * user out; stateless routes keep working; service comes back by itself.
 */
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, buildApp, login } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const UNAVAILABLE = { statusCode: 503, code: 'AUTH_STORE_UNAVAILABLE', error: 'Service Unavailable', message: 'The session store is unavailable' }
/** The plugin's default command timeout (SPEC 3). */
const COMMAND_TIMEOUT_MS = 1000
/**
 * Upper bound for a 503: three command timeouts plus a second, the slack a loaded 2-core runner
 * needs. It tells "gave up" from a hang (without a timeout a request to a hung Redis never ends);
 * the hung test's lower bound (>= the timeout) proves that the timeout, not an error, ended it.
 */
const FAIL_FAST_MS = 3 * COMMAND_TIMEOUT_MS + 1000

async function timed (what: () => Promise<LightMyRequestResponse>): Promise<{ response: LightMyRequestResponse, ms: number }> {
  const started = Date.now()
  const response = await what()
  return { response, ms: Date.now() - started }
}

function requests (app: FastifyInstance, tokens: { refreshToken: string, accessToken: string, sessionId: string }): Array<[string, () => Promise<LightMyRequestResponse>]> {
  const auth = { authorization: `Bearer ${tokens.accessToken}` }
  return [
    ['login', () => app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })],
    ['refresh', () => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: tokens.refreshToken } })],
    ['logout', () => app.inject({ method: 'POST', url: '/auth/logout', cookies: { refresh_token: tokens.refreshToken } })],
    ['logout-all', () => app.inject({ method: 'POST', url: '/auth/logout-all', headers: auth })],
    ['GET sessions', () => app.inject({ url: '/auth/sessions', headers: auth })],
    ['DELETE session', () => app.inject({ method: 'DELETE', url: `/auth/sessions/${tokens.sessionId}`, headers: auth })],
    ['authenticateSession route', () => app.inject({ url: '/me/strict', headers: auth })]
  ]
}

async function assertUnavailable (t: Test, app: FastifyInstance, tokens: Parameters<typeof requests>[1]): Promise<void> {
  for (const [what, request] of requests(app, tokens)) {
    const { response, ms } = await timed(request)
    t.equal(response.statusCode, 503, what)
    t.same(response.json(), UNAVAILABLE, `${what}: stable body, no cause, no stack`)
    t.equal(response.headers['set-cookie'], undefined, `${what}: a store outage never clears the cookie (it is not a logout)`)
    t.ok(ms <= FAIL_FAST_MS, `${what} answered in ${ms} ms`)
  }
  const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${tokens.accessToken}` } })
  t.equal(me.statusCode, 200, '/me (authenticate: no store) still works during the outage')
}

async function eventually (what: () => Promise<LightMyRequestResponse>, withinMs: number): Promise<{ response: LightMyRequestResponse, ms: number }> {
  const started = Date.now()
  for (;;) {
    const response = await what()
    if (response.statusCode !== 503 || Date.now() - started > withinMs) return { response, ms: Date.now() - started }
    await sleep(100)
  }
}

t.test('Redis stopped: 503 from every store route, /me still 200; restarted: the same session refreshes again', async (t) => {
  // appendonly: the session written before the stop is still there after the restart.
  const server = await redisForTest(t, { allowExternal: false, appendonly: true })
  const redis = await connectRedis(t, server)
  const { app, logs } = await buildApp(t, { captureLogs: true, options: { redis, prefix: uniquePrefix('routes-503') } })
  const alice = await login(app, ALICE)

  await server.stop()
  await assertUnavailable(t, app, alice)

  await server.start()
  const { response, ms } = await eventually(() => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: alice.refreshToken } }), 5000)
  // eventually() stops trying after 5 s (issue 6: back within 5 s; ioredis reconnects every 100 ms here).
  t.equal(response.statusCode, 200, `refresh works again ${ms} ms after the restart`)
  t.equal(response.json().sessionId, alice.sessionId, 'the same session')
  t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })).statusCode, 200, 'login works again')

  const text = logs.join('')
  t.match(text, /session store unavailable/, 'the outage is logged')
  t.notOk(text.includes(alice.refreshToken.split('.')[2]!), 'no refresh secret in the logs')
  t.notOk(text.includes(alice.accessToken), 'no access token in the logs')
  t.notOk(/"level":50/.test(text) && /AUTH_INTERNAL_ERROR|request failed/.test(text), 'no 500-class error logged')
})

t.test('Redis hung (SIGSTOP): 503 after the command timeout, not a hang; SIGCONT: back to normal', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const { app, events } = await buildApp(t, { options: { redis, prefix: uniquePrefix('routes-hung') } })
  const alice = await login(app, ALICE)
  process.kill(server.pid!, 'SIGSTOP')
  t.teardown(() => { try { process.kill(server.pid!, 'SIGCONT') } catch {} })

  // One store route under the hang (each costs the full timeout); the others are covered above.
  const { response, ms } = await timed(() => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: alice.refreshToken } }))
  t.equal(response.statusCode, 503)
  t.same(response.json(), UNAVAILABLE)
  t.equal(response.headers['set-cookie'], undefined)
  // Timers never fire early: a 503 before the timeout would be an error path, not the timeout.
  t.ok(ms >= COMMAND_TIMEOUT_MS - 5 && ms <= FAIL_FAST_MS, `gave up at the command timeout (${ms} ms)`)

  process.kill(server.pid!, 'SIGCONT')
  const back = await eventually(() => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: alice.refreshToken } }), 5000)
  t.equal(back.response.statusCode, 200, `refresh works after SIGCONT (${back.ms} ms)`)
  // The timed-out rotation ran once Redis woke up, past its deadline: it wrote nothing, so the
  // client's retry with the same token is a plain rotation, not a grace replay and not reuse.
  t.same((events.onRefresh as Array<{ grace: boolean }>).map((e) => e.grace), [false], 'the retry rotated: the 503 changed nothing')
  t.equal(events.onReuseDetected, undefined)
})
