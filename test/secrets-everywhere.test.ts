/**
 * Issue 6, item 6: the end-to-end secrets sweep. One scenario runs every flow of the plugin on a
 * real Redis with every log line captured at level trace — login ok / failed / rate-limited /
 * disabled / rehashed, refresh by cookie and by body, grace replay, reuse, loadUser refusing a
 * disabled user, logout (cookie, body, again), logout-all, sessions list, delete (own, missing,
 * someone else's), bad and expired tokens, cross-site requests, hooks and findUser / loadUser that
 * throw errors quoting their input, and 503s with Redis stopped — recording every request and
 * response. Then it sweeps, for every access token, refresh token, refresh secret (whole, first
 * 16 characters, and its raw bytes as hex / base64), password, password hash (and its digest) and
 * the HS256 secret:
 *
 *   - every log line;
 *   - every response body (a token response minus its own accessToken / refreshToken fields),
 *     every error message, and every GET /auth/sessions output;
 *   - every response header; Set-Cookie may carry only the refresh token of that same response
 *     (or clear it);
 *   - every key name and value under the prefix in Redis (text and raw bytes).
 *
 * An EdDSA + RS256 key-set app is swept for any PEM and any private JWK member in logs,
 * responses and Redis, and the plugin's start-up errors for the secret or key they refuse.
 * (logs-no-secrets.test.ts checks log lines flow by flow; this file is the sweep over everything.)
 */
import t from 'tap'
import argon2 from 'argon2'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyRequest, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import type { Redis } from 'ioredis'
import refreshSessions, { type RefreshSessionsOptions } from '../src/index.js'
import { ADMIN, ALICE, BOB, FAST_ARGON2, HS256_SECRET, buildApp, refreshCookie, type TestUser } from './helpers/build-app.js'
import { claims, nowSeconds, publicPem, signJwt } from './helpers/jwt.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const WRONG_PASSWORD = 'wrong-password-5e1b9a'
const DORA: TestUser = { id: 'u-dora', username: 'dora', password: 'dora-password-1', roles: ['user'], disabled: true }
/** Logs in with an argon2i hash: the plugin rehashes and hands the new hash to onPasswordRehash. */
const CAROL: TestUser = { id: 'u-carol', username: 'carol', password: 'carol-password-1', roles: ['user'] }
/** loadUser throws for her, quoting its input. */
const ERIN: TestUser = { id: 'u-erin', username: 'erin', password: 'erin-password-1', roles: ['user'] }
/** Disabled after login: her next refresh is refused and the session revoked. */
const FRANK: TestUser = { id: 'u-frank', username: 'frank', password: 'frank-password-1', roles: ['user'] }
/** findUser throws for this username, quoting it. */
const BROKEN_USERNAME = 'db-is-down'

// ---------------------------------------------------------------- what must never leak

class Secrets {
  readonly #text = new Map<string, string>()
  readonly #bytes: Array<[Buffer, string]> = []

  add (label: string, value: unknown): void {
    if (typeof value !== 'string' || value.length < 8) return
    for (const form of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) this.#text.set(form, label)
  }

  addBytes (label: string, value: Buffer): void {
    this.#bytes.push([value, label])
    this.add(`${label} (hex)`, value.toString('hex'))
    this.add(`${label} (base64)`, value.toString('base64'))
  }

  addAccess (token: unknown): void {
    if (typeof token !== 'string') return
    this.add('access token', token)
    const signature = token.split('.')[2]
    this.add('access token signature', signature)
    if (signature !== undefined && new Set(signature).size >= 16) this.add('access token signature prefix', signature.slice(0, 16))
  }

  addRefresh (token: unknown): void {
    if (typeof token !== 'string' || token === '') return
    this.add('refresh token', token)
    const secret = token.split('.')[2]
    if (secret === undefined || secret.length < 16) return
    this.add('refresh secret', secret)
    // Parts of a real (random) secret; not of a hand-made 'AAAA...' one, which any run of A's would match.
    if (new Set(secret).size < 16) return
    this.add('refresh secret prefix', secret.slice(0, 16))
    this.addBytes('refresh secret bytes', Buffer.from(secret, 'base64url').subarray(0, 12))
  }

  addHash (label: string, hash: unknown): void {
    if (typeof hash !== 'string') return
    this.add(label, hash)
    this.add(`${label} digest`, hash.split('$').at(-1))
  }

  /** Labels of the secrets found in text. */
  find (text: string): string[] {
    const found = new Set<string>()
    for (const [value, label] of this.#text) if (text.includes(value)) found.add(label)
    return [...found]
  }

  findBytes (bytes: Buffer): string[] {
    const found = new Set<string>()
    for (const [value, label] of this.#text) if (bytes.includes(Buffer.from(value))) found.add(label)
    for (const [value, label] of this.#bytes) if (bytes.includes(value)) found.add(label)
    return [...found]
  }

  get size (): number {
    return this.#text.size + this.#bytes.length
  }
}

// ---------------------------------------------------------------- every request and response

interface Exchange {
  label: string
  request: InjectOptions
  response: LightMyRequestResponse
}

class Recorder {
  readonly exchanges: Exchange[] = []
  constructor (readonly app: FastifyInstance, readonly secrets: Secrets) {}

  async send (label: string, request: InjectOptions): Promise<LightMyRequestResponse> {
    const response = await this.app.inject(request)
    this.exchanges.push({ label, request, response })
    const body = this.json(response)
    if (body !== null) {
      this.secrets.addAccess(body.accessToken)
      this.secrets.addRefresh(body.refreshToken)
    }
    this.secrets.addRefresh(refreshCookie(response)?.value)
    return response
  }

  json (response: LightMyRequestResponse): Record<string, unknown> | null {
    try {
      const body: unknown = response.json()
      return body !== null && typeof body === 'object' ? body as Record<string, unknown> : null
    } catch {
      return null
    }
  }

  /** Where a response shows a secret it should not: body (minus its own token fields), headers, cookies. */
  leaks (): string[] {
    const found: string[] = []
    for (const { label, response } of this.exchanges) {
      const body = this.json(response)
      const where = `${label} (${response.statusCode})`
      const ownTokens = body !== null && typeof body.accessToken === 'string'
      const rest = ownTokens ? JSON.stringify({ ...body, accessToken: undefined, refreshToken: undefined }) : response.body
      for (const secret of this.secrets.find(rest)) found.push(`${secret} in the body of ${where}`)
      const { 'set-cookie': setCookie, ...headers } = response.headers
      for (const secret of this.secrets.find(JSON.stringify(headers))) found.push(`${secret} in a header of ${where}`)
      for (const cookie of response.cookies as Array<{ name: string, value: string }>) {
        if (cookie.name !== 'refresh_token') found.push(`unexpected cookie ${cookie.name} in ${where}`)
        else if (cookie.value !== '' && cookie.value !== body?.refreshToken) found.push(`a refresh cookie other than the response's own token in ${where}`)
      }
      const cookieHeaders = [setCookie ?? []].flat().map((value) => String(value).replace(/^refresh_token=[^;]*/, 'refresh_token=<own>'))
      for (const secret of this.secrets.find(cookieHeaders.join('\n'))) found.push(`${secret} in the Set-Cookie attributes of ${where}`)
    }
    return found
  }
}

const loginRequest = (user: TestUser, password = user.password, extra: Partial<InjectOptions> = {}): InjectOptions => ({ method: 'POST', url: '/auth/login', payload: { username: user.username, password }, ...extra })
const cookieRefresh = (url: string, token: string, headers: Record<string, string> = {}): InjectOptions => ({ method: 'POST', url, headers: { cookie: `refresh_token=${token}`, ...headers } })
const bodyRefresh = (url: string, token: string): InjectOptions => ({ method: 'POST', url, payload: { refreshToken: token } })
const bearer = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string): InjectOptions => ({ method, url, headers: { authorization: `Bearer ${token}` } })
const tamper = (value: string, at = Math.floor(value.length / 2)): string => value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1)

/** An app callback's error that quotes all it was given and what the request carries, with a cause and own properties. */
function quotingError (what: string, input: unknown, request?: FastifyRequest): Error {
  const context = request === undefined ? '' : ` body=${JSON.stringify(request.body)} headers=${JSON.stringify(request.headers)} cookies=${JSON.stringify(request.cookies)}`
  return Object.assign(new Error(`${what} failed for ${JSON.stringify(input)}${context}`, {
    cause: new Error(`upstream said: ${JSON.stringify(input)}${context}`)
  }), { input: JSON.stringify(input), context })
}

/** Every byte under the prefix: key names, values, members, fields, scores. */
async function redisDump (redis: Redis, prefix: string): Promise<{ bytes: Buffer, keys: number, types: Set<string> }> {
  const chunks: Buffer[] = []
  const types = new Set<string>()
  const keys = await redis.keysBuffer(`${prefix}*`)
  for (const key of keys) {
    chunks.push(key)
    const type = await redis.type(key)
    types.add(type)
    if (type === 'string') chunks.push((await redis.getBuffer(key)) ?? Buffer.alloc(0))
    else if (type === 'zset') chunks.push(...await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES'))
    else if (type === 'hash') chunks.push(...Object.entries(await redis.hgetallBuffer(key)).flatMap(([k, v]) => [Buffer.from(k), v]))
    else if (type === 'set') chunks.push(...await redis.smembersBuffer(key))
    else if (type === 'list') chunks.push(...await redis.lrangeBuffer(key, 0, -1))
    else chunks.push(Buffer.from(`<${type}>`))
  }
  return { bytes: Buffer.concat(chunks), keys: keys.length, types }
}

async function waitReady (redis: Redis): Promise<void> {
  const deadline = Date.now() + 5000
  while (redis.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`redis client still ${redis.status}`)
    await Promise.race([once(redis, 'ready'), sleep(100)])
  }
}

t.test('every flow on Redis, logs at trace: no secret in logs, bodies, headers, sessions output or Redis', async (t) => {
  const started = Date.now()
  const server = await redisForTest(t, { allowExternal: false, appendonly: true })
  const redis = await connectRedis(t, server)
  redis.on('error', () => {}) // reconnect noise during the outage
  const prefix = uniquePrefix('secrets')
  const carolHash = await argon2.hash(CAROL.password, { type: argon2.argon2i, ...FAST_ARGON2 })
  /** The hashes the plugin made and handed to onPasswordRehash. */
  const rehashed: string[] = []
  const thrown: string[] = []
  let users = new Map<string, TestUser>()
  const byId = (id: string): TestUser | undefined => [...users.values()].find((u) => u.id === id)
  const hook = (name: string) => (event: unknown, request: FastifyRequest) => {
    if (name === 'onPasswordRehash') rehashed.push((event as { passwordHash: string }).passwordHash)
    thrown.push(name)
    // Apps do throw strings.
    // eslint-disable-next-line no-throw-literal -- what this test checks
    if (name === 'onLogout') throw `the onLogout audit write failed: ${quotingError('onLogout', event, request).message}`
    throw quotingError(`the ${name} audit write`, event, request)
  }

  const built = await buildApp(t, {
    captureLogs: true,
    users: [ALICE, ADMIN, BOB, DORA, { ...CAROL, passwordHash: carolHash }, ERIN, FRANK],
    options: {
      redis,
      prefix,
      commandTimeout: '300ms',
      transport: 'both',
      refreshToken: { reuseGrace: '300ms' },
      loginLimits: { perUserIp: { max: 3, window: '1m' }, perIp: { max: 100, window: '1m' } },
      findUser: (username: string) => {
        if (username === BROKEN_USERNAME) throw quotingError('SELECT * FROM users WHERE name = $1', username)
        const user = users.get(username)
        return user === undefined ? null : { id: user.id, passwordHash: user.passwordHash!, roles: user.roles, claims: user.claims, disabled: user.disabled }
      },
      loadUser: (id: string) => {
        if (id === ERIN.id) throw quotingError('SELECT * FROM users WHERE id = $1', id)
        const user = byId(id)
        return user === undefined ? null : { id: user.id, roles: user.roles, claims: user.claims, disabled: user.disabled }
      },
      onLogin: hook('onLogin'),
      onLoginFailed: hook('onLoginFailed'),
      onRefresh: hook('onRefresh'),
      onLogout: hook('onLogout'),
      onReuseDetected: hook('onReuseDetected'),
      onPasswordRehash: hook('onPasswordRehash')
    }
  })
  const { app, logs } = built
  users = built.users

  const secrets = new Secrets()
  secrets.add('HS256 secret', HS256_SECRET)
  secrets.add('HS256 secret (base64)', Buffer.from(HS256_SECRET).toString('base64'))
  secrets.add('HS256 secret (hex)', Buffer.from(HS256_SECRET).toString('hex'))
  secrets.add('wrong password', WRONG_PASSWORD)
  for (const user of users.values()) {
    secrets.add(`password of ${user.username}`, user.password)
    secrets.addHash(`password hash of ${user.username}`, user.passwordHash)
  }
  const r = new Recorder(app, secrets)
  const send = r.send.bind(r)
  const status = async (label: string, request: InjectOptions): Promise<number> => (await send(label, request)).statusCode
  const tokens = (response: LightMyRequestResponse) => response.json() as { accessToken: string, refreshToken: string, sessionId: string }

  // -- login: ok, rehash, failed, disabled, unknown, findUser throwing, rate-limited
  const alice = tokens(await send('login alice', loginRequest(ALICE)))
  const admin = tokens(await send('login admin', loginRequest(ADMIN)))
  const admin2 = tokens(await send('login admin again', loginRequest(ADMIN, ADMIN.password, { headers: { 'user-agent': 'second browser' } })))
  const bob = tokens(await send('login bob', loginRequest(BOB)))
  const carol = tokens(await send('login carol (argon2i hash: rehashed)', loginRequest(CAROL)))
  const erin = tokens(await send('login erin', loginRequest(ERIN)))
  const frank = tokens(await send('login frank', loginRequest(FRANK)))
  t.equal(rehashed.length, 1, 'carol\'s hash was rehashed and handed to onPasswordRehash')
  t.equal(await status('wrong password', loginRequest(ALICE, WRONG_PASSWORD)), 401)
  t.equal(await status('unknown user', { ...loginRequest(ALICE), payload: { username: 'nobody-at-all', password: WRONG_PASSWORD } }), 401)
  t.equal(await status('disabled user', loginRequest(DORA)), 401)
  t.equal(await status('findUser throws', { ...loginRequest(ALICE), payload: { username: BROKEN_USERNAME, password: ALICE.password } }), 500)
  for (let i = 0; i < 3; i++) await send(`bob wrong password ${i}`, loginRequest(BOB, WRONG_PASSWORD, { remoteAddress: '192.0.2.10' }))
  t.equal(await status('rate-limited, with the right password', loginRequest(BOB, BOB.password, { remoteAddress: '192.0.2.10' })), 429)
  t.equal(await status('password too long', loginRequest(ALICE, ALICE.password.repeat(80))), 400)
  secrets.add('long password', ALICE.password.repeat(80))
  t.equal(await status('malformed JSON holding the password', { method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: `{"username":"alice","password":"${ALICE.password}"x}` }), 400)
  t.equal(await status('password of the wrong type', { method: 'POST', url: '/auth/login', payload: { username: 'alice', password: [ALICE.password] } }), 400)

  // -- refresh: cookie, grace replay, reuse, body transport, loadUser throwing, disabled since login
  const rotated = tokens(await send('refresh alice (cookie)', cookieRefresh('/auth/refresh', alice.refreshToken)))
  t.equal(await status('grace replay', cookieRefresh('/auth/refresh', alice.refreshToken)), 200)
  await sleep(400)
  t.equal((await send('reuse after the grace window', cookieRefresh('/auth/refresh', alice.refreshToken))).json().code, 'AUTH_REFRESH_REUSED')
  t.equal(await status('newest token of the reused session', cookieRefresh('/auth/refresh', rotated.refreshToken)), 401)
  const bob2 = tokens(await send('refresh bob (body)', bodyRefresh('/auth/refresh', bob.refreshToken)))
  t.equal(await status('loadUser throws', cookieRefresh('/auth/refresh', erin.refreshToken)), 500)
  users.get(FRANK.username)!.disabled = true
  t.equal(await status('disabled since login', bodyRefresh('/auth/refresh', frank.refreshToken)), 401)

  // -- sessions, delete, logout, logout-all
  const listed = await send('sessions of admin', bearer('GET', '/auth/sessions', admin.accessToken))
  t.equal(listed.json().sessions.length, 2, 'admin has two sessions')
  await send('sessions of bob', bearer('GET', '/auth/sessions', bob2.accessToken))
  t.equal(await status('delete the other session of admin', bearer('DELETE', `/auth/sessions/${admin2.sessionId}`, admin.accessToken)), 204)
  t.equal(await status('delete a missing session', bearer('DELETE', '/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA', admin.accessToken)), 404)
  t.equal(await status('delete someone else\'s session', bearer('DELETE', `/auth/sessions/${bob.sessionId}`, admin.accessToken)), 404)
  t.equal(await status('logout (cookie)', cookieRefresh('/auth/logout', admin.refreshToken)), 204)
  t.equal(await status('logout again', cookieRefresh('/auth/logout', admin.refreshToken)), 204)
  t.equal(await status('logout (body)', bodyRefresh('/auth/logout', bob2.refreshToken)), 204)
  t.equal(await status('logout-all', bearer('POST', '/auth/logout-all', carol.accessToken)), 204)
  t.equal(await status('revoked session on authenticateSession', bearer('GET', '/me/strict', carol.accessToken)), 401)
  t.equal(await status('sessions after logout-all', bearer('GET', '/auth/sessions', carol.accessToken)), 200)

  // -- app routes and bad tokens
  const fresh = tokens(await send('login alice again', loginRequest(ALICE)))
  t.equal(await status('/me', bearer('GET', '/me', fresh.accessToken)), 200)
  t.equal(await status('/me/strict', bearer('GET', '/me/strict', fresh.accessToken)), 200)
  t.equal(await status('/admin without the role', bearer('GET', '/admin', fresh.accessToken)), 403)
  const [h, p] = fresh.accessToken.split('.') as [string, string]
  const expired = signJwt({ alg: 'HS256', typ: 'JWT' }, claims({ sub: ALICE.id, sid: fresh.sessionId, iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), HS256_SECRET)
  secrets.addAccess(expired)
  const badAccess = [tamper(fresh.accessToken), `${h}.${p}.`, `eyJhbGciOiJub25lIn0.${p}.`, `${fresh.accessToken}x`, expired, `${h}.${p}.${'A'.repeat(43)}`]
  for (const [i, token] of badAccess.entries()) {
    secrets.addAccess(token)
    for (const url of ['/me', '/admin', '/auth/sessions']) t.equal(await status(`bad access token ${i} on ${url}`, bearer('GET', url, token)), 401)
  }
  const badRefresh = [tamper(fresh.refreshToken, fresh.refreshToken.length - 5), fresh.refreshToken.replace(/\.[^.]+$/, `.${'A'.repeat(43)}`), `${fresh.refreshToken}.x`, fresh.refreshToken.slice(0, -1)]
  for (const [i, token] of badRefresh.entries()) {
    secrets.addRefresh(token)
    t.equal(await status(`bad refresh token ${i} (cookie)`, cookieRefresh('/auth/refresh', token)), 401)
    t.equal(await status(`bad refresh token ${i} (body)`, bodyRefresh('/auth/refresh', token)), 401)
    t.equal(await status(`bad refresh token ${i} (logout)`, cookieRefresh('/auth/logout', token)), 204)
  }
  t.equal(await status('cross-site refresh', cookieRefresh('/auth/refresh', fresh.refreshToken, { origin: 'https://evil.example' })), 403)
  t.equal(await status('cross-site logout', cookieRefresh('/auth/logout', fresh.refreshToken, { referer: 'https://evil.example/page' })), 403)
  t.equal(await status('refresh token as a Bearer', bearer('GET', '/me', fresh.refreshToken)), 401)
  t.equal(await status('access token as a refresh cookie', cookieRefresh('/auth/refresh', fresh.accessToken)), 401)

  // -- Redis stopped: every store call answers 503, then Redis comes back
  await server.stop()
  const down: InjectOptions[] = [
    cookieRefresh('/auth/refresh', fresh.refreshToken),
    bodyRefresh('/auth/refresh', fresh.refreshToken),
    cookieRefresh('/auth/logout', fresh.refreshToken),
    loginRequest(ALICE),
    loginRequest(ALICE, WRONG_PASSWORD),
    bearer('GET', '/auth/sessions', fresh.accessToken),
    bearer('POST', '/auth/logout-all', fresh.accessToken),
    bearer('DELETE', `/auth/sessions/${fresh.sessionId}`, fresh.accessToken),
    bearer('GET', '/me/strict', fresh.accessToken)
  ]
  const outage: Array<[number, unknown]> = []
  for (const [i, request] of down.entries()) {
    const response = await send(`Redis down ${i}`, request)
    outage.push([response.statusCode, response.json().code])
  }
  t.same(outage, Array(down.length).fill([503, 'AUTH_STORE_UNAVAILABLE']), 'every store call answers 503 AUTH_STORE_UNAVAILABLE')
  await server.start()
  await waitReady(redis)
  let after = 0
  for (let i = 0; i < 50 && after !== 200; i++) {
    after = (await send('refresh once Redis is back', cookieRefresh('/auth/refresh', fresh.refreshToken))).statusCode
    if (after !== 200) await sleep(100)
  }
  t.equal(after, 200, 'the session survived the outage (appendonly) and refreshes')

  // -- the sweep
  t.ok(thrown.length >= 8, `the quoting hooks threw ${thrown.length} times (${[...new Set(thrown)].join(', ')})`)
  t.ok(logs.some((line) => line.includes('request failed') && line.includes('SELECT * FROM users WHERE name')), 'findUser\'s error was logged')
  t.ok(logs.some((line) => line.includes('request failed') && line.includes('SELECT * FROM users WHERE id')), 'loadUser\'s error was logged')
  t.ok(logs.some((line) => line.includes('session store unavailable')), 'the outage was logged')
  t.equal(app.log.level, 'trace', 'the logger ran at level trace')
  t.ok(secrets.size > 100, `${secrets.size} secret forms to look for`)
  t.ok(r.exchanges.length > 80, `${r.exchanges.length} requests swept`)

  // The hash onPasswordRehash got is the app's to store; its own failure must not put it in a log.
  const newHashes = new Secrets()
  for (const hash of rehashed) newHashes.addHash('the new hash given to onPasswordRehash', hash)
  const hashLeaks = logs.flatMap((line) => newHashes.find(line).map((what) => `${what} in: ${line.slice(0, 200)}`))
  t.same(hashLeaks, [], 'the rehashed password hash quoted by a failing onPasswordRehash hook stays out of the logs')
  for (const hash of rehashed) secrets.addHash('rehashed password hash', hash)

  const logLeaks = logs.flatMap((line) => secrets.find(line).filter((what) => !what.startsWith('rehashed')).map((what) => `${what} in: ${line.slice(0, 300)}`))
  t.same(logLeaks, [], `no secret in any of the ${logs.length} log lines`)
  t.same(r.leaks(), [], 'no secret in any response body, error message, header or cookie but the response\'s own tokens')
  const sessionsOutputs = r.exchanges.filter((x) => x.request.url === '/auth/sessions' && x.response.statusCode === 200)
  t.ok(sessionsOutputs.length >= 3, `${sessionsOutputs.length} GET /auth/sessions outputs`)
  t.same(sessionsOutputs.flatMap((x) => secrets.find(x.response.body)), [], 'no secret in GET /auth/sessions output')
  const messages = r.exchanges.flatMap((x) => { const body = r.json(x.response); return typeof body?.message === 'string' ? [body.message] : [] })
  t.ok(messages.length > 40, `${messages.length} error messages`)
  t.same(messages.flatMap((message) => secrets.find(message)), [], 'no secret in any error message')

  const dump = await redisDump(redis, prefix)
  t.ok(dump.keys >= 5, `${dump.keys} keys under the prefix (${[...dump.types].join(', ')})`)
  t.same(secrets.findBytes(dump.bytes), [], 'no secret in any key or value under the prefix in Redis')
  t.comment(`scenario: ${r.exchanges.length} requests, ${logs.length} log lines, ${secrets.size} secret forms, ${dump.keys} Redis keys, ${Date.now() - started} ms`)
})

// ---------------------------------------------------------------- asymmetric keys

interface KeyMaterial { label: string, privateKey: KeyObject }

function privateForms (key: KeyMaterial): Array<[string, string]> {
  const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const der = key.privateKey.export({ type: 'pkcs8', format: 'der' })
  const jwk = key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>
  const forms: Array<[string, string]> = [[`${key.label} PEM`, pem], [`${key.label} DER (base64)`, der.toString('base64')]]
  for (const line of pem.split('\n')) if (line.length >= 16 && !line.startsWith('-----')) forms.push([`${key.label} PEM line`, line])
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) if (typeof jwk[member] === 'string') forms.push([`${key.label} JWK ${member}`, jwk[member] as string])
  return forms
}

t.test('EdDSA + RS256 key set: no PEM and no private JWK member in logs, responses or Redis', async (t) => {
  const server = await redisForTest(t)
  const redis = await connectRedis(t, server)
  const prefix = uniquePrefix('secrets-keys')
  const ed = generateKeyPairSync('ed25519')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keys: KeyMaterial[] = [{ label: 'EdDSA private key', privateKey: ed.privateKey }, { label: 'RS256 private key', privateKey: rsa.privateKey }]
  const { app, logs } = await buildApp(t, {
    captureLogs: true,
    options: {
      redis,
      prefix,
      transport: 'both',
      accessToken: {
        // One key as KeyObjects, one as PEM strings, as apps pass them.
        keys: [
          { kid: 'ed-1', alg: 'EdDSA', privateKey: ed.privateKey, publicKey: ed.publicKey },
          { kid: 'rs-old', alg: 'RS256', privateKey: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: publicPem(rsa.publicKey) }
        ],
        signingKid: 'ed-1',
        ttl: '15m'
      },
      findUser: (username: string) => { throw quotingError('lookup', username) },
      onRefresh: (event: unknown, request: FastifyRequest) => { throw quotingError('onRefresh', event, request) }
    } as Partial<RefreshSessionsOptions>,
    routes: (app) => { app.get('/boom', { preHandler: app.authenticate }, async () => { throw new Error('handler failed') }) }
  })
  // findUser throws for everyone here: sessions come from the store directly.
  const { token: refreshToken } = await app.refreshSessions.sessions.create(ALICE.id, { userAgent: 'UA', ip: '127.0.0.1', clientId: null, data: null })
  const r = new Recorder(app, new Secrets())
  for (const key of keys) for (const [label, value] of privateForms(key)) r.secrets.add(label, value)
  r.secrets.add('HS256 secret', HS256_SECRET)

  const refreshed = await r.send('refresh', { method: 'POST', url: '/auth/refresh', headers: { cookie: `refresh_token=${refreshToken}` } })
  t.equal(refreshed.statusCode, 200, 'a refresh signs with the EdDSA key')
  const accessToken = refreshed.json().accessToken as string
  const jwks = await r.send('jwks', { method: 'GET', url: '/.well-known/jwks.json' })
  t.same(jwks.json().keys.map((k: { kid: string }) => k.kid), ['ed-1', 'rs-old'], 'the JWKS has both public keys')
  t.equal(await r.send('login (findUser throws)', loginRequest(ALICE)).then((x) => x.statusCode), 500)
  const [h, p] = accessToken.split('.') as [string, string]
  const forged = [
    signJwt({ alg: 'HS256', typ: 'JWT', kid: 'ed-1' }, JSON.parse(Buffer.from(p, 'base64url').toString()), publicPem(ed.publicKey)),
    signJwt({ alg: 'HS256', typ: 'JWT', kid: 'rs-old' }, JSON.parse(Buffer.from(p, 'base64url').toString()), publicPem(rsa.publicKey)),
    `eyJhbGciOiJub25lIiwia2lkIjoiZWQtMSJ9.${p}.`,
    tamper(accessToken),
    `${h}.${p}.${'A'.repeat(86)}`
  ]
  for (const [i, token] of forged.entries()) t.equal((await r.send(`forged ${i}`, bearer('GET', '/me', token))).statusCode, 401, `forged token ${i} refused`)
  t.equal((await r.send('me', bearer('GET', '/me', accessToken))).statusCode, 200)
  t.equal((await r.send('a handler that throws', bearer('GET', '/boom', accessToken))).statusCode, 500)
  t.equal((await r.send('sessions', bearer('GET', '/auth/sessions', accessToken))).statusCode, 200)

  const pemInLogs = logs.filter((line) => /-----BEGIN|PRIVATE KEY|"d"\s*:/.test(line))
  t.same(pemInLogs.map((line) => line.slice(0, 200)), [], 'no PEM (public or private) and no JWK "d" in any log line')
  t.same(logs.flatMap((line) => r.secrets.find(line)), [], `no private key material in any of the ${logs.length} log lines`)
  t.same(r.leaks(), [], 'no private key material in any response')
  t.notMatch(jwks.body, /"(d|p|q|dp|dq|qi|k)"\s*:/, 'the JWKS has no private member')
  const dump = await redisDump(redis, prefix)
  t.ok(dump.keys > 0)
  t.same(r.secrets.findBytes(dump.bytes), [], 'no private key material in Redis')
})

// ---------------------------------------------------------------- start-up errors

t.test('start-up errors name the bad option, never the secret or key they refuse', async (t) => {
  const ed = generateKeyPairSync('ed25519')
  const other = generateKeyPairSync('ed25519')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const edPem = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const brokenPem = edPem.replace(/\n([A-Za-z0-9+/=]+)\n/, (_, body: string) => `\n${body.slice(0, 30)}\n`)
  const shortSecret = 'short-secret-of-31-bytes-012345'
  const cases: Array<{ name: string, accessToken: Record<string, unknown>, secrets: string[] }> = [
    { name: 'HS256 secret too short', accessToken: { secret: shortSecret }, secrets: [shortSecret] },
    { name: 'HS256 secret Buffer too short', accessToken: { secret: Buffer.from(shortSecret) }, secrets: [shortSecret, Buffer.from(shortSecret).toString('hex')] },
    { name: 'unreadable private key', accessToken: { keys: [{ kid: 'k1', alg: 'EdDSA', privateKey: brokenPem, publicKey: ed.publicKey }] }, secrets: [brokenPem, ...pemLines(brokenPem)] },
    { name: 'private and public keys of two pairs', accessToken: { keys: [{ kid: 'k1', alg: 'EdDSA', privateKey: edPem, publicKey: other.publicKey }] }, secrets: [edPem, ...pemLines(edPem), jwkD(ed.privateKey)] },
    { name: 'RSA key for EdDSA', accessToken: { keys: [{ kid: 'k1', alg: 'EdDSA', privateKey: rsa.privateKey, publicKey: rsa.publicKey }] }, secrets: [...pemLines(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), jwkD(rsa.privateKey)] },
    { name: 'a private key as the public key', accessToken: { keys: [{ kid: 'k1', alg: 'EdDSA', publicKey: edPem }] }, secrets: [edPem, ...pemLines(edPem), jwkD(ed.privateKey)] }
  ]
  for (const c of cases) {
    const logs: string[] = []
    const app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { logs.push(line) } } } })
    let error: unknown = null
    try {
      await app.register(refreshSessions, { accessToken: c.accessToken, findUser: () => null } as unknown as RefreshSessionsOptions)
      await app.ready()
    } catch (caught) {
      error = caught
    }
    await app.close().catch(() => {})
    t.ok(error instanceof Error, `${c.name}: refused at start (${(error as Error | null)?.message ?? 'no error'})`)
    const text = [String(error), (error as Error | null)?.stack ?? '', JSON.stringify(error), String((error as { cause?: unknown } | null)?.cause ?? ''), ...logs].join('\n')
    t.same(c.secrets.filter((secret) => secret.length >= 8 && text.includes(secret)).map((s) => s.slice(0, 40)), [], `${c.name}: the error and the logs hold none of it`)
    t.notMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY/, `${c.name}: no private PEM in the error`)
  }
})

function pemLines (pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'))
}

function jwkD (key: KeyObject): string {
  return String((key.export({ format: 'jwk' }) as { d?: string }).d)
}
