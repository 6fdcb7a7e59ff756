/**
 * Without loadUser, the login-time roles and claims ride in the session's opaque `data`: as
 * `[roles, claims]` (no more bytes per session than the `{ r, c }` of 0.1.0), and sessions that
 * 0.1.0 wrote keep their roles after a rolling deploy.
 */
import t from 'tap'
import { decodeIdentity, encodeIdentity } from '../src/http/issue-tokens.js'
import { ALICE, buildApp } from './helpers/build-app.js'
import { decodeJwt } from './helpers/jwt.js'

const identity = { roles: ['user', 'admin'], claims: { tier: 'gold', org: { id: 7 } } }

t.test('encoded as [roles, claims], never longer than the { r, c } it replaces', async (t) => {
  const data = encodeIdentity(identity)
  t.equal(data, '[["user","admin"],{"tier":"gold","org":{"id":7}}]')
  t.same(decodeIdentity(data), identity, 'round trip')
  for (const sample of [identity, { roles: [], claims: {} }, { roles: ['user'], claims: {} }]) {
    const previous = JSON.stringify({ r: sample.roles, c: sample.claims })
    t.ok(encodeIdentity(sample).length < previous.length, `${encodeIdentity(sample)} is shorter than ${previous}`)
  }
})

t.test('decode reads what 0.1.0 wrote, and turns anything else into no roles and no claims', async (t) => {
  t.same(decodeIdentity('{"r":["user","admin"],"c":{"tier":"gold","org":{"id":7}}}'), identity, '{ r, c }')
  t.same(decodeIdentity('{"r":["user"]}'), { roles: ['user'], claims: {} }, '{ r } without c')
  const empty = { roles: [], claims: {} }
  for (const data of [null, '', 'not json', 'null', '42', '"user"', '{}', '[]', '[null, null]', '["user", "gold"]', '{"r":"admin","c":5}']) {
    t.same(decodeIdentity(data), empty, JSON.stringify(data))
  }
  t.same(decodeIdentity('[["user", 5, null, "admin"], {}]'), { roles: ['user', 'admin'], claims: {} }, 'only string roles')
})

t.test('rolling deploy: a session whose data 0.1.0 wrote refreshes with its roles and claims', async (t) => {
  const { app } = await buildApp(t, { loadUser: false })
  const { token } = await app.refreshSessions.sessions.create(ALICE.id, { data: JSON.stringify({ r: ['user', 'admin'], c: { tier: 'gold' } }) })
  const response = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: token } })
  t.equal(response.statusCode, 200)
  const claims = decodeJwt(response.json().accessToken as string).payload
  t.same(claims.roles, ['user', 'admin'], 'roles kept')
  t.equal(claims.tier, 'gold', 'claims kept')
  const admin = await app.inject({ method: 'GET', url: '/admin', headers: { authorization: `Bearer ${response.json().accessToken as string}` } })
  t.equal(admin.statusCode, 200, 'and they still open /admin')
})
