/**
 * The client with `dpop`: a non-extractable ES256 WebCrypto key (memory in Node), proofs on login,
 * refresh and API calls, one refresh for concurrent callers, a `use_dpop_nonce` answer retried
 * once; against a real listening app with the body transport.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { RefreshSessionsClient, type DpopKeyStore } from '../src/client/index.js'
import { ALICE, buildApp } from './helpers/build-app.js'

async function listening (t: Parameters<typeof buildApp>[0], options: Record<string, unknown> = {}): Promise<{ app: FastifyInstance, url: string, events: Record<string, unknown[]>, requests: string[], proofs: boolean[] }> {
  const requests: string[] = []
  const proofs: boolean[] = []
  const built = await buildApp(t, {
    options: { transport: 'body', ...options },
    routes: (app) => {
      app.addHook('onResponse', async (request, reply) => {
        requests.push(`${request.method} ${request.url.split('?')[0]} ${reply.statusCode}`)
        proofs.push(request.headers.dpop !== undefined)
      })
      app.post('/tasks', { preHandler: app.authenticate }, async (request) => ({ by: request.user.id }))
    }
  })
  const url = await built.app.listen({ host: '127.0.0.1', port: 0 })
  return { app: built.app, url, events: built.events, requests, proofs }
}

const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

t.test('login binds the session to the client\'s key; API calls and refreshes carry proofs; one refresh for many callers', async (t) => {
  const { url, events, requests, proofs } = await listening(t)
  let saved: CryptoKeyPair | null = null
  const store: DpopKeyStore = { load: async () => saved, save: async (pair) => { saved = pair } }
  const client = new RefreshSessionsClient({ baseUrl: url, transport: 'body', dpop: store })
  t.teardown(() => client.close())
  const body = await client.login(ALICE.username, ALICE.password)
  t.equal(body.tokenType, 'DPoP')
  t.equal(client.tokenType, 'DPoP')
  const thumbprint = await client.dpopThumbprint()
  t.match(thumbprint, /^[A-Za-z0-9_-]{43}$/)
  t.same(claimsOf(body.accessToken).cnf, { jkt: thumbprint }, 'the access token names the client\'s key (RFC 7638 thumbprint, computed alike on both sides)')
  t.equal(saved!.privateKey.extractable, false, 'the private key cannot be exported')
  t.equal(saved!.privateKey.algorithm.name, 'ECDSA')
  t.ok(proofs.every(Boolean), 'the login carried a proof')

  const me = await client.fetch('/me')
  t.equal(me.status, 200, 'GET with Authorization: DPoP and a proof')
  const posted = await client.fetch('/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.same(await posted.json(), { by: ALICE.id }, 'POST: htm follows the method')

  const tokens = await Promise.all(Array.from({ length: 5 }, async () => await client.refresh(client.accessToken)))
  t.equal(new Set(tokens).size, 1, 'one new token for all')
  t.equal(events.onRefresh!.length, 1, 'one refresh for five callers')
  t.match(claimsOf(tokens[0]!).cnf, { jkt: thumbprint })
  t.equal((await client.fetch('/me')).status, 200, 'the new token with a new proof')
  t.notOk(requests.some((line) => line.endsWith(' 401')), 'no refusal on the way')

  // What an infostealer copies: the refresh token, not the key.
  const copied = await fetch(`${url}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: body.refreshToken }) })
  t.equal(copied.status, 401)
  t.equal((await copied.json()).code, 'AUTH_REFRESH_UNBOUND', 'a copied refresh token is refused without the key (before its retirement is even looked at)')
  t.equal(events.onReuseDetected, undefined, 'and cannot even revoke the session')
  t.equal((await client.fetch('/me')).status, 200)
  t.same(proofs, [true, true, true, true, true, false, true], 'every request of the client carried a proof (the copy did not)')
})

t.test('server nonces: the first proof is answered use_dpop_nonce and retried once with the nonce; later proofs carry it', async (t) => {
  const { url, requests } = await listening(t, { dpop: { nonce: { secret: 'a-nonce-secret-of-at-least-32-bytes-long!' } } })
  const client = new RefreshSessionsClient({ baseUrl: url, transport: 'body', dpop: true })
  t.teardown(() => client.close())
  await client.login(ALICE.username, ALICE.password)
  t.same(requests, ['POST /auth/login 401', 'POST /auth/login 200'], 'one retry, with the nonce')
  requests.length = 0
  await client.refresh(client.accessToken)
  t.equal((await client.fetch('/me')).status, 200)
  t.same(requests, ['POST /auth/refresh 200', 'GET /me 200'], 'the remembered nonce: no more retries')
})

t.test('without dpop the client is unchanged: Bearer tokens, no proofs', async (t) => {
  const { url, proofs } = await listening(t)
  const client = new RefreshSessionsClient({ baseUrl: url, transport: 'body' })
  t.teardown(() => client.close())
  t.equal((await client.login(ALICE.username, ALICE.password)).tokenType, 'Bearer')
  t.equal(await client.dpopThumbprint(), null)
  t.equal((await client.fetch('/me')).status, 200)
  t.same(proofs, [false, false], 'no DPoP header sent')
})
