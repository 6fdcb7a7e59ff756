/**
 * The client follows an RFC 9470 step-up challenge over real HTTP: a 401 AUTH_STEP_UP_REQUIRED
 * goes to the app's onStepUp (with max_age / acr_values parsed), which re-authenticates (password
 * through client.reauthenticate, or its own passkey route then acceptTokens), and the request is
 * retried once. Without onStepUp, or when it fails or does nothing, the caller gets the 401.
 * Requests are counted server-side. The clock is moved ahead (Date.now) to age the sign-in.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { ClientError, RefreshSessionsClient, type ClientOptions, type StepUpChallenge } from '../src/client/index.js'
import { ALICE, buildApp } from './helpers/build-app.js'

interface Server { app: FastifyInstance, url: string, hits: Map<string, number> }

async function startServer (t: Test): Promise<Server> {
  const hits = new Map<string, number>()
  const { app } = await buildApp(t, {
    options: { transport: 'body' },
    routes: (app) => {
      app.addHook('onRequest', async (request) => { hits.set(request.url, (hits.get(request.url) ?? 0) + 1) })
      app.get('/recent', { preHandler: [app.authenticate, app.requireRecentAuth({ maxAge: 60 })] }, async () => ({ ok: 'recent' }))
      app.get('/passkey-only', { preHandler: [app.authenticate, app.requireRecentAuth({ amr: ['hwk'] })] }, async () => ({ ok: 'passkey' }))
      app.post('/passkeys/reauthenticate', { preHandler: app.authenticate }, async (request, reply) => await app.refreshSessions.reauthenticate(request, reply, { amr: ['hwk'] }))
    }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address() as { port: number }
  return { app, url: `http://127.0.0.1:${address.port}`, hits }
}

function advanceClock (t: Test, ms: number): void {
  const realNow = Date.now
  Date.now = () => realNow() + ms
  t.teardown(() => { Date.now = realNow })
}

async function signedIn (t: Test, server: Server, options: ClientOptions = {}): Promise<RefreshSessionsClient> {
  let kept: string | null = null
  const client = new RefreshSessionsClient({ baseUrl: server.url, transport: 'body', refreshTokenStore: { get: () => kept, set: (token) => { kept = token } }, ...options })
  t.teardown(() => client.close())
  await client.login(ALICE.username, ALICE.password)
  return client
}

t.test('too old: onStepUp({ maxAge }) re-authenticates with the password, and the request is retried once', async (t) => {
  const server = await startServer(t)
  const challenges: StepUpChallenge[] = []
  const client: RefreshSessionsClient = await signedIn(t, server, {
    onStepUp: async (challenge) => {
      challenges.push(challenge)
      await client.reauthenticate(ALICE.username, ALICE.password)
    }
  })
  const sessionId = client.sessionId
  t.equal((await client.fetch('/recent')).status, 200, 'fresh: no step-up')
  advanceClock(t, 120_000)
  const response = await client.fetch('/recent')
  t.equal(response.status, 200)
  t.same(await response.json(), { ok: 'recent' })
  t.same(challenges, [{ maxAge: 60, amr: [] }])
  t.equal(server.hits.get('/recent'), 3, 'fresh, refused, retried')
  t.equal(server.hits.get('/auth/reauthenticate'), 1)
  t.equal(server.hits.get('/auth/refresh'), undefined, 'no refresh: the access token was valid all along')
  t.equal(client.sessionId, sessionId, 'the same session')
})

t.test('wrong method: onStepUp({ amr }) uses the app\'s passkey route, then acceptTokens', async (t) => {
  const server = await startServer(t)
  const challenges: StepUpChallenge[] = []
  const client: RefreshSessionsClient = await signedIn(t, server, {
    onStepUp: async (challenge) => {
      challenges.push(challenge)
      const passkey = await client.fetch('/passkeys/reauthenticate', { method: 'POST' })
      client.acceptTokens(await passkey.json())
    }
  })
  const response = await client.fetch('/passkey-only')
  t.equal(response.status, 200)
  t.same(challenges, [{ maxAge: null, amr: ['hwk'] }])
  t.equal(server.hits.get('/passkey-only'), 2)
})

t.test('concurrent refusals share one re-authentication', async (t) => {
  const server = await startServer(t)
  let prompts = 0
  const client: RefreshSessionsClient = await signedIn(t, server, {
    onStepUp: async () => {
      prompts++
      await client.reauthenticate(ALICE.username, ALICE.password)
    }
  })
  advanceClock(t, 120_000)
  const responses = await Promise.all(Array.from({ length: 5 }, async () => await client.fetch('/recent')))
  t.same(responses.map((r) => r.status), [200, 200, 200, 200, 200])
  t.equal(prompts, 1, 'one prompt')
  t.equal(server.hits.get('/auth/reauthenticate'), 1)
})

t.test('the caller gets the 401 when there is no onStepUp, when it throws, or when it does not re-authenticate; retried at most once', async (t) => {
  const server = await startServer(t)
  const expectStepUp = async (response: Response, what: string): Promise<void> => {
    t.equal(response.status, 401, what)
    t.equal((await response.json()).code, 'AUTH_STEP_UP_REQUIRED', what)
    t.equal(response.headers.get('www-authenticate'), 'Bearer error="insufficient_user_authentication", error_description="A different authentication method is required", acr_values="hwk"', what)
  }

  const none = await signedIn(t, server)
  await expectStepUp(await none.fetch('/passkey-only'), 'no onStepUp')
  t.equal(server.hits.get('/passkey-only'), 1, 'not retried')

  const throwing = await signedIn(t, server, { onStepUp: async () => { throw new Error('the user closed the dialog') } })
  await expectStepUp(await throwing.fetch('/passkey-only'), 'onStepUp threw')
  t.equal(server.hits.get('/passkey-only'), 2, 'not retried')

  const idle = await signedIn(t, server, { onStepUp: () => {} })
  await expectStepUp(await idle.fetch('/passkey-only'), 'onStepUp did not re-authenticate')
  t.equal(server.hits.get('/passkey-only'), 3, 'not retried: nothing new to send')

  let calls = 0
  const insufficient: RefreshSessionsClient = await signedIn(t, server, {
    onStepUp: async () => {
      calls++
      await insufficient.reauthenticate(ALICE.username, ALICE.password)
    }
  })
  // A second later, so that the re-authenticated token differs from the login's (same second, same claims: the same JWT).
  advanceClock(t, 2000)
  await expectStepUp(await insufficient.fetch('/passkey-only'), 'a password where a passkey is required')
  t.equal(calls, 1, 'asked once')
  t.equal(server.hits.get('/passkey-only'), 5, 'retried once, then the 401 goes to the caller')
})

t.test('reauthenticate with a wrong password throws ClientError 401 AUTH_INVALID_CREDENTIALS and keeps the session', async (t) => {
  const server = await startServer(t)
  const client = await signedIn(t, server)
  const token = client.accessToken
  const error = await client.reauthenticate(ALICE.username, 'wrong-password').catch((caught: unknown) => caught)
  t.ok(error instanceof ClientError)
  t.match(error, { status: 401, code: 'AUTH_INVALID_CREDENTIALS' })
  t.equal(client.accessToken, token, 'the access token is kept')
})
