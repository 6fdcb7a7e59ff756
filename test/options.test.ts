/**
 * Options: a bad one fails registration with a message naming it; durations are parsed once
 * ('15m', '7d', '10s', '500ms', numbers = seconds) and show up where they act; the defaults are
 * the ones README and SPEC list; without `redis`, one warning at start.
 */
import t from 'tap'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { errors, parseDuration } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import { ALICE, BOB, HS256_SECRET, buildApp, login, refreshCookie, registerPlugin } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis } from './helpers/redis-clients.js'

const findUser = (): null => null
const base = { accessToken: { secret: HS256_SECRET }, findUser }

const DURATION = /must be a duration such as '15m', '7d', '10s', '500ms', or a number of seconds/

t.test('a bad option fails registration with a message naming it', async (t) => {
  const fakeRedis = { get () {}, set () {} }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['missing accessToken', { findUser }, /^fastify-refresh-sessions: option accessToken is required$/],
    ['accessToken without secret or keys', { accessToken: {}, findUser }, /option accessToken needs exactly one of secret \(HS256\) or keys/],
    ['short secret', { ...base, accessToken: { secret: 'only-31-bytes-long-secret-12345' } }, /option accessToken\.secret must be at least 32 bytes for HS256/],
    ['short Buffer secret', { ...base, accessToken: { secret: Buffer.alloc(16) } }, /option accessToken\.secret must be at least 32 bytes/],
    ['secret of the wrong type', { ...base, accessToken: { secret: 12345 } }, /option accessToken\.secret must be a string or a Buffer/],
    ["ttl '15 minutes'", { ...base, accessToken: { secret: HS256_SECRET, ttl: '15 minutes' } }, new RegExp(`option accessToken\\.ttl ${DURATION.source}`)],
    ['ttl -1', { ...base, accessToken: { secret: HS256_SECRET, ttl: -1 } }, new RegExp(`option accessToken\\.ttl ${DURATION.source}`)],
    ['ttl 0', { ...base, accessToken: { secret: HS256_SECRET, ttl: 0 } }, /option accessToken\.ttl must be at least 1s/],
    ["ttl '400ms'", { ...base, accessToken: { secret: HS256_SECRET, ttl: '400ms' } }, /option accessToken\.ttl must be at least 1s/],
    ["idleTtl 'forever'", { ...base, refreshToken: { idleTtl: 'forever' } }, new RegExp(`option refreshToken\\.idleTtl ${DURATION.source}`)],
    ["idleTtl '500ms' (< 1s)", { ...base, refreshToken: { idleTtl: '500ms' } }, /option refreshToken\.idleTtl must be at least 1s/],
    ['idleTtl 0.5 (seconds, < 1s)', { ...base, refreshToken: { idleTtl: 0.5 } }, /option refreshToken\.idleTtl must be at least 1s/],
    ["absoluteTtl '999ms'", { ...base, refreshToken: { absoluteTtl: '999ms' } }, /option refreshToken\.absoluteTtl must be at least 1s/],
    ['reuseGrace -5', { ...base, refreshToken: { reuseGrace: -5 } }, new RegExp(`option refreshToken\\.reuseGrace ${DURATION.source}`)],
    ["commandTimeout 'soon'", { ...base, commandTimeout: 'soon' }, new RegExp(`option commandTimeout ${DURATION.source}`)],
    ['commandTimeout 0', { ...base, commandTimeout: 0 }, /option commandTimeout must be at least 1ms/],
    ["loginLimits window '1 minute'", { ...base, loginLimits: { perIp: { max: 5, window: '1 minute' } } }, new RegExp(`option loginLimits\\.perIp\\.window ${DURATION.source}`)],
    ['loginLimits max 0', { ...base, loginLimits: { perUserIp: { max: 0, window: '1m' } } }, /option loginLimits\.perUserIp\.max expected integer to be greater or equal to 1/],
    ['loginLimits true', { ...base, loginLimits: true }, /option loginLimits must be false, or \{ perUserIp/],
    ["transport 'carrier-pigeon'", { ...base, transport: 'carrier-pigeon' }, /option transport must be one of "cookie", "body", "both"/],
    ["cookie.sameSite 'sideways'", { ...base, cookie: { sameSite: 'sideways' } }, /option cookie\.sameSite must be one of "strict", "lax", "none"/],
    ['cookie.hostPrefix with a domain', { ...base, cookie: { hostPrefix: true, domain: 'example.com' } }, /option cookie\.hostPrefix requires secure, no domain and path \//],
    ['cookie.hostPrefix without secure', { ...base, cookie: { hostPrefix: true, secure: false } }, /option cookie\.hostPrefix requires secure/],
    ['cookie.hostPrefix with a path', { ...base, cookie: { hostPrefix: true, path: '/auth' } }, /option cookie\.hostPrefix requires .*path \//],
    ['cookie.sameSite none without secure', { ...base, cookie: { sameSite: 'none', secure: false } }, /option cookie\.sameSite none requires cookie\.secure/],
    ['cookie.name with a space', { ...base, cookie: { name: 'refresh token' } }, /option cookie\.name expected string to match '\^\[A-Za-z0-9_-\]\+\$'/],
    ['findUser missing', { accessToken: { secret: HS256_SECRET } }, /option findUser must be a function/],
    ['findUser not a function', { ...base, findUser: 'users' }, /option findUser must be a function/],
    ['loadUser not a function', { ...base, loadUser: 42 }, /option loadUser must be a function/],
    ...(['onLogin', 'onLoginFailed', 'onRefresh', 'onLogout', 'onReuseDetected', 'onPasswordRehash', 'onSessionBound', 'onProofRefused'] as const).map((hook): [string, Record<string, unknown>, RegExp] =>
      [`${hook} not a function`, { ...base, [hook]: 'audit' }, new RegExp(`option ${hook} must be a function`)]),
    ['redis a URL string', { ...base, redis: 'redis://127.0.0.1:6379' }, /option redis must be an ioredis Redis or Cluster instance/],
    ['redis a plain object', { ...base, redis: fakeRedis }, /option redis must be an ioredis Redis or Cluster instance/],
    ['redis null', { ...base, redis: null }, /option redis must be an ioredis Redis or Cluster instance/],
    ['unknown key in accessToken', { ...base, accessToken: { secret: HS256_SECRET, algorithm: 'HS512' } }, /option accessToken\.algorithm is not a known option/],
    ['unknown key in cookie', { ...base, cookie: { httpOnly: false } }, /option cookie\.httpOnly is not a known option/],
    ['unknown key in refreshToken', { ...base, refreshToken: { idleTTL: '7d' } }, /option refreshToken\.idleTTL is not a known option/],
    ['unknown key in routes', { ...base, routes: { signin: '/signin' } }, /option routes\.signin is not a known option/],
    ['prefix with braces', { ...base, prefix: 'rs:{tenant}:' }, /option prefix must be a string of at most 64 characters without braces or whitespace/],
    ['prefix with a space', { ...base, prefix: 'rs x:' }, /option prefix .*without braces or whitespace/],
    ['maxSessionsPerUser 0', { ...base, maxSessionsPerUser: 0 }, /option maxSessionsPerUser expected integer to be greater or equal to 1/],
    ['allowedOrigins with a path', { ...base, allowedOrigins: ['https://app.example/login'] }, /option allowedOrigins\.0 expected string to match/],
    ['argon2 weaker than 1 MiB', { ...base, argon2: { memoryCost: 64 } }, /option argon2\.memoryCost expected integer to be greater or equal to 1024/],
    ['argon2Queue concurrency 0', { ...base, argon2Queue: { concurrency: 0 } }, /option argon2Queue\.concurrency expected integer to be greater or equal to 1/],
    ['argon2Queue concurrency 1.5', { ...base, argon2Queue: { concurrency: 1.5 } }, /option argon2Queue\.concurrency expected integer/],
    ['argon2Queue maxQueued -1', { ...base, argon2Queue: { maxQueued: -1 } }, /option argon2Queue\.maxQueued expected integer to be greater or equal to 0/],
    ['argon2Queue true', { ...base, argon2Queue: true }, /option argon2Queue must be false, or \{ concurrency\?, maxQueued\?, lowerPoolPriority\? \}/],
    ['argon2Queue with an unknown key', { ...base, argon2Queue: { size: 4 } }, /option argon2Queue\.size is not a known option/],
    ['routePrefix without a slash', { ...base, routePrefix: 'auth' }, /option routePrefix expected string to match/],
    ['dpop.iatWindow 0s', { ...base, dpop: { iatWindow: '0s' } }, /option dpop\.iatWindow must be from 1s to 5m/],
    ['dpop.iatWindow 10m', { ...base, dpop: { iatWindow: '10m' } }, /option dpop\.iatWindow must be from 1s to 5m/],
    ['dpop.algorithms HS256', { ...base, dpop: { algorithms: ['HS256'] } }, /option dpop\.algorithms\.0 must be one of "ES256"/],
    ['dpop.nonce.secret short', { ...base, dpop: { nonce: { secret: 'short' } } }, /option dpop\.nonce\.secret must be a string or Buffer of at least 32 bytes/],
    ['dpop.nonce.secret a number', { ...base, dpop: { nonce: { secret: 42 } } }, /option dpop\.nonce\.secret must be a string or Buffer/],
    ['dpop.nonce.window 500ms', { ...base, dpop: { nonce: { secret: HS256_SECRET, window: '500ms' } } }, /option dpop\.nonce\.window must be at least 1s/],
    ['requireBinding.clients a string', { ...base, requireBinding: { clients: 'ios' } }, /option requireBinding\.clients expected array/]
  ]
  for (const [name, options, message] of cases) {
    await t.rejects(registerPlugin(options), { name: 'OptionsError', code: 'AUTH_INVALID_OPTION', message }, name)
  }
})

t.test('an option error: a TypeError named OptionsError, with the stable code AUTH_INVALID_OPTION', async (t) => {
  const error = new errors.OptionsError('option accessToken.ttl must be at least 1s')
  t.ok(error instanceof TypeError, 'a TypeError')
  t.ok(error instanceof errors.OptionsError, 'an errors.OptionsError')
  t.equal(error.name, 'OptionsError')
  t.equal(error.code, 'AUTH_INVALID_OPTION')
  t.equal(error.message, 'fastify-refresh-sessions: option accessToken.ttl must be at least 1s')
  t.equal(String(error), 'OptionsError [AUTH_INVALID_OPTION]: fastify-refresh-sessions: option accessToken.ttl must be at least 1s')
  t.notOk(new TypeError('x') instanceof errors.OptionsError, 'another TypeError is not one')
})

t.test('values the store, the login limiter or the password hasher would refuse fail registration as option errors naming the option', async (t) => {
  const eons = '99999999999999999999d'
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['idleTtl beyond a safe integer of ms', { ...base, refreshToken: { idleTtl: eons } }, /option refreshToken\.idleTtl is too long/],
    ['absoluteTtl beyond a safe integer of ms', { ...base, refreshToken: { absoluteTtl: eons } }, /option refreshToken\.absoluteTtl is too long/],
    ['reuseGrace beyond a safe integer of ms', { ...base, refreshToken: { reuseGrace: eons } }, /option refreshToken\.reuseGrace is too long/],
    ['reuseGrace as seconds beyond it', { ...base, refreshToken: { reuseGrace: 1e300 } }, /option refreshToken\.reuseGrace is too long/],
    ['commandTimeout beyond it', { ...base, commandTimeout: eons }, /option commandTimeout is too long/],
    ['accessToken.ttl beyond it', { ...base, accessToken: { secret: HS256_SECRET, ttl: eons } }, /option accessToken\.ttl is too long/],
    ["loginLimits window '0s'", { ...base, loginLimits: { perIp: { max: 5, window: '0s' } } }, /option loginLimits\.perIp\.window must be at least 1ms/],
    ["loginLimits window '0.4ms'", { ...base, loginLimits: { perUserIp: { max: 5, window: '0.4ms' } } }, /option loginLimits\.perUserIp\.window must be at least 1ms/],
    ['loginLimits window beyond it', { ...base, loginLimits: { perIp: { max: 5, window: eons } } }, /option loginLimits\.perIp\.window is too long/],
    ['loginLimits max beyond a safe integer', { ...base, loginLimits: { perIp: { max: 1e20, window: '1m' } } }, /option loginLimits\.perIp\.max expected integer to be less or equal to 9007199254740991/],
    ['argon2 timeCost beyond a safe integer', { ...base, argon2: { timeCost: 1e20 } }, /option argon2\.timeCost expected integer to be less or equal to 9007199254740991/],
    ['argon2 memoryCost beyond a safe integer', { ...base, argon2: { memoryCost: 1e20 } }, /option argon2\.memoryCost expected integer to be less or equal to 9007199254740991/],
    ['argon2 parallelism beyond a safe integer', { ...base, argon2: { parallelism: 1e20 } }, /option argon2\.parallelism expected integer to be less or equal to 9007199254740991/],
    ['verifyCacheSize beyond what the cache can hold', { ...base, accessToken: { secret: HS256_SECRET, verifyCacheSize: 2 ** 32 } }, /option accessToken\.verifyCacheSize expected integer to be less or equal to 4294967295/],
    ["accessToken.clockSkew '500ms'", { ...base, accessToken: { secret: HS256_SECRET, clockSkew: '500ms' } }, /option accessToken\.clockSkew must be whole seconds from 0s to 5m/],
    ["accessToken.clockSkew '6m'", { ...base, accessToken: { secret: HS256_SECRET, clockSkew: '6m' } }, /option accessToken\.clockSkew must be whole seconds from 0s to 5m/],
    ['accessToken.clockSkew -1', { ...base, accessToken: { secret: HS256_SECRET, clockSkew: -1 } }, /option accessToken\.clockSkew/],
    ['accessToken.clockSkew beyond it', { ...base, accessToken: { secret: HS256_SECRET, clockSkew: eons } }, /option accessToken\.clockSkew is too long/]
  ]
  for (const [name, options, message] of cases) {
    await t.rejects(registerPlugin(options), { name: 'OptionsError', code: 'AUTH_INVALID_OPTION', message }, name)
  }
})

t.test('parseDuration: units once, numbers are seconds', async (t) => {
  const table: Array<[string | number, number]> = [
    ['500ms', 500], ['10s', 10_000], ['15m', 900_000], ['1h', 3_600_000], ['7d', 604_800_000], ['2w', 1_209_600_000],
    [' 15m ', 900_000], ['1.5s', 1500], [60, 60_000], [0.5, 500], [0, 0]
  ]
  for (const [input, ms] of table) t.equal(parseDuration(input), ms, `${JSON.stringify(input)} = ${ms} ms`)
  for (const bad of ['15 minutes', '15', 'm', '-1s', '1y', '']) t.throws(() => parseDuration(bad), TypeError, `${JSON.stringify(bad)} is refused`)
})

t.test('durations show up where they act', async (t) => {
  const expiresIn = async (ttl: string | number | undefined): Promise<{ expiresIn: number, lifetime: number }> => {
    const { app } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, ...(ttl !== undefined && { ttl }) } } })
    const { body, accessToken } = await login(app)
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { iat: number, exp: number }
    return { expiresIn: body.expiresIn as number, lifetime: claims.exp - claims.iat }
  }
  t.same(await expiresIn('15m'), { expiresIn: 900, lifetime: 900 }, "ttl '15m': expiresIn 900, exp - iat 900")
  t.same(await expiresIn(60), { expiresIn: 60, lifetime: 60 }, 'ttl 60 (seconds): expiresIn 60')
  t.same(await expiresIn('10s'), { expiresIn: 10, lifetime: 10 }, "ttl '10s': expiresIn 10")
  t.same(await expiresIn('1h'), { expiresIn: 3600, lifetime: 3600 }, "ttl '1h': 3600")
  t.same(await expiresIn(undefined), { expiresIn: 900, lifetime: 900 }, 'default ttl: 15 minutes')

  const maxAge = async (refreshToken: Record<string, string | number>): Promise<number> => {
    const { app } = await buildApp(t, { options: { refreshToken } })
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
    return refreshCookie(response)?.maxAge as number
  }
  const near = (value: number, seconds: number): boolean => value <= seconds && value >= seconds - 2
  const idle7d = await maxAge({ idleTtl: '7d' })
  t.ok(near(idle7d, 604_800), `idleTtl '7d': cookie Max-Age ${idle7d} ~ 604800`)
  const idle120 = await maxAge({ idleTtl: 120 })
  t.ok(near(idle120, 120), `idleTtl 120 (seconds): Max-Age ${idle120} ~ 120`)
  const absolute = await maxAge({ idleTtl: '7d', absoluteTtl: '90s' })
  t.ok(near(absolute, 90), `absoluteTtl '90s' under idleTtl '7d': Max-Age ${absolute} ~ 90 (the smaller)`)

  t.test("reuseGrace '500ms': a replay at once is grace, after 600 ms it is reuse", async (t) => {
    const { app } = await buildApp(t, { options: { refreshToken: { reuseGrace: '500ms' } } })
    const { refreshToken } = await login(app)
    const refresh = () => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshToken } })
    t.equal((await refresh()).statusCode, 200, 'rotated')
    t.equal((await refresh()).statusCode, 200, 'replayed within the grace')
    await sleep(600)
    t.equal((await refresh()).json().code, 'AUTH_REFRESH_REUSED', 'reused after it')
  })

  t.test("default reuseGrace ('10s'): a replay after 600 ms is still grace", async (t) => {
    const { app } = await buildApp(t)
    const { refreshToken } = await login(app)
    const refresh = () => app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshToken } })
    const first = await refresh()
    await sleep(600)
    const replay = await refresh()
    t.equal(replay.statusCode, 200, 'grace')
    t.equal(refreshCookie(replay)?.value, refreshCookie(first)?.value, 'the same newest token')
  })
})

t.test('defaults, as README and SPEC list them', async (t) => {
  const { app } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET }, argon2: undefined } })

  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(response.statusCode, 200, 'POST /auth/login')
  const body = response.json()
  t.same(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'sessionId', 'tokenType'], "transport 'cookie': no refreshToken in the body")
  t.equal(body.tokenType, 'Bearer')
  t.equal(body.expiresIn, 900, 'access token ttl 15m')
  t.equal(response.headers['cache-control'], 'no-store')
  const cookie = refreshCookie(response)
  t.ok(cookie !== undefined, 'cookie refresh_token')
  t.match(cookie, { name: 'refresh_token', path: '/auth', httpOnly: true, secure: true, sameSite: 'Strict' }, 'HttpOnly; Secure; SameSite=Strict; Path=/auth')
  t.ok((cookie!.maxAge as number) >= 604_798 && (cookie!.maxAge as number) <= 604_800, `Max-Age idleTtl 7d (${String(cookie!.maxAge)})`)
  t.notOk('domain' in cookie!, 'no Domain')

  const token = body.accessToken as string
  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: cookie!.value } })
  t.equal(refresh.statusCode, 200, 'POST /auth/refresh')
  t.equal((await app.inject({ method: 'GET', url: '/auth/sessions', headers: { authorization: `Bearer ${token}` } })).statusCode, 200, 'GET /auth/sessions')
  t.equal((await app.inject({ method: 'DELETE', url: '/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA', headers: { authorization: `Bearer ${token}` } })).json().code, 'AUTH_SESSION_NOT_FOUND', 'DELETE /auth/sessions/:id')
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', cookies: { refresh_token: refreshCookie(refresh)!.value } })).statusCode, 204, 'POST /auth/logout')
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${token}` } })).statusCode, 204, 'POST /auth/logout-all')
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().code, 'AUTH_JWKS_NOT_FOUND', 'GET /.well-known/jwks.json (404 with HS256)')

  const hash = await app.refreshSessions.hashPassword('correct horse battery staple')
  t.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id m=19456,t=2,p=1 (OWASP)')
  const cores = availableParallelism()
  const coresLessOne = Math.max(1, cores - 1)
  t.same({ running: app.refreshSessions.argon2Queue!.running, queued: app.refreshSessions.argon2Queue!.queued }, { running: 0, queued: 0 }, 'argon2Queue on by default')
  t.same(resolveOptions({ accessToken: { secret: HS256_SECRET }, findUser: () => null }).argon2Queue, { concurrency: cores, maxQueued: 64 * cores, lowerPoolPriority: true, fallbackConcurrency: coresLessOne }, `argon2Queue: one per core (${cores}) below the event loop, the cores less one (${coresLessOne}) where the pool cannot be lowered, 64 waiting per slot`)
  t.same(resolveOptions({ accessToken: { secret: HS256_SECRET }, findUser: () => null, argon2Queue: { concurrency: 3 } }).argon2Queue, { concurrency: 3, maxQueued: 192, lowerPoolPriority: true, fallbackConcurrency: 3 }, 'maxQueued follows a given concurrency, which holds either way')
  t.same(resolveOptions({ accessToken: { secret: HS256_SECRET }, findUser: () => null, argon2Queue: { lowerPoolPriority: false } }).argon2Queue, { concurrency: coresLessOne, maxQueued: 64 * coresLessOne, lowerPoolPriority: false, fallbackConcurrency: coresLessOne }, 'lowerPoolPriority false: the cores less one')
  t.equal(resolveOptions({ accessToken: { secret: HS256_SECRET }, findUser: () => null, argon2Queue: false }).argon2Queue, false, 'false: no queue')

  t.test('maxSessionsPerUser 10: the 11th login evicts the oldest', async (t) => {
    const { app } = await buildApp(t)
    const first = await login(app, BOB)
    for (let i = 0; i < 10; i++) await login(app, BOB)
    const sessions = await app.refreshSessions.listSessions(BOB.id)
    t.equal(sessions.length, 10)
    t.notOk(sessions.some((s) => s.id === first.sessionId), 'the first session is gone')
  })

  t.test('loginLimits: 10 failures per username+ip, 100 per ip, in 15 minutes', async (t) => {
    const { app } = await buildApp(t)
    const attempt = (username: string, password: string, remoteAddress: string) =>
      app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { username, password } })
    for (let i = 0; i < 10; i++) t.equal((await attempt('alice', 'wrong', '192.0.2.1')).statusCode, 401, `failure ${i + 1}`)
    const limited = await attempt('alice', ALICE.password, '192.0.2.1')
    t.equal(limited.statusCode, 429, 'the 11th attempt is refused')
    const retryAfter = Number(limited.headers['retry-after'])
    t.ok(retryAfter > 890 && retryAfter <= 900, `Retry-After ${retryAfter} ~ 15 minutes`)

    for (let i = 0; i < 100; i++) {
      const response = await attempt(`user-${i % 25}`, 'wrong', '192.0.2.2')
      if (response.statusCode !== 401) t.fail(`failure ${i + 1} from the ip got ${response.statusCode}`)
    }
    t.equal((await attempt('someone-new', 'wrong', '192.0.2.2')).statusCode, 429, 'the 101st failure from one ip is refused')
  })
})

t.test('custom route prefix, routes and cookie follow', async (t) => {
  const { app } = await buildApp(t, { options: { routePrefix: '/api/auth', routes: { login: '/signin', jwks: false }, cookie: { name: 'rt' } } })
  const response = await app.inject({ method: 'POST', url: '/api/auth/signin', payload: { username: ALICE.username, password: ALICE.password } })
  t.equal(response.statusCode, 200, 'POST /api/auth/signin')
  t.match(refreshCookie(response, 'rt'), { path: '/api/auth' }, 'the cookie path follows the prefix')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { rt: refreshCookie(response, 'rt')!.value } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: {} })).statusCode, 404, 'nothing left at /auth/login')
  const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(jwks.statusCode, 404)
  t.not(jwks.json().code, 'AUTH_JWKS_NOT_FOUND', 'jwks: false removes the route')
})

t.test('without redis: one warning at start naming the in-memory store; with redis: none', async (t) => {
  const memory = await buildApp(t, { captureLogs: true })
  const warnings = memory.logs.map((line) => JSON.parse(line) as { level: number, msg: string }).filter((line) => line.level === 40)
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0]?.msg, /in-memory store/, String(warnings[0]?.msg))
  await login(memory.app)
  t.equal(memory.logs.filter((line) => line.includes('in-memory')).length, 1, 'and not again per request')

  const server = await redisForTest(t, { allowExternal: false })
  const redis = await connectRedis(t, server)
  const withRedis = await buildApp(t, { captureLogs: true, options: { redis } })
  t.equal(withRedis.logs.filter((line) => line.includes('in-memory')).length, 0, 'no warning with redis')

  // Default prefix: rs: (a private server, so the default prefix cannot collide with another test).
  await login(withRedis.app)
  const keys = await redis.keys('*')
  t.ok(keys.length > 0 && keys.every((key) => key.startsWith('rs:')), `keys under rs: (${keys.join(', ')})`)
})
