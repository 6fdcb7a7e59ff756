/** No access token outlives its session: exp stops at the session's end, and expiresIn says so. */
import t from 'tap'
import { buildApp, login } from './helpers/build-app.js'

const payloadOf = (jwt: string): { iat: number, exp: number } => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())

t.test('a session ending before the access token ttl caps exp and expiresIn', async (t) => {
  const { app } = await buildApp(t, { options: { accessToken: { secret: 'a-test-secret-of-at-least-32-bytes-0123456789', ttl: '15m' }, refreshToken: { absoluteTtl: '10s' } } })
  const { body, accessToken } = await login(app)
  const { iat, exp } = payloadOf(accessToken)
  t.ok(body.expiresIn as number <= 10 && body.expiresIn as number >= 9, `expiresIn ${String(body.expiresIn)} follows the 10 s session`)
  t.equal(exp - iat, body.expiresIn, 'exp agrees with expiresIn')
  const sessions = await app.inject({ url: '/auth/sessions', headers: { authorization: `Bearer ${accessToken}` } })
  const sessionEnd = Date.parse(sessions.json().sessions[0].expiresAt)
  t.ok(exp * 1000 <= sessionEnd, 'the token expires no later than its session')
})

t.test('a long session keeps the full ttl', async (t) => {
  const { app } = await buildApp(t)
  const { body, accessToken } = await login(app)
  const { iat, exp } = payloadOf(accessToken)
  t.equal(body.expiresIn, 900)
  t.equal(exp - iat, 900)
})
