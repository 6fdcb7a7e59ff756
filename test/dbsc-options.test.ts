/**
 * The dbsc options: off by default; each bad value fails registration naming the option; the
 * bound cookie follows the refresh cookie's attributes (a `__Host-` prefix included) and its
 * lifetime option; an explicit secret is the HMAC key on every instance.
 */
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { buildApp, HS256_SECRET, refreshCookie, registerPlugin } from './helpers/build-app.js'
import { dbscProof, generateDbscKey, sfParam } from './helpers/dbsc-client.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'
import { redisForTest } from '../support/redis-harness.js'

const base = { accessToken: { secret: HS256_SECRET }, findUser: (): null => null }

t.test('a bad dbsc option fails registration with a message naming it', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keys = [{ kid: 'k1', alg: 'ES256', privateKey, publicKey }]
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown dbsc option', { ...base, dbsc: { enabled: true, cookie: 'x' } }, /option dbsc\.cookie is not a known option/],
    ['boundCookieMaxAge 1.5s', { ...base, dbsc: { enabled: true, boundCookieMaxAge: '1.5s' } }, /option dbsc\.boundCookieMaxAge must be whole seconds, at least 1s/],
    ['boundCookieMaxAge 0', { ...base, dbsc: { enabled: true, boundCookieMaxAge: 0 } }, /option dbsc\.boundCookieMaxAge must be whole seconds, at least 1s/],
    ['challengeTtl 500ms', { ...base, dbsc: { enabled: true, challengeTtl: '500ms' } }, /option dbsc\.challengeTtl must be at least 1s/],
    ['a short secret', { ...base, dbsc: { enabled: true, secret: 'short' } }, /option dbsc\.secret must be at least 32 bytes/],
    ['a secret that is a number', { ...base, dbsc: { enabled: true, secret: 42 } }, /option dbsc\.secret must be a string or a Buffer/],
    ['no secret with a key set', { ...base, accessToken: { keys }, dbsc: { enabled: true } }, /option dbsc\.secret is required with accessToken\.keys/],
    ['the refresh cookie\'s name', { ...base, dbsc: { enabled: true, boundCookieName: 'refresh_token' } }, /option dbsc\.boundCookieName must differ from cookie\.name/],
    ['a route without a slash', { ...base, dbsc: { enabled: true, routes: { refresh: 'dbsc' } } }, /option dbsc\.routes\.refresh/]
  ]
  for (const [name, options, message] of cases) await t.rejects(registerPlugin(options), message, name)
  await t.resolves(registerPlugin({ ...base, accessToken: { keys }, dbsc: { enabled: true, secret: Buffer.alloc(32, 7) } }), 'a key set with a secret')
  await t.resolves(registerPlugin({ ...base, accessToken: { keys }, dbsc: { enabled: false } }), 'no secret needed while off')
})

async function registerDevice (app: Awaited<ReturnType<typeof buildApp>>['app'], url = '/auth'): Promise<{ setCookie: string, attributes: string }> {
  const login = await app.inject({ method: 'POST', url: `${url}/login`, payload: { username: 'alice', password: 'alice-password-1' } })
  const offer = login.headers['secure-session-registration'] as string
  const response = await app.inject({ method: 'POST', url: sfParam(offer, 'path')!, headers: { 'secure-session-response': await dbscProof(await generateDbscKey(), sfParam(offer, 'challenge')!, { withKey: true }) } })
  return { setCookie: response.headers['set-cookie'] as string, attributes: response.json().credentials[0].attributes }
}

t.test('the bound cookie follows the refresh cookie', async (t) => {
  const hostPrefixed = await buildApp(t, { options: { cookie: { hostPrefix: true }, dbsc: { enabled: true, boundCookieName: 'dev', boundCookieMaxAge: '90s' } } })
  const a = await registerDevice(hostPrefixed.app)
  t.equal(a.attributes, 'Path=/; Secure; HttpOnly; SameSite=Strict')
  t.match(a.setCookie, /^__Host-dev=[^;]+; Max-Age=90; Path=\/; Secure; HttpOnly; SameSite=Strict$/)

  const lax = await buildApp(t, { options: { cookie: { secure: false, sameSite: 'lax', domain: 'example.com', path: '/' }, dbsc: { enabled: true } } })
  const b = await registerDevice(lax.app)
  t.equal(b.attributes, 'Path=/; Domain=example.com; HttpOnly; SameSite=Lax')
  t.equal(b.setCookie.slice(b.setCookie.indexOf('; Max-Age=600; ') + '; Max-Age=600; '.length), b.attributes, 'byte for byte')
})

t.test('an explicit secret: a bound cookie made by one instance is good on another of the same deployment, not under another secret', async (t) => {
  const server = await redisForTest(t)
  const prefix = uniquePrefix('dbsc')
  const instance = async (secret: string): Promise<Awaited<ReturnType<typeof buildApp>>['app']> => (await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, dbsc: { enabled: true, secret } } })).app
  const secret = 'a-dbsc-secret-shared-by-every-instance-0123'
  const [one, two, foreign] = [await instance(secret), await instance(secret), await instance('another-secret-of-another-deployment-01234')]
  const login = await one.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password-1' } })
  const offer = login.headers['secure-session-registration'] as string
  const registered = await two.inject({ method: 'POST', url: '/auth/dbsc/register', headers: { 'secure-session-response': await dbscProof(await generateDbscKey(), sfParam(offer, 'challenge')!, { withKey: true }) } })
  t.equal(registered.statusCode, 200, 'the challenge issued by one instance is redeemed on another')
  const bound = refreshCookie(registered, 'bound_session')!.value
  const refresh = async (app: typeof one, token: string): Promise<{ statusCode: number, code?: string, token?: string }> => {
    const response = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: token, bound_session: bound } })
    return { statusCode: response.statusCode, code: response.json().code, token: refreshCookie(response)?.value }
  }
  t.match(await refresh(foreign, refreshCookie(login)!.value), { statusCode: 401, code: 'AUTH_REFRESH_UNBOUND' }, 'another secret does not accept it')
  const first = await refresh(one, refreshCookie(login)!.value)
  t.equal(first.statusCode, 200, 'the instance that did not make the cookie accepts it')
})
