/**
 * How and when the user proved who they are: the session keeps it (auth_time, amr), every access
 * token of the session carries it unchanged through refreshes, authenticate puts it on
 * request.user, and GET /auth/sessions lists it. A session stored before it existed (authentication
 * '') has none: no claims, authTime undefined, amr []. On the memory store and on a real Redis.
 */
import t, { type Test } from 'tap'
import { redisForTest } from '../support/redis-harness.js'
import { decodeAuthentication, encodeAuthentication } from '../src/session/authentication.js'
import { ALICE, buildApp, login, type BuiltApp } from './helpers/build-app.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

/** Moves this process's clock (tokens' iat, auth_time) ahead; Redis keeps its own. */
function advanceClock (t: Test, ms: number): void {
  const realNow = Date.now
  Date.now = () => realNow() + ms
  t.teardown(() => { Date.now = realNow })
}

t.test('the encoding: compact, bounded, and anything else reads as none', async (t) => {
  t.equal(encodeAuthentication(['pwd'], 1_764_590_000), 't6lacw pwd', 'base36 seconds, then the methods: 10 bytes')
  t.equal(encodeAuthentication(['hwk', 'user'], 0), '0 hwk user')
  t.same(decodeAuthentication('t6lacw pwd'), { authTime: 1_764_590_000, amr: ['pwd'] })
  t.same(decodeAuthentication('0 hwk user'), { authTime: 0, amr: ['hwk', 'user'] })
  for (const stored of ['', null, undefined, 't6lacw', 'pwd@1', 'T6LACW pwd', 't6lacw  pwd', 't6lacw pwd ', `1 ${'a '.repeat(9).trim()}`, `1 ${'x'.repeat(25)}`, '123456789 pwd']) {
    t.equal(decodeAuthentication(stored), null, `${JSON.stringify(stored)}: none`)
  }
  t.throws(() => encodeAuthentication([]), TypeError)
  t.throws(() => encodeAuthentication(['a b']), TypeError)
})

const variants: Array<{ name: string, build: (t: Test) => Promise<BuiltApp> }> = [
  { name: 'memory store', build: async (t) => await buildApp(t, { options: { transport: 'body' } }) },
  {
    name: 'Redis store',
    build: async (t) => {
      const server = await redisForTest(t)
      return await buildApp(t, { options: { transport: 'body', redis: await connectRedis(t, server), prefix: uniquePrefix('authn') } })
    }
  }
]

for (const variant of variants) {
  t.test(variant.name, async (t) => {
    t.test('auth_time and amr are the sign-in\'s, on every token of the session, unchanged by refreshes', async (t) => {
      const { app } = await variant.build(t)
      const before = Math.floor(Date.now() / 1000)
      const signedIn = await login(app)
      const after = Math.floor(Date.now() / 1000)
      const first = claimsOf(signedIn.accessToken)
      t.ok((first.auth_time as number) >= before && (first.auth_time as number) <= after, 'auth_time: the login, in seconds')
      t.same(first.amr, ['pwd'])

      advanceClock(t, 60_000)
      let refreshToken = signedIn.refreshToken
      for (const round of [1, 2]) {
        const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } })
        t.equal(refreshed.statusCode, 200)
        refreshToken = refreshed.json().refreshToken
        const claims = claimsOf(refreshed.json().accessToken)
        t.ok((claims.iat as number) >= (first.iat as number) + 60, `refresh ${round}: a new token, a minute later`)
        t.equal(claims.auth_time, first.auth_time, `refresh ${round}: the same auth_time`)
        t.same(claims.amr, ['pwd'], `refresh ${round}: the same amr`)
      }

      const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${signedIn.accessToken}` } })
      t.same(me.json(), { id: ALICE.id, sessionId: signedIn.sessionId, roles: ['user'], claims: { tier: 'gold' }, authTime: first.auth_time, amr: ['pwd'] }, 'request.user.authTime (seconds) and amr')

      const list = await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${signedIn.accessToken}` } })
      t.same(list.json().sessions.map((s: Record<string, unknown>) => [s.id, s.authTime, s.amr]), [
        [signedIn.sessionId, new Date((first.auth_time as number) * 1000).toISOString(), ['pwd']]
      ], 'the session list: authTime as an ISO date, amr')
    })

    t.test('a session stored before auth_time existed: no claims, authTime undefined, amr [], null in the list', async (t) => {
      const { app } = await variant.build(t)
      // As 0.1 stored it: no authentication field at all ('').
      const old = await app.refreshSessions.sessions.create(ALICE.id, { userAgent: 'old/1', data: JSON.stringify([['user'], { tier: 'gold' }]) })
      t.equal(old.session.authentication, null)
      const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: old.token } })
      t.equal(refreshed.statusCode, 200, 'it refreshes as before')
      const { accessToken } = refreshed.json()
      const claims = claimsOf(accessToken)
      t.notOk('auth_time' in claims, 'no auth_time claim')
      t.notOk('amr' in claims, 'no amr claim')
      const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${accessToken}` } })
      t.same(me.json(), { id: ALICE.id, sessionId: old.session.id, roles: ['user'], claims: { tier: 'gold' }, amr: [] })
      const list = await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })
      t.same(list.json().sessions.map((s: Record<string, unknown>) => [s.authTime, s.amr]), [[null, []]])
    })
  })
}

t.test('amr and auth_time cannot be set through findUser claims, nor read back as app claims', async (t) => {
  const { app } = await buildApp(t, { users: [{ ...ALICE, claims: { tier: 'gold', amr: ['hwk'], auth_time: 1 } }] })
  const { accessToken } = await login(app)
  const claims = claimsOf(accessToken)
  t.same(claims.amr, ['pwd'])
  t.not(claims.auth_time, 1)
  const me = (await app.inject({ url: '/me', headers: { authorization: `Bearer ${accessToken}` } })).json()
  t.same(me.claims, { tier: 'gold' }, 'request.user.claims holds the app\'s own claims only')
})
