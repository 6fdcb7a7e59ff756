/**
 * Property-based fuzzing of every route of the plugin (issue 6, item 4), through `app.inject`,
 * against the memory store (HS256) and a real Redis (EdDSA + ES256 key set, access-token cookie):
 * arbitrary JSON and raw bodies, content types, Authorization headers and mutated real JWTs,
 * mutated real refresh tokens in cookies and bodies, Origin / Referer / Sec-Fetch-Site, hosts,
 * methods, paths and query strings.
 *
 * For every response: no 5xx (the store is up), a JSON `{ statusCode, code, error, message }` body
 * with a stable code whose status matches it for every 4xx under the plugin's paths, no stack
 * trace, the route's own guarantees (cookie cleared on a refresh 401, WWW-Authenticate on a token
 * 401, CSRF on cookie-carried refresh/logout, no-store on token responses) and no success that the
 * request had no right to. Never an unhandled rejection. After the run the seeded sessions of the
 * protected users (alice, admin, bob) are all still there and still refresh.
 *
 * Who may succeed: the protected users' live refresh tokens are never sent as they are (a case
 * that would carry one is skipped and counted); their access tokens may be, but a case that would
 * let one revoke (logout-all, DELETE of their own session) is skipped, found out by asking GET /me
 * with the same credentials first. `mallory` is the deliberate actor: her password, and every
 * token the fuzz obtains for her, are in the pools, and anything may happen to her sessions.
 *
 *   FUZZ_SEED=123 FUZZ_RUNS=20000 npx tap test/fuzz-routes.test.ts   reproduce a seed, or run longer
 *   FUZZ_DEBUG='refresh cookies'                                      trace one property's cases on stderr
 */
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { fastifyCookie } from '@fastify/cookie'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Redis } from 'ioredis'
import { ADMIN, ALICE, BOB, buildApp, login, refreshCookie, type TestUser } from './helpers/build-app.js'
import {
  authArb, bodyArb, carriedStrings, caseArb, cookieArb, describeRequest, emptyPools, errorProblems, fuzzSettings, loginPair, maybe,
  materialize, pathname, ROUTE_NAMES, ROUTES, Tally, targetArb, underPrefix, watchUnhandledRejections,
  strMutation, type CaseSpec, type CookieSpec, type PoolName, type RefreshSpec, type RouteName, type World
} from './fuzz-routes.helpers.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const MALLORY: TestUser = { id: 'u-mallory', username: 'mallory', password: 'mallory-password-1', roles: ['user'] }
const PROTECTED = [ALICE, ADMIN, BOB]
const PROTECTED_IDS = new Set(PROTECTED.map((u) => u.id))
const CROSS_SITE = new Set(['https://evil.example', 'null', 'https://app.example.evil.com'])

// 4 000 per store, 8 000 in all: FUZZ_RUNS=50000 for a long run.
const settings = fuzzSettings(4000)
t.comment(`fuzz seed ${settings.seed}, ${settings.total} cases per store (reproduce: FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.total})`)

interface Property {
  name: string
  weight: number
  arb: fc.Arbitrary<CaseSpec>
}

function properties (passwords: string[]): Property[] {
  const accessSources = ['victimAccess', 'malloryAccess'] as const
  const refreshSources = ['victimRefresh', 'malloryRefresh'] as const
  const auth = authArb([...accessSources])
  const cookie = cookieArb([...refreshSources], [...accessSources])
  const body = bodyArb(passwords, [...refreshSources])
  const own: fc.Arbitrary<RefreshSpec> = fc.record({ ref: fc.record({ pool: fc.constant<PoolName>('malloryRefresh'), index: fc.nat(8) }), m: fc.oneof({ weight: 9, arbitrary: fc.constant({ kind: 'asIs' as const }) }, strMutation()) })
  return [
    {
      name: 'bodies',
      weight: 28,
      arb: caseArb({
        target: targetArb(['login', 'login', 'login', 'refresh', 'refresh', 'logout', 'logout', 'logoutAll', 'sessions', 'deleteSession', 'me', 'reauthenticate', 'reauthenticate']),
        body: maybe(body, 0.9),
        authorization: maybe(auth, 0.3),
        extras: true
      })
    },
    {
      name: 'access tokens',
      weight: 22,
      arb: caseArb({
        target: targetArb(['logoutAll', 'logoutAll', 'sessions', 'sessions', 'deleteSession', 'deleteSession', 'me', 'meStrict', 'meStrict', 'admin', 'admin', 'jwks', 'refresh', 'logout', 'reauthenticate']),
        authorization: maybe(auth, 0.9),
        cookie: maybe(cookie, 0.25),
        extras: true
      })
    },
    {
      name: 'refresh cookies',
      weight: 18,
      arb: caseArb({
        target: targetArb(['refresh', 'refresh', 'refresh', 'logout', 'logout', 'logoutAll', 'sessions', 'me', 'meStrict']),
        cookie: maybe(cookie, 0.9),
        body: maybe(body, 0.1),
        browser: true,
        extras: true
      })
    },
    {
      name: 'paths and methods',
      weight: 10,
      arb: caseArb({
        target: targetArb([...ROUTE_NAMES, 'underAuth', 'underAuth', 'underAuth'], { methods: true, paths: true }),
        authorization: maybe(auth, 0.5),
        cookie: maybe(cookie, 0.5),
        body: maybe(body, 0.5),
        extras: true
      })
    },
    {
      // The deliberate actor's own tokens, mostly as they are: rotation, grace replays, reuse
      // detection, logout, revoke and revoke-all run for real, with a little noise around them.
      name: 'mallory uses her tokens',
      weight: 10,
      arb: fc.record({
        target: fc.record({
          route: fc.constantFrom<RouteName>(...Array<RouteName>(10).fill('refresh'), 'logout', 'logoutAll', 'sessions', 'sessions', 'deleteSession', 'meStrict', 'meStrict'),
          method: fc.constant(null),
          path: fc.constant('none' as const),
          segments: fc.constant<string[]>([]),
          sid: fc.record({ ref: fc.record({ pool: fc.constantFrom<PoolName>('mallorySid', 'mallorySid', 'victimSid'), index: fc.nat(6) }), m: fc.constant({ kind: 'asIs' as const }) }),
          query: fc.constant(null)
        }),
        authorization: maybe(fc.record({ scheme: fc.constant('Bearer'), sep: fc.constant(' '), trail: fc.constant(''), token: fc.record({ ref: fc.record({ pool: fc.constant<PoolName>('malloryAccess'), index: fc.nat(6) }), m: fc.oneof({ weight: 9, arbitrary: fc.constant({ kind: 'asIs' as const }) }, strMutation()) }) }), 0.9),
        // The refresh token rides in the cookie, in the body, or (rarely) in both.
        carrier: fc.constantFrom('cookie', 'cookie', 'body', 'body', 'both'),
        cookie: fc.record<CookieSpec>({ refresh: own, access: fc.constant(null), extras: fc.constant([]), second: fc.constant(null), refreshLast: fc.boolean(), raw: fc.constant(null) }),
        body: fc.record({ kind: fc.constant('refresh' as const), token: own, other: fc.constant(null), clientId: fc.constantFrom(...Array<undefined>(8).fill(undefined), 'web', 'mobile'), where: fc.constant('refreshToken' as const), contentType: fc.constant('application/json') }),
        origin: maybe(fc.constantFrom('http://localhost', 'https://app.example', 'https://evil.example'), 0.3),
        userAgent: maybe(fc.constantFrom('Mozilla/5.0', 'curl/8'), 0.5),
        remoteAddress: maybe(fc.constantFrom('192.0.2.7', '::1'), 0.3)
      }).map(({ carrier, cookie, body, ...rest }): CaseSpec => ({
        ...rest,
        cookie: carrier === 'body' ? null : cookie,
        body: carrier === 'cookie' ? null : body,
        referer: null,
        secFetchSite: null,
        host: null,
        extraHeaders: []
      }))
    },
    {
      name: 'everything at once',
      weight: 12,
      arb: caseArb({
        target: targetArb([...ROUTE_NAMES, 'underAuth'], { methods: true, paths: true }),
        authorization: maybe(auth, 0.6),
        cookie: maybe(cookie, 0.6),
        body: maybe(body, 0.6),
        browser: true,
        extras: true
      })
    }
  ]
}

function decodeSub (accessToken: unknown): string | null {
  if (typeof accessToken !== 'string') return null
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown }
    return typeof payload.sub === 'string' ? payload.sub : null
  } catch {
    return null
  }
}

function safeDecode (text: string): string {
  try { return decodeURIComponent(text) } catch { return text }
}

interface Fixture {
  app: FastifyInstance
  world: World
  keySet: boolean
  /** Every session id seen, with its user. */
  owners: Map<string, string>
  seeded: Array<{ user: TestUser, accessToken: string, refreshToken: string, sessionId: string }>
  /** Cases run so far: every few, mallory logs in again (outside the tally), so that her pools hold live tokens. */
  counter: number
}

async function malloryLogsIn (app: FastifyInstance, world: World, owners: Map<string, string>): Promise<void> {
  const session = await login(app, MALLORY)
  world.pools.malloryAccess.push(session.accessToken)
  world.pools.malloryRefresh.push(session.refreshToken)
  world.pools.mallorySid.push(session.sessionId)
  owners.set(session.sessionId, MALLORY.id)
}

async function setUp (app: FastifyInstance, keySet: boolean): Promise<Fixture> {
  const world: World = { pools: emptyPools(), publicPems: [], jwksJson: '' }
  const owners = new Map<string, string>()
  const seeded: Fixture['seeded'] = []
  for (const user of [ALICE, ALICE, ADMIN, BOB]) {
    const session = await login(app, user)
    seeded.push({ user, ...session })
    world.pools.victimAccess.push(session.accessToken)
    world.pools.victimRefresh.push(session.refreshToken)
    world.pools.victimSid.push(session.sessionId)
    if (user === BOB) world.pools.bobSid.push(session.sessionId)
    owners.set(session.sessionId, user.id)
  }
  for (let i = 0; i < 2; i++) await malloryLogsIn(app, world, owners)
  const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  if (keySet) {
    world.jwksJson = jwks.body
    for (const key of (jwks.json() as { keys: object[] }).keys) world.publicPems.push(createPublicKey({ key: key as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString())
  }
  return { app, world, keySet, owners, seeded, counter: 0 }
}

class Skip extends Error {}

async function whoIs (app: FastifyInstance, request: InjectOptions): Promise<{ id: string, roles: string[] } | null> {
  const headers = (request.headers ?? {}) as Record<string, string>
  const response = await app.inject({ method: 'GET', url: '/me', headers: { ...(headers.authorization !== undefined && { authorization: headers.authorization }), ...(headers.cookie !== undefined && { cookie: headers.cookie }) } })
  return response.statusCode === 200 ? response.json() : null
}

/** One generated case: filter, send, check, harvest mallory's tokens. Throws with the problems found. */
async function runCase (fixture: Fixture, tally: Tally, property: string, spec: CaseSpec): Promise<void> {
  const { app, world, owners } = fixture
  if (++fixture.counter % 8 === 0) await malloryLogsIn(app, world, owners)
  const request = materialize(world, spec)
  const victimRefresh = new Set(world.pools.victimRefresh)
  if (carriedStrings(request).some((value) => victimRefresh.has(value))) throw new Skip()
  const pair = loginPair(request)
  if (pair !== null && PROTECTED.some((u) => u.username === pair[0] && u.password === pair[1])) throw new Skip()

  const route = spec.target.route
  const exact = spec.target.path === 'none' && spec.target.method === null
  let actor: { id: string, roles: string[] } | null = null
  if (route === 'logoutAll' || route === 'deleteSession') {
    tally.oracles++
    actor = await whoIs(app, request)
    if (actor !== null && PROTECTED_IDS.has(actor.id)) {
      if (route === 'logoutAll') throw new Skip()
      const path = pathname(request.url as string)
      const own = [...owners].filter(([, owner]) => owner === actor!.id).map(([sid]) => sid)
      if (own.some((sid) => path.includes(sid) || safeDecode(path).includes(sid))) throw new Skip()
    }
  }

  let response: LightMyRequestResponse
  try {
    response = await app.inject(request)
  } catch (error) {
    throw new Error(`inject threw ${(error as Error).stack}\nrequest: ${describeRequest(request)}`)
  }
  const method = String(request.method)
  // FUZZ_DEBUG=<property name>: one line per case of that property, on stderr.
  if (process.env.FUZZ_DEBUG === property) console.error(`${fixture.counter} ${method} ${request.url} ${JSON.stringify(request.headers).slice(0, 200)} ${String(request.payload).slice(0, 150)} -> ${response.statusCode} ${response.body.slice(0, 80)}`)
  tally.record(property, response, method, exact ? `${ROUTES[route].method} ${ROUTES[route].path}${route === 'deleteSession' ? ':id' : route === 'underAuth' ? '*' : ''}` : null)

  const problems: string[] = []
  const status = response.statusCode
  if (status >= 500) problems.push(`status ${status}`)
  else if (status < 200 || (status >= 300 && status < 400)) problems.push(`unexpected status ${status}`)
  const strict = underPrefix(request.url as string) || (exact && ['jwks', 'me', 'meStrict', 'admin'].includes(route))
  let body: Record<string, unknown> | null = null
  try { body = response.json() } catch {}
  if (status >= 400) problems.push(...errorProblems(response, method, strict))
  const code = typeof body?.code === 'string' ? body.code : null

  // Whatever the route: a token response is only ever mallory's.
  if (body !== null && typeof body.accessToken === 'string') {
    const sub = decodeSub(body.accessToken)
    if (sub !== MALLORY.id) problems.push(`issued a token for ${String(sub)}`)
    if (!String(response.headers['cache-control']).includes('no-store')) problems.push('token response without Cache-Control: no-store')
  }
  // RFC 6750's Bearer challenge, or RFC 9449's DPoP one for a token sent with the DPoP scheme.
  if (status === 401 && code !== null && /^AUTH_(TOKEN_|SESSION_REVOKED|DPOP_)/.test(code) && !/^(Bearer|DPoP)(\s|$)/.test(String(response.headers['www-authenticate']))) {
    problems.push(`${code} without WWW-Authenticate: Bearer or DPoP`)
  }
  if (status === 429 && response.headers['retry-after'] === undefined) problems.push('429 without Retry-After')
  // An error never echoes a credential it was sent (token, cookie value, password, body string).
  if (status >= 400) {
    const authorization = (request.headers as Record<string, string>).authorization
    const echoed = [...carriedStrings(request), ...(authorization === undefined ? [] : [authorization, authorization.replace(/^\S+\s+/, '')])]
      .filter((value) => value.length >= 16 && response.body.includes(value))
    if (echoed.length > 0) problems.push(`error body echoes ${echoed[0]!.slice(0, 40)}`)
  }
  if (code === 'AUTH_REFRESH_REUSED') {
    const mallory = new Set(world.pools.malloryRefresh)
    if (!carriedStrings(request).some((value) => mallory.has(value))) problems.push('AUTH_REFRESH_REUSED for a token that was never issued')
  }

  if (exact) {
    const headers = request.headers as Record<string, string>
    const cookieToken = headers.cookie === undefined ? undefined : fastifyCookie.parse(headers.cookie).refresh_token
    const cookieCarried = request.payload === undefined && typeof cookieToken === 'string' && cookieToken !== ''
    switch (route) {
      case 'refresh':
      case 'logout':
        if (cookieCarried && headers.origin !== undefined && CROSS_SITE.has(headers.origin) && status !== 403) problems.push(`cross-site cookie-carried ${route} answered ${status}`)
        if (route === 'refresh' && status === 401) {
          // Every 401 clears the cookie, but for a stale duplicate of a token the server did issue
          // (two rotations old, within the grace window: README "stale"), which keeps it.
          const cleared = refreshCookie(response)
          const issued = new Set(world.pools.malloryRefresh)
          const stale = code === 'AUTH_REFRESH_INVALID' && carriedStrings(request).some((value) => issued.has(value))
          if (!stale && (cleared === undefined || cleared.value !== '' || cleared.maxAge !== 0)) problems.push('refresh 401 without clearing the cookie')
        }
        if (route === 'logout' && status >= 200 && status < 300 && status !== 204) problems.push(`logout answered ${status}`)
        break
      case 'logoutAll':
      case 'deleteSession':
        if (status >= 200 && status < 300 && actor?.id !== MALLORY.id) problems.push(`${route} answered ${status} for ${actor?.id ?? 'nobody'}`)
        break
      case 'reauthenticate':
        // Only mallory, with her own token and her own username and password; never a cookie (nothing rotates).
        if (status === 200) {
          const [username, password] = loginPair(request) ?? []
          if (actor?.id !== MALLORY.id || username !== MALLORY.username || password !== MALLORY.password) problems.push(`reauthenticate answered 200 for ${actor?.id ?? 'nobody'} with ${String(username)}'s credentials`)
          if (response.headers['set-cookie'] !== undefined) problems.push('reauthenticate set a cookie')
        }
        break
      case 'sessions':
        if (status === 200) {
          const who = await whoIs(app, request)
          const listed = (body?.sessions ?? []) as Array<{ id: string, current: boolean }>
          const foreign = listed.filter((s) => owners.has(s.id) && owners.get(s.id) !== who?.id)
          if (who === null || foreign.length > 0) problems.push(`sessions of another user listed for ${who?.id ?? 'nobody'}: ${foreign.map((s) => s.id).join(',')}`)
          if (listed.filter((s) => s.current).length > 1) problems.push('more than one current session')
        }
        break
      case 'admin':
        if (status === 200 && (await whoIs(app, request))?.roles.includes('admin') !== true) problems.push('/admin answered 200 without the admin role')
        break
      case 'jwks':
        if (fixture.keySet && status !== 200) problems.push(`JWKS answered ${status}`)
        if (!fixture.keySet && status !== 404) problems.push(`JWKS answered ${status} with HS256`)
        if (status === 200 && /"(d|p|q|dp|dq|qi|k)"\s*:/.test(response.body)) problems.push('private key material in the JWKS')
        break
      default:
        break
    }
  }

  // Harvest what mallory got, for later cases to use (or to reuse).
  if (body !== null && typeof body.accessToken === 'string' && decodeSub(body.accessToken) === MALLORY.id) {
    world.pools.malloryAccess.push(body.accessToken)
    if (typeof body.refreshToken === 'string') world.pools.malloryRefresh.push(body.refreshToken)
    const cookie = refreshCookie(response)?.value
    if (cookie !== undefined && cookie !== '') world.pools.malloryRefresh.push(cookie)
    if (typeof body.sessionId === 'string') {
      world.pools.mallorySid.push(body.sessionId)
      owners.set(body.sessionId, MALLORY.id)
    }
  }

  if (problems.length > 0) throw new Error(`${problems.join('; ')}\nrequest: ${describeRequest(request)}\nresponse: ${status} ${JSON.stringify(response.headers)} ${response.body.slice(0, 300)}`)
}

async function fuzz (t: Test, fixture: Fixture, label: string): Promise<{ tally: Tally, expected: number }> {
  const tally = new Tally()
  let expected = 0
  const props = properties([MALLORY.password, ALICE.password, ADMIN.password, BOB.password])
  const weights = props.reduce((sum, p) => sum + p.weight, 0)
  const rejections = watchUnhandledRejections()
  for (const [index, property] of props.entries()) {
    const numRuns = settings.runs(property.weight, weights)
    expected += numRuns
    const seed = settings.seed + index
    const started = Date.now()
    await t.test(`${label}: ${property.name} (${numRuns} cases, seed ${seed})`, async (t) => {
      const details = await fc.check(fc.asyncProperty(property.arb, async (spec) => {
        try {
          await runCase(fixture, tally, property.name, spec)
        } catch (error) {
          if (error instanceof Skip) {
            tally.skipped++
            fc.pre(false)
          }
          throw error
        }
      }), { seed, numRuns, maxSkipsPerRun: 1000 })
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
        t.fail(`${label} ${property.name}: ${cause}\ncounterexample (seed ${seed}, path ${details.counterexamplePath}): ${fc.stringify(details.counterexample)}`)
      } else {
        t.ok(details.numRuns >= numRuns, `${details.numRuns} cases in ${Date.now() - started} ms`)
      }
    })
  }
  await new Promise((resolve) => setImmediate(resolve))
  const seen = rejections.stop()
  t.same(seen.map(String), [], 'no unhandled rejection during the fuzz')
  return { tally, expected }
}

/** The protected users' seeded sessions survived every case, and the store holds no new one of theirs. */
async function invariants (t: Test, fixture: Fixture): Promise<void> {
  const { app, seeded } = fixture
  for (const user of PROTECTED) {
    const listed = (await app.refreshSessions.listSessions(user.id)).map((s) => s.id).sort()
    t.same(listed, seeded.filter((s) => s.user === user).map((s) => s.sessionId).sort(), `${user.username}: exactly the seeded sessions`)
  }
  for (const [i, session] of seeded.entries()) {
    const me = await app.inject({ method: 'GET', url: '/me/strict', headers: { authorization: `Bearer ${session.accessToken}` } })
    t.equal(me.statusCode, 200, `seeded session ${i} (${session.user.username}): its access token still passes authenticateSession`)
    const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: `refresh_token=${session.refreshToken}` } })
    t.equal(refreshed.statusCode, 200, `seeded session ${i} (${session.user.username}): its refresh token still refreshes`)
  }
  const relogin = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(relogin.statusCode, 200, 'alice can still log in')
}

const OPTIONS = {
  transport: 'both' as const,
  allowedOrigins: ['https://app.example'],
  // Short, so that mallory's retired tokens are replayed both within the grace window and after it.
  refreshToken: { reuseGrace: '300ms' },
  // Thousands of failed logins from a handful of ips: the limits have their own tests.
  loginLimits: { perUserIp: { max: 1_000_000, window: '1m' }, perIp: { max: 1_000_000, window: '1m' } }
}

t.test('memory store, HS256', async (t) => {
  const started = Date.now()
  const { app } = await buildApp(t, { users: [ALICE, ADMIN, BOB, MALLORY], options: OPTIONS })
  const fixture = await setUp(app, false)
  const { tally, expected } = await fuzz(t, fixture, 'memory')
  await invariants(t, fixture)
  t.comment(`memory store, HS256: ${Date.now() - started} ms\n${tally.summary()}`)
  t.ok(tally.cases >= expected, `${tally.cases} cases run (${expected} asked for)`)
})

t.test('Redis store, EdDSA + ES256 key set, access token also from a cookie', async (t) => {
  const started = Date.now()
  const server = await redisForTest(t)
  const redis = await connectRedis(t, server)
  const prefix = uniquePrefix('fuzz')
  const ed = generateKeyPairSync('ed25519')
  const es = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { app } = await buildApp(t, {
    users: [ALICE, ADMIN, BOB, MALLORY],
    options: {
      ...OPTIONS,
      redis,
      prefix,
      commandTimeout: '5s',
      accessToken: {
        keys: [{ kid: 'k-ed', alg: 'EdDSA', ...ed }, { kid: 'k-es', alg: 'ES256', publicKey: es.publicKey }],
        ttl: '15m',
        cookieName: 'access_token'
      }
    }
  })
  const fixture = await setUp(app, true)
  const { tally, expected } = await fuzz(t, fixture, 'redis')
  await invariants(t, fixture)
  await keysExpire(t, redis, prefix)
  t.comment(`Redis store, key set: ${Date.now() - started} ms\n${tally.summary()}`)
  t.ok(tally.cases >= expected, `${tally.cases} cases run (${expected} asked for)`)
})

/** Nothing a client sent left a key behind that never expires. */
async function keysExpire (t: Test, redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`)
  const immortal: string[] = []
  for (const key of keys) if (await redis.pttl(key) < 0) immortal.push(key)
  t.ok(keys.length > 0, `${keys.length} keys under the prefix`)
  t.same(immortal, [], 'every key has a TTL')
}
