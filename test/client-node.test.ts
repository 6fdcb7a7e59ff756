/**
 * The client (src/client, SPEC 9) in Node against the demo over real HTTP, in both ways a Node
 * program can hold the refresh token: the cookie transport through a small cookie-jar fetch, and
 * the body transport (TRANSPORT=both on the server). Refresh requests are counted server-side.
 */
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RefreshSessionsClient, type ClientOptions, type SessionLostReason } from '../src/client/index.js'
import { cookieJarFetch } from './helpers/cookie-jar.js'
import { startDemo, type DemoServer } from './helpers/demo-server.js'
import { redisForTest } from '../support/redis-harness.js'

const ALICE = { username: 'alice', password: 'alice-password-1' }
const SECRET_A = 'client-node-test-secret-A-0123456789abcdef'
const SECRET_B = 'client-node-test-secret-B-0123456789abcdef'

interface Variant {
  name: string
  env: Record<string, string>
  client: (server: DemoServer) => { options: ClientOptions, hasRefreshToken: () => boolean }
}

const VARIANTS: Variant[] = [
  {
    name: 'cookie transport, cookie-jar fetch',
    env: { TRANSPORT: 'cookie' },
    client: (server) => {
      const jar = cookieJarFetch()
      return { options: { baseUrl: server.url, fetch: jar.fetch, transport: 'cookie' }, hasRefreshToken: () => jar.cookies.has('refresh_token') }
    }
  },
  {
    name: 'body transport (TRANSPORT=both)',
    env: { TRANSPORT: 'both' },
    client: () => {
      let kept: string | null = null
      return { options: { transport: 'body', refreshTokenStore: { get: () => kept, set: (token) => { kept = token } } }, hasRefreshToken: () => kept !== null }
    }
  }
]

interface Watched {
  client: RefreshSessionsClient
  lost: SessionLostReason[]
  tokens: string[]
  hasRefreshToken: () => boolean
}

function makeClient (t: Test, server: DemoServer, variant: Variant): Watched {
  const { options, hasRefreshToken } = variant.client(server)
  const client = new RefreshSessionsClient({ baseUrl: server.url, ...options })
  t.teardown(() => client.close())
  const watched: Watched = { client, lost: [], tokens: [], hasRefreshToken }
  client.addEventListener('session-lost', (event) => { watched.lost.push((event as CustomEvent<{ reason: SessionLostReason }>).detail.reason) })
  client.addEventListener('token', (event) => { watched.tokens.push((event as CustomEvent<{ accessToken: string }>).detail.accessToken) })
  return watched
}

/** Until the client's idea of expiry has passed (the server's `exp`, in whole seconds, is never later). */
async function untilExpired (client: RefreshSessionsClient): Promise<void> {
  await sleep(Math.max(0, client.expiresAt - Date.now()) + 50)
}

const since = (server: DemoServer, start: number): string[] =>
  server.requests().slice(start).map((r) => `${r.method} ${r.path} ${r.statusCode}`)

for (const variant of VARIANTS) {
  t.test(variant.name, async (t) => {
    const server = await startDemo(t, { env: { ACCESS_TOKEN_TTL: '2s', COOKIE_SECURE: 'false', ...variant.env } })

    t.test('a fresh token: no refresh; after expiry 50 concurrent fetches make ONE refresh', async (t) => {
      const { client, tokens, lost, hasRefreshToken } = makeClient(t, server, variant)
      const body = await client.login(ALICE.username, ALICE.password)
      t.equal(body.tokenType, 'Bearer')
      t.equal(body.expiresIn, 2)
      t.equal(client.accessToken, body.accessToken)
      t.equal(client.sessionId, body.sessionId)
      t.ok(hasRefreshToken(), 'the refresh token is kept (cookie jar / store)')
      t.equal(tokens.length, 1, "login emits 'token'")

      const fresh = await client.fetch('/tasks')
      t.equal(fresh.status, 200, 'a relative path goes to baseUrl')
      t.same(await fresh.json(), { tasks: [] })
      t.equal(server.refreshRequests(), 0, 'fresh token: no refresh')

      await untilExpired(client)
      t.equal(server.refreshRequests(), 0, 'no timer without autoRefresh')
      const before = server.requests().length
      const responses = await Promise.all(Array.from({ length: 50 }, () => client.fetch('/tasks')))
      t.same(responses.map((r) => r.status), Array(50).fill(200), 'all 50 succeed')
      t.equal(server.refreshRequests(), 1, 'exactly one refresh reached the server')
      const seen = since(server, before)
      t.equal(seen.filter((line) => line === 'GET /tasks 401').length, 0, 'the expired token was never sent')
      t.equal(seen.filter((line) => line === 'GET /tasks 200').length, 50)
      t.equal(tokens.length, 2, "one new 'token'")
      t.not(client.accessToken, body.accessToken)
      t.equal(client.sessionId, body.sessionId, 'same session')
      t.same(lost, [])
    })

    t.test('refreshes ahead of expiry', async (t) => {
      const { client } = makeClient(t, server, variant)
      await client.login(ALICE.username, ALICE.password)
      const first = client.accessToken
      server.resetRefreshRequests()
      // The client refreshes in the last fifth of a short token's life (or 30 s ahead of a long one).
      await sleep(client.expiresAt - Date.now() - 330)
      t.ok(Date.now() < client.expiresAt, 'the token has not expired yet (client clock)')
      const before = server.requests().length
      const response = await client.fetch('/tasks')
      t.equal(response.status, 200)
      t.equal(server.refreshRequests(), 1, 'refreshed before sending')
      t.same(since(server, before), ['POST /auth/refresh 200', 'GET /tasks 200'], 'and no 401 on the way')
      t.not(client.accessToken, first)
      t.ok(client.expiresAt - Date.now() > 1500, 'a full new life')
    })

    t.test('logout forgets the tokens and ends the session', async (t) => {
      const watched = makeClient(t, server, variant)
      const { client } = watched
      await client.login(ALICE.username, ALICE.password)
      const sessionId = client.sessionId
      await client.logout()
      t.equal(client.accessToken, null)
      t.equal(client.sessionId, null)
      t.equal(client.expiresAt, 0)
      t.notOk(watched.hasRefreshToken(), 'refresh token forgotten')
      t.same(watched.lost, ['logged-out'])
      server.resetRefreshRequests()
      const after = await client.fetch('/tasks')
      t.equal(after.status, 401, 'no token any more')
      t.equal(server.refreshRequests(), variant.env.TRANSPORT === 'cookie' ? 1 : 0, 'one refresh attempt at most (body: nothing to send)')
      t.same(watched.lost, ['logged-out'], "no second 'session-lost' for an already logged-out client")
      const other = makeClient(t, server, variant)
      await other.client.login(ALICE.username, ALICE.password)
      const sessions = await other.client.fetch('/auth/sessions')
      t.notOk((await sessions.json() as { sessions: Array<{ id: string }> }).sessions.some((s) => s.id === sessionId), 'the session is gone server-side')
      await other.client.logout()
    })

    t.test('revoked elsewhere: the next refresh fails, session-lost fires exactly once', async (t) => {
      const all = makeClient(t, server, variant)
      const one = makeClient(t, server, variant)
      const admin = makeClient(t, server, variant)
      await all.client.login(ALICE.username, ALICE.password)
      await one.client.login(ALICE.username, ALICE.password)
      const other = makeClient(t, server, variant)
      await other.client.login(ALICE.username, ALICE.password)
      await admin.client.login('admin', 'admin-password-1')

      // DELETE of one session by another client of the same user.
      const deleted = await other.client.fetch(`/auth/sessions/${one.client.sessionId!}`, { method: 'DELETE' })
      t.equal(deleted.status, 204)
      // Then that other client logs out everywhere: `all` loses its session too.
      await other.client.logoutAll()
      t.same(other.lost, ['logged-out'])
      t.equal(other.client.accessToken, null)

      t.equal((await all.client.fetch('/tasks')).status, 200, 'an unexpired access token still works (authenticate does not look up the session)')
      await untilExpired(all.client)
      server.resetRefreshRequests()
      const [allResponses, oneResponses] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => all.client.fetch('/tasks'))),
        Promise.all(Array.from({ length: 10 }, () => one.client.fetch('/tasks')))
      ])
      t.same(allResponses.map((r) => r.status), Array(10).fill(401), 'after logout-all: 401s')
      t.same(oneResponses.map((r) => r.status), Array(10).fill(401), 'after DELETE: 401s')
      t.equal(server.refreshRequests(), 2, 'one failed refresh per client')
      t.same(all.lost, ['refresh-failed'], "logout-all: one 'session-lost'")
      t.same(one.lost, ['refresh-failed'], "DELETE: one 'session-lost'")
      t.equal(all.client.accessToken, null)
      t.notOk(all.hasRefreshToken(), 'the dead refresh token is dropped')

      await all.client.fetch('/tasks')
      await one.client.refresh()
      t.same(all.lost, ['refresh-failed'], 'still once after more calls')
      t.same(one.lost, ['refresh-failed'], 'still once after more calls')
      t.same(admin.lost, [], "another user's session is untouched")
      t.equal((await admin.client.fetch('/tasks')).status, 200)
    })
  })
}

t.test('a 401 invalid_token (server restarted with another JWT secret): one refresh, one retry', async (t) => {
  const redis = await redisForTest(t, { allowExternal: false })
  for (const variant of VARIANTS) {
    await t.test(variant.name, async (t) => {
      const env = { ACCESS_TOKEN_TTL: '60s', COOKIE_SECURE: 'false', REDIS_URL: redis.url, ...variant.env }
      const first = await startDemo(t, { env: { ...env, JWT_SECRET: SECRET_A } })
      const { client, lost } = makeClient(t, first, variant)
      await client.login(ALICE.username, ALICE.password)
      const old = client.accessToken
      t.equal((await client.fetch('/tasks')).status, 200)
      await first.close()

      // Sessions live in Redis: the refresh token survives the restart, the access token does not.
      const second = await startDemo(t, { port: first.port, env: { ...env, JWT_SECRET: SECRET_B } })
      t.equal(second.url, first.url)
      const response = await client.fetch('/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'after restart' }) })
      t.equal(response.status, 201, 'the retried request succeeds')
      t.match(await response.json(), { title: 'after restart' })
      t.same(since(second, 0), ['POST /tasks 401', 'POST /auth/refresh 200', 'POST /tasks 201'], 'one refusal, one refresh, one retry')
      t.not(client.accessToken, old)

      // Restart again: 50 concurrent requests all refused at once still make one refresh.
      await second.close()
      const third = await startDemo(t, { port: first.port, env: { ...env, JWT_SECRET: SECRET_A } })
      const responses = await Promise.all(Array.from({ length: 50 }, () => client.fetch('/tasks')))
      t.same(responses.map((r) => r.status), Array(50).fill(200), 'all 50 succeed')
      t.equal(third.refreshRequests(), 1, 'exactly one refresh for 50 refusals')
      const seen = since(third, 0)
      t.equal(seen.filter((line) => line === 'GET /tasks 200').length, 50)
      t.ok(seen.filter((line) => line === 'GET /tasks 401').length >= 1, 'they were refused first')
      t.same(lost, [])

      // The caller's own Authorization header does not get in the way.
      const refused = await client.fetch('/tasks', { headers: { authorization: 'Bearer x' } })
      t.equal(refused.status, 200, "the client's Bearer header replaces the caller's")
    })
  }
})
