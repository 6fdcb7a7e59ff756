/**
 * accessToken.clockSkew (issue 10): a validly signed token whose iat or nbf lies beyond now + the
 * leeway is refused with AUTH_TOKEN_INVALID, so that a token "from the future" can neither live
 * longer than signed nor claim to postdate the revocation feed. The clock is frozen (Date.now) at
 * the last millisecond of a second, the worst case for a boundary measured in whole seconds.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, HS256_SECRET } from './helpers/build-app.js'
import { claims, generateKey, keyOption, signJwt } from './helpers/jwt.js'

const INVALID = { statusCode: 401, code: 'AUTH_TOKEN_INVALID', error: 'Unauthorized', message: 'The access token is invalid' }

function freezeClock (t: Test): number {
  const realNow = Date.now
  const frozen = Math.floor(realNow() / 1000) * 1000 + 999
  Date.now = () => frozen
  t.teardown(() => { Date.now = realNow })
  return Math.floor(frozen / 1000)
}

async function expectAccepted (t: Test, app: FastifyInstance, token: string, name: string): Promise<void> {
  const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.statusCode, 200, name)
}

async function expectRefused (t: Test, app: FastifyInstance, token: string, name: string): Promise<void> {
  const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.statusCode, 401, name)
  t.strictSame(response.json(), INVALID, `${name}: body`)
  t.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"', `${name}: challenge`)
}

const ed = generateKey('EdDSA', 'k1')
const variants: Array<{ name: string, accessToken: Record<string, unknown>, sign: (payload: Record<string, unknown>) => string }> = [
  { name: 'HS256', accessToken: { secret: HS256_SECRET }, sign: (payload) => signJwt({ alg: 'HS256', typ: 'JWT' }, payload, HS256_SECRET) },
  { name: 'EdDSA', accessToken: { keys: [keyOption(ed)], signingKid: 'k1' }, sign: (payload) => signJwt({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' }, payload, ed.privateKey) }
]

for (const variant of variants) {
  t.test(`${variant.name}: iat and nbf at the default leeway (30s) pass, one second past is refused`, async (t) => {
    const { app } = await buildApp(t, { options: { accessToken: variant.accessToken as never } })
    const now = freezeClock(t)
    const exp = now + 600
    await expectAccepted(t, app, variant.sign(claims({ iat: now, exp })), 'iat now')
    await expectAccepted(t, app, variant.sign(claims({ iat: now + 30, exp })), 'iat exactly the leeway ahead')
    await expectRefused(t, app, variant.sign(claims({ iat: now + 31, exp })), 'iat one second past the leeway')
    await expectRefused(t, app, variant.sign(claims({ iat: now + 365 * 86_400, exp: now + 366 * 86_400 })), 'iat a year ahead')
    await expectAccepted(t, app, variant.sign(claims({ iat: now, nbf: now + 30, exp })), 'nbf exactly the leeway ahead')
    await expectRefused(t, app, variant.sign(claims({ iat: now, nbf: now + 31, exp })), 'nbf one second past the leeway')
    await expectRefused(t, app, variant.sign(claims({ iat: String(now), exp })), 'iat not a number')
    await expectRefused(t, app, variant.sign(claims({ iat: now, nbf: 'soon', exp })), 'nbf not a number')
  })
}

t.test('accessToken.clockSkew sets the leeway; 0 allows none', async (t) => {
  const variant = variants[0]!
  const { app: wide } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, clockSkew: '2m' } } })
  const { app: none } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, clockSkew: 0 } } })
  const now = freezeClock(t)
  const exp = now + 600
  await expectAccepted(t, wide, variant.sign(claims({ iat: now + 120, exp })), "'2m': iat 120 s ahead")
  await expectRefused(t, wide, variant.sign(claims({ iat: now + 121, exp })), "'2m': iat 121 s ahead")
  await expectAccepted(t, none, variant.sign(claims({ iat: now, nbf: now, exp })), '0: iat and nbf now')
  await expectRefused(t, none, variant.sign(claims({ iat: now + 1, exp })), '0: iat one second ahead')
  await expectRefused(t, none, variant.sign(claims({ iat: now, nbf: now + 1, exp })), '0: nbf one second ahead')
})
