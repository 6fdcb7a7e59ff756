/**
 * Issue 9, item 4: refresh and logout with an empty body of any content type, driven over real
 * HTTP by the clients people use: axios (which posts an empty body as
 * application/x-www-form-urlencoded, 415 before this fix) and fetch, each with the refresh cookie
 * kept the way a browser keeps it and an `Origin` header as a same-origin page sends it.
 *
 * axios in Node keeps no cookies. The jar here is explicit and tiny (name=value per Path, deleted
 * by Max-Age=0) rather than tough-cookie + http-cookie-agent: two more packages to trust for the
 * three rules this test needs, and a test that shows exactly what is sent.
 */
import t, { type Test } from 'tap'
import axios, { type AxiosInstance } from 'axios'
import type { FastifyInstance } from 'fastify'
import { ALICE, buildApp } from './helpers/build-app.js'

interface Seen { url: string, contentType: string | null, contentLength: string | null, cookie: boolean }

async function listening (t: Test): Promise<{ app: FastifyInstance, base: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const { app } = await buildApp(t, {
    // Plain http on 127.0.0.1: a browser would not send a Secure cookie here.
    options: { cookie: { secure: false } },
    routes: (app) => {
      app.addHook('onRequest', async (request) => {
        seen.push({ url: request.url, contentType: request.headers['content-type'] ?? null, contentLength: request.headers['content-length'] ?? null, cookie: request.headers.cookie !== undefined })
      })
    }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return { app, base: `http://127.0.0.1:${address.port}`, seen }
}

/** The part of a browser's cookie store this test needs: one value per (name, path), sent on requests under the path. */
class CookieJar {
  readonly #cookies = new Map<string, { name: string, value: string, path: string }>()

  store (setCookie: string[] | string | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      const attribute = (key: string): string | undefined => attributes.find((a) => a.toLowerCase().startsWith(`${key.toLowerCase()}=`))?.split('=')[1]
      const path = attribute('Path') ?? '/'
      if (attribute('Max-Age') === '0' || value === '') this.#cookies.delete(`${name};${path}`)
      else this.#cookies.set(`${name};${path}`, { name, value, path })
    }
  }

  header (url: string): string | undefined {
    const { pathname } = new URL(url)
    const sent = [...this.#cookies.values()].filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
    return sent.length === 0 ? undefined : sent.map((c) => `${c.name}=${c.value}`).join('; ')
  }

  get (name: string): string | undefined {
    return [...this.#cookies.values()].find((c) => c.name === name)?.value
  }
}

function axiosWithJar (base: string, jar: CookieJar, origin: string): AxiosInstance {
  const client = axios.create({ baseURL: base, validateStatus: () => true, headers: { Origin: origin } })
  client.interceptors.request.use((config) => {
    const cookie = jar.header(new URL(config.url ?? '', base).href)
    if (cookie !== undefined) config.headers.set('Cookie', cookie)
    return config
  })
  client.interceptors.response.use((response) => {
    jar.store(response.headers['set-cookie'])
    return response
  })
  return client
}

t.test('axios: login, refresh and logout with its empty form-typed bodies and the refresh cookie', async (t) => {
  const { base, seen } = await listening(t)
  const jar = new CookieJar()
  const client = axiosWithJar(base, jar, base)

  const login = await client.post('/auth/login', { username: ALICE.username, password: ALICE.password })
  t.equal(login.status, 200)
  const first = jar.get('refresh_token')
  t.ok(first, 'the jar holds the refresh cookie')

  const refreshed = await client.post('/auth/refresh')
  const sent = seen.at(-1)!
  t.match(sent, { url: '/auth/refresh', contentType: /^application\/x-www-form-urlencoded/, cookie: true }, 'axios sent its form content type with the cookie')
  t.ok(sent.contentLength === '0' || sent.contentLength === null, `and an empty body (content-length ${sent.contentLength})`)
  t.equal(refreshed.status, 200, 'an empty form-typed body is no body')
  t.equal(refreshed.headers['cache-control'], 'no-store')
  t.match(refreshed.data, { tokenType: 'Bearer', accessToken: String, sessionId: login.data.sessionId })
  t.not(jar.get('refresh_token'), first, 'the jar holds the rotated cookie')

  const again = await client.post('/auth/refresh')
  t.equal(again.status, 200, 'refreshes again with the rotated cookie')

  const me = await client.get('/me', { headers: { Authorization: `Bearer ${again.data.accessToken}` } })
  t.equal(me.status, 200)
  t.equal(me.data.id, ALICE.id)

  const logout = await client.post('/auth/logout')
  t.equal(logout.status, 204)
  t.equal(jar.get('refresh_token'), undefined, 'logout cleared the cookie from the jar')

  const afterLogout = await client.post('/auth/refresh')
  t.equal(afterLogout.status, 401)
  t.same(afterLogout.data, { statusCode: 401, code: 'AUTH_REFRESH_MISSING', error: 'Unauthorized', message: 'No refresh token was sent' })
})

t.test('axios: a JSON body still works; a non-empty body of another type is 415 with a stable code', async (t) => {
  const { base } = await listening(t)
  const jar = new CookieJar()
  const client = axiosWithJar(base, jar, base)
  t.equal((await client.post('/auth/login', { username: ALICE.username, password: ALICE.password })).status, 200)

  const json = await client.post('/auth/refresh', {})
  t.equal(json.status, 200, 'an empty JSON object')

  for (const url of ['/auth/refresh', '/auth/logout']) {
    const form = await client.post(url, 'refreshToken=x')
    t.equal(form.status, 415, `${url}: a non-empty form body`)
    t.same(form.data, { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', error: 'Unsupported Media Type', message: 'Unsupported Media Type' })
    const binary = await client.post(url, Buffer.from('xyz'), { headers: { 'Content-Type': 'application/octet-stream' } })
    t.equal(binary.status, 415, `${url}: a non-empty octet-stream body`)
    t.equal(binary.data.code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
  }
  t.ok(jar.get('refresh_token'), 'the refused requests did not touch the cookie')
  t.equal((await client.post('/auth/refresh')).status, 200, 'and it still refreshes')
})

t.test('axios: the CSRF rule still applies to a cookie-carried refresh and logout', async (t) => {
  const { base } = await listening(t)
  const jar = new CookieJar()
  const sameSite = axiosWithJar(base, jar, base)
  const crossSite = axiosWithJar(base, jar, 'http://evil.example')
  t.equal((await sameSite.post('/auth/login', { username: ALICE.username, password: ALICE.password })).status, 200)
  const cookie = jar.get('refresh_token')

  for (const url of ['/auth/refresh', '/auth/logout']) {
    const refused = await crossSite.post(url)
    t.equal(refused.status, 403, `${url} from another origin`)
    t.same(refused.data, { statusCode: 403, code: 'AUTH_CSRF_REJECTED', error: 'Forbidden', message: 'Cross-site request refused' })
  }
  t.equal(jar.get('refresh_token'), cookie, 'the cookie is untouched')
  t.equal((await sameSite.post('/auth/refresh')).status, 200, 'and same-origin refresh works')
})

t.test('fetch: refresh and logout with no body, an empty JSON-typed body and an empty text body', async (t) => {
  const { base, seen } = await listening(t)
  const jar = new CookieJar()
  const post = async (path: string, init: { headers?: Record<string, string>, body?: string } = {}): Promise<Response> => {
    const cookie = jar.header(base + path)
    const response = await fetch(base + path, { method: 'POST', ...init, headers: { origin: base, ...(cookie !== undefined && { cookie }), ...init.headers } })
    jar.store(response.headers.getSetCookie())
    return response
  }

  t.equal((await post('/auth/login', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ALICE.username, password: ALICE.password }) })).status, 200)

  const bare = await post('/auth/refresh')
  t.equal(bare.status, 200, 'no body, no content type')
  t.match(seen.at(-1), { contentType: null, cookie: true })

  const emptyJson = await post('/auth/refresh', { headers: { 'content-type': 'application/json' } })
  t.equal(emptyJson.status, 200, 'content-type application/json and no body (400 FST_ERR_CTP_EMPTY_JSON_BODY before)')
  t.match(seen.at(-1), { contentType: 'application/json', cookie: true })

  const emptyText = await post('/auth/refresh', { body: '' })
  t.equal(emptyText.status, 200, "fetch's empty string body (text/plain)")
  t.match(seen.at(-1), { contentType: /^text\/plain/, contentLength: '0' })

  const logout = await post('/auth/logout', { headers: { 'content-type': 'application/json' } })
  t.equal(logout.status, 204)
  t.match(logout.headers.getSetCookie(), [/^refresh_token=; Max-Age=0; Path=\/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/])
  t.equal(jar.get('refresh_token'), undefined)

  const missing = await post('/auth/refresh', { headers: { 'content-type': 'application/json' } })
  t.equal(missing.status, 401)
  t.same(await missing.json(), { statusCode: 401, code: 'AUTH_REFRESH_MISSING', error: 'Unauthorized', message: 'No refresh token was sent' })
})

t.test("the app's own content-type parsers are untouched: its routes still refuse an empty JSON body", async (t) => {
  const { app } = await buildApp(t, { routes: (app) => { app.post('/app/echo', async (request) => ({ body: request.body ?? null })) } })
  const empty = await app.inject({ method: 'POST', url: '/app/echo', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().code, 'FST_ERR_CTP_EMPTY_JSON_BODY')
  const form = await app.inject({ method: 'POST', url: '/app/echo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  t.equal(form.statusCode, 415, 'no catch-all parser leaked into the app')
  const login = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(login.statusCode, 400, 'login keeps its strict parsing')
  t.equal(login.json().code, 'FST_ERR_CTP_EMPTY_JSON_BODY')
})
