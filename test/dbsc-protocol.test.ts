/**
 * DBSC end to end against the demo over real HTTP, with a software client (WebCrypto ES256):
 * login offers registration, registration binds the session and sets a bound cookie whose
 * Set-Cookie attributes the configuration repeats byte for byte, the refresh endpoint answers 403
 * with a challenge, then a fresh bound cookie for its proof; /auth/refresh of the bound session
 * needs the bound cookie. Then the attackers: the refresh cookie without the key, and both cookies
 * once the bound cookie has expired, are refused with AUTH_REFRESH_UNBOUND and the session lives on.
 */
import t from 'tap'
import { startDemo, type DemoServer } from './helpers/demo-server.js'
import { CookieJar, dbscProof, generateDbscKey, sfLeadingString, sfParam, type DbscKey } from './helpers/dbsc-client.js'

interface Registered { jar: CookieJar, key: DbscKey, sessionId: string, boundSetCookie: string, config: Record<string, any> }

async function post (demo: DemoServer, path: string, { jar, headers = {}, body }: { jar?: CookieJar, headers?: Record<string, string>, body?: unknown } = {}): Promise<Response> {
  const response = await fetch(demo.url + path, {
    method: 'POST',
    headers: { ...(jar !== undefined && { cookie: jar.header() }), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
  jar?.take(response)
  return response
}

async function login (demo: DemoServer, jar: CookieJar): Promise<{ sessionId: string, registration: string }> {
  const response = await post(demo, '/auth/login', { jar, body: { username: 'alice', password: 'alice-password-1' } })
  const body = await response.json() as { sessionId: string }
  return { sessionId: body.sessionId, registration: response.headers.get('secure-session-registration') ?? '' }
}

async function register (demo: DemoServer): Promise<Registered> {
  const jar = new CookieJar()
  const key = await generateDbscKey()
  const { sessionId, registration } = await login(demo, jar)
  const response = await post(demo, sfParam(registration, 'path')!, { jar, headers: { 'secure-session-response': await dbscProof(key, sfParam(registration, 'challenge')!, { withKey: true }) } })
  if (response.status !== 200) throw new Error(`registration: ${response.status} ${await response.text()}`)
  const boundSetCookie = response.headers.getSetCookie().find((line) => line.startsWith('bound_session='))!
  return { jar, key, sessionId, boundSetCookie, config: await response.json() as Record<string, any> }
}

async function refresh (demo: DemoServer, jar: CookieJar): Promise<Response> {
  return await post(demo, '/auth/refresh', { jar, headers: { origin: demo.url } })
}

/** The DBSC refresh as Chromium runs it: no proof, 403 with a challenge, then the proof of it. */
async function dbscRefresh (demo: DemoServer, { jar, key, sessionId }: Registered): Promise<Response> {
  const first = await post(demo, '/auth/dbsc/refresh', { jar, headers: { 'sec-secure-session-id': sessionId } })
  const challenge = sfLeadingString(first.headers.get('secure-session-challenge') ?? '')
  return await post(demo, '/auth/dbsc/refresh', { jar, headers: { 'sec-secure-session-id': sessionId, 'secure-session-response': await dbscProof(key, challenge!) } })
}

t.test('the whole protocol, then a thief with the refresh cookie and no key', async (t) => {
  const demo = await startDemo(t)
  const jar = new CookieJar()
  const key = await generateDbscKey()

  const loginResponse = await post(demo, '/auth/login', { jar, body: { username: 'alice', password: 'alice-password-1' } })
  t.equal(loginResponse.status, 200)
  const { sessionId } = await loginResponse.json() as { sessionId: string }
  const registration = loginResponse.headers.get('secure-session-registration')!
  t.match(registration, /^\(ES256 RS256\);path="\/auth\/dbsc\/register";challenge="[A-Za-z0-9_-]{43}"$/, 'algorithms, path and a 256-bit challenge')
  t.equal(loginResponse.headers.get('sec-session-registration'), registration, 'the legacy name carries the same offer')

  const registered = await post(demo, '/auth/dbsc/register', { jar, headers: { 'secure-session-response': await dbscProof(key, sfParam(registration, 'challenge')!, { withKey: true }) } })
  t.equal(registered.status, 200)
  t.equal(registered.headers.get('cache-control'), 'no-store')
  const config = await registered.json() as { credentials: Array<{ attributes: string }> }
  const attributes = 'Path=/auth; Secure; HttpOnly; SameSite=Strict'
  t.same(config, {
    session_identifier: sessionId,
    refresh_url: '/auth/dbsc/refresh',
    scope: { include_site: false, scope_specification: [] },
    credentials: [{ type: 'cookie', name: 'bound_session', attributes }]
  })
  const setCookie = registered.headers.getSetCookie()
  t.equal(setCookie.length, 1)
  t.match(setCookie[0], new RegExp(`^bound_session=${sessionId}\\.[A-Za-z0-9_-]{43}\\.\\d+\\.[A-Za-z0-9_-]{43}; Max-Age=600; `))
  t.ok(setCookie[0]!.endsWith(`; Max-Age=600; ${config.credentials[0]!.attributes}`), 'Set-Cookie attributes are the configuration\'s, byte for byte')

  const sessions = await demo.app.refreshSessions.listSessions(demo.users.byName('alice')!.id)
  t.match(sessions.find((s) => s.id === sessionId)?.binding, /^dbsc:[A-Za-z0-9_-]{43}$/, 'the session is bound to the key')

  // The device refreshes with both cookies.
  const thief = jar.copy()
  thief.cookies.delete('bound_session')
  const first = await refresh(demo, jar)
  t.equal(first.status, 200, 'refresh cookie + bound cookie: refreshed')

  // A thief with (a copy of) the newest refresh cookie and no bound cookie, no key.
  thief.cookies.set('refresh_token', jar.cookies.get('refresh_token')!)
  const stolen = await refresh(demo, thief)
  t.equal(stolen.status, 401)
  t.equal((await stolen.json() as { code: string }).code, 'AUTH_REFRESH_UNBOUND')
  t.same(stolen.headers.getSetCookie(), [], 'the cookie is not cleared')
  const withoutCookie = await post(demo, '/auth/dbsc/refresh', { jar: thief, headers: { 'sec-secure-session-id': sessionId } })
  t.equal(withoutCookie.status, 403, 'the thief gets a challenge, and has no key to sign it')

  // The session lives on for the device: the bound cookie is renewed by the DBSC refresh.
  const noProof = await post(demo, '/auth/dbsc/refresh', { jar, headers: { 'sec-secure-session-id': sessionId } })
  t.equal(noProof.status, 403)
  t.equal((await noProof.json() as { code: string }).code, 'AUTH_DBSC_PROOF_REQUIRED')
  const challengeHeader = noProof.headers.get('secure-session-challenge')!
  t.match(challengeHeader, new RegExp(`^"[A-Za-z0-9_-]{43}";id="${sessionId}"$`))
  const renewed = await post(demo, '/auth/dbsc/refresh', { jar, headers: { 'sec-secure-session-id': sessionId, 'secure-session-response': await dbscProof(key, sfLeadingString(challengeHeader)!) } })
  t.equal(renewed.status, 200)
  t.same(await renewed.json(), config, 'the same configuration again')
  t.match(renewed.headers.getSetCookie(), [new RegExp(`^bound_session=${sessionId}\\.[A-Za-z0-9_-]{43}\\.\\d+\\.[A-Za-z0-9_-]{43}; Max-Age=600; ${attributes}$`)], 'a fresh bound cookie (its value may equal the last one within the same second)')
  t.equal((await refresh(demo, jar)).status, 200, 'the device still refreshes: the session was not revoked')
})

t.test('both cookies copied: refused once the bound cookie has expired', async (t) => {
  const demo = await startDemo(t, { env: { DBSC_BOUND_COOKIE_MAX_AGE: '1s' } })
  const device = await register(demo)
  t.match(device.boundSetCookie, /; Max-Age=1; /)
  t.equal((await refresh(demo, device.jar)).status, 200, 'within its lifetime the bound cookie proves the key')

  const thief = device.jar.copy()
  const expiresAtMs = Number(thief.cookies.get('bound_session')!.split('.')[2]) * 1000
  // Counted, not slept: at most a second, in steps of 50 ms.
  let polls = 0
  while (Date.now() < expiresAtMs && polls++ < 40) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(Date.now() >= expiresAtMs, 'the bound cookie has expired')
  const stolen = await refresh(demo, thief)
  t.equal(stolen.status, 401)
  t.equal((await stolen.json() as { code: string }).code, 'AUTH_REFRESH_UNBOUND')

  t.equal((await dbscRefresh(demo, device)).status, 200, 'the device proves its key again')
  t.equal((await refresh(demo, device.jar)).status, 200, 'and refreshes: the session was never revoked')
})

t.test('a proof by another key, and a reused challenge, are refused', async (t) => {
  const demo = await startDemo(t)
  const device = await register(demo)
  const other = await generateDbscKey()
  const headers = { 'sec-secure-session-id': device.sessionId }

  const ask = async (): Promise<string> => sfLeadingString((await post(demo, '/auth/dbsc/refresh', { headers })).headers.get('secure-session-challenge')!)!
  const byOther = await post(demo, '/auth/dbsc/refresh', { headers: { ...headers, 'secure-session-response': await dbscProof(other, await ask()) } })
  t.equal(byOther.status, 401)
  t.equal((await byOther.json() as { code: string }).code, 'AUTH_DBSC_KEY_MISMATCH')
  t.same(byOther.headers.getSetCookie(), [])

  const byOtherWithItsKey = await post(demo, '/auth/dbsc/refresh', { headers: { ...headers, 'secure-session-response': await dbscProof(other, await ask(), { withKey: true }) } })
  t.equal((await byOtherWithItsKey.json() as { code: string }).code, 'AUTH_DBSC_KEY_MISMATCH', 'a jwk in the header changes nothing')

  const proof = await dbscProof(device.key, await ask())
  t.equal((await post(demo, '/auth/dbsc/refresh', { headers: { ...headers, 'secure-session-response': proof } })).status, 200)
  const replay = await post(demo, '/auth/dbsc/refresh', { headers: { ...headers, 'secure-session-response': proof } })
  t.equal(replay.status, 403)
  t.equal((await replay.json() as { code: string }).code, 'AUTH_DBSC_CHALLENGE_INVALID')
  t.match(replay.headers.get('secure-session-challenge'), /^"[A-Za-z0-9_-]{43}";id="/, 'with a new challenge the key holder can sign')
  t.same(replay.headers.getSetCookie(), [])
})

t.test('DBSC=off: no offer, no DBSC routes, refresh as before', async (t) => {
  const demo = await startDemo(t, { env: { DBSC: 'off' } })
  const jar = new CookieJar()
  const { registration } = await login(demo, jar)
  t.equal(registration, '', 'no Secure-Session-Registration')
  t.equal((await post(demo, '/auth/dbsc/refresh', { headers: { 'sec-secure-session-id': 'A'.repeat(22) } })).status, 404)
  t.equal((await refresh(demo, jar)).status, 200)
})
