/**
 * The JWT attack matrix against `GET /me` (authenticate): every forged, tampered, confused or
 * malformed token is a 401 with a stable code and an RFC 6750 challenge, never a 200 or a 5xx.
 *
 * Decided by the code (bearerToken in src/access/authenticate.ts), asserted here: an Authorization header
 * that is not exactly `Bearer <one token>` (another scheme, `Bearer` alone, two tokens) counts as
 * no token at all: 401 AUTH_TOKEN_MISSING with the bare `Bearer` challenge. Anything that is one
 * token but not a valid one is AUTH_TOKEN_INVALID with `error="invalid_token"`.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, buildApp, HS256_SECRET, login } from './helpers/build-app.js'
import { claims, decodeJwt, generateKey, keyOption, nowSeconds, publicPem, signJwt, unsignedJwt, b64url, type Alg } from './helpers/jwt.js'

const INVALID = { statusCode: 401, code: 'AUTH_TOKEN_INVALID', error: 'Unauthorized', message: 'The access token is invalid' }
const EXPIRED = { statusCode: 401, code: 'AUTH_TOKEN_EXPIRED', error: 'Unauthorized', message: 'The access token has expired' }
const MISSING = { statusCode: 401, code: 'AUTH_TOKEN_MISSING', error: 'Unauthorized', message: 'No access token was sent' }
const INVALID_CHALLENGE = 'Bearer error="invalid_token"'

function get (app: FastifyInstance, authorization?: string, url = '/me'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } })
}

async function refused (t: Test, app: FastifyInstance, token: string, body = INVALID, url = '/me'): Promise<void> {
  const response = await get(app, `Bearer ${token}`, url)
  t.equal(response.statusCode, 401, 'status')
  t.strictSame(response.json(), body, 'error body')
  t.equal(response.headers['www-authenticate'], INVALID_CHALLENGE, 'challenge')
}

async function accepted (t: Test, app: FastifyInstance, token: string): Promise<Record<string, unknown>> {
  const response = await get(app, `Bearer ${token}`)
  t.equal(response.statusCode, 200, response.body)
  t.notOk(response.headers['www-authenticate'], 'no challenge on success')
  return response.json()
}

t.test('HS256 (the default setup)', async (t) => {
  const { app } = await buildApp(t)
  const genuine = await login(app)
  const { header, payload, signature } = decodeJwt(genuine.accessToken)
  const [rawHeader, rawPayload] = genuine.accessToken.split('.') as [string, string]

  t.test('a genuine token: 200 and request.user exactly', async (t) => {
    t.strictSame(header, { alg: 'HS256', typ: 'JWT' })
    t.strictSame(await accepted(t, app, genuine.accessToken), { id: ALICE.id, sessionId: genuine.sessionId, roles: ['user'], claims: { tier: 'gold' }, authTime: payload.auth_time, amr: ['pwd'] })
    t.equal((await get(app, `bearer ${genuine.accessToken}`)).statusCode, 200, 'the scheme is case-insensitive (RFC 7235)')
  })

  t.test('no Authorization header: AUTH_TOKEN_MISSING and a challenge without error (RFC 6750 §3.1)', async (t) => {
    const response = await get(app)
    t.equal(response.statusCode, 401)
    t.strictSame(response.json(), MISSING)
    t.equal(response.headers['www-authenticate'], 'Bearer')
  })

  t.test('alg none, with and without the signature part, in any case', async (t) => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await refused(t, app, unsignedJwt({ alg, typ: 'JWT' }, payload, ''))
      await refused(t, app, unsignedJwt({ alg, typ: 'JWT' }, payload, null))
    }
    await refused(t, app, `${rawHeader}.${rawPayload}.`, INVALID, '/me')
    await refused(t, app, `${rawHeader}.${rawPayload}`)
  })

  t.test('signed with a wrong secret, or the right secret under another HMAC alg', async (t) => {
    await refused(t, app, signJwt(header, payload, 'another-secret-of-at-least-32-bytes-abcdef'))
    await refused(t, app, signJwt(header, payload, HS256_SECRET.slice(0, -1)))
    await refused(t, app, signJwt({ alg: 'HS512', typ: 'JWT' }, payload, HS256_SECRET))
  })

  t.test('tampered payload (admin swapped in), signature kept, after the genuine one was verified and cached', async (t) => {
    t.equal((await get(app, `Bearer ${genuine.accessToken}`)).statusCode, 200)
    const forged = `${rawHeader}.${b64url({ ...payload, roles: ['user', 'admin'] })}.${signature}`
    await refused(t, app, forged)
    await refused(t, app, forged, INVALID, '/admin')
    await refused(t, app, `${rawHeader}.${b64url({ ...payload, sub: 'u-admin' })}.${signature}`)
    await refused(t, app, `${rawHeader}.${b64url({ ...payload, exp: payload.exp as number + 86_400 })}.${signature}`)
  })

  t.test('tampered header, signature kept', async (t) => {
    await refused(t, app, `${b64url({ ...header, kid: 'x' })}.${rawPayload}.${signature}`)
    await refused(t, app, `${b64url({ ...header, alg: 'HS512' })}.${rawPayload}.${signature}`)
    await refused(t, app, `${b64url({ typ: 'JWT', alg: 'HS256' })}.${rawPayload}.${signature}`, INVALID, '/me')
  })

  t.test('expired: AUTH_TOKEN_EXPIRED', async (t) => {
    const now = nowSeconds()
    await refused(t, app, signJwt(header, claims({ iat: now - 1000, exp: now - 10 }), HS256_SECRET), EXPIRED)
  })

  t.test('not yet valid (nbf in the future): AUTH_TOKEN_INVALID', async (t) => {
    await refused(t, app, signJwt(header, claims({ nbf: nowSeconds() + 600 }), HS256_SECRET))
  })

  t.test('signed with the secret but missing or mistyped claims', async (t) => {
    const cases: Record<string, Record<string, unknown>> = {
      'no sub': { sub: undefined },
      'no sid': { sid: undefined },
      'no roles': { roles: undefined },
      'no exp': { exp: undefined },
      'no iat': { iat: undefined },
      'roles as a string': { roles: 'admin' },
      'roles with a number': { roles: ['user', 1] },
      'roles as an object': { roles: { 0: 'admin', length: 1 } },
      'sub as a number': { sub: 42 },
      'sid null': { sid: null },
      'exp as a string': { exp: String(nowSeconds() + 900) }
    }
    for (const [name, overrides] of Object.entries(cases)) {
      t.comment(name)
      await refused(t, app, signJwt(header, claims(overrides), HS256_SECRET))
    }
  })

  t.test('an unknown critical header extension (RFC 7515 §4.1.11)', async (t) => {
    await refused(t, app, signJwt({ ...header, crit: ['x-must-understand'], 'x-must-understand': true }, claims(), HS256_SECRET))
  })

  t.test('kid injection: a kid pointing to an empty file, signed with an empty secret', async (t) => {
    await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, claims(), ''))
    await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT', kid: "x' UNION SELECT 'key" }, claims(), 'key'))
  })

  t.test('jku / jwk / x5u headers naming an attacker key are never followed', async (t) => {
    const attacker = generateKey('EdDSA', 'attacker')
    const jwk = attacker.publicKey.export({ format: 'jwk' })
    await refused(t, app, signJwt({ alg: 'EdDSA', jku: 'https://attacker.example/jwks.json', kid: 'attacker' }, claims(), attacker.privateKey))
    await refused(t, app, signJwt({ alg: 'EdDSA', jwk: { ...jwk, kid: 'attacker' } }, claims(), attacker.privateKey))
    await refused(t, app, signJwt({ alg: 'EdDSA', x5u: 'https://attacker.example/cert.pem' }, claims(), attacker.privateKey))
  })

  t.test('garbage: one token, but not a JWT: AUTH_TOKEN_INVALID', async (t) => {
    for (const token of ['x', 'a.b.c', 'a.b', '...', '!!!.@@@.###', `${rawHeader}.%%%.${signature}`, 'x'.repeat(10_240), `${genuine.accessToken}.x`, `${genuine.accessToken}x`, b64url('{"alg":"HS256"') + '.e30.x']) {
      await refused(t, app, token)
    }
    const padded = `${genuine.accessToken.slice(0, 100)}${'A'.repeat(10_240)}`
    await refused(t, app, padded)
  })

  t.test('wrong scheme, no token or two tokens: AUTH_TOKEN_MISSING with the bare challenge', async (t) => {
    for (const authorization of ['Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQtMQ==', 'Bearer', 'Bearer ', `Token ${genuine.accessToken}`, 'Bearer a b', `Bearer ${genuine.accessToken} ${genuine.accessToken}`, `Bearer ${genuine.accessToken}, Bearer ${genuine.accessToken}`, `${genuine.accessToken}`, '']) {
      const response = await get(app, authorization)
      t.equal(response.statusCode, 401, JSON.stringify(authorization.slice(0, 20)))
      t.strictSame(response.json(), MISSING)
      t.equal(response.headers['www-authenticate'], 'Bearer')
    }
  })
})

t.test('an expired token stays refused even after the verification cache has served it', async (t) => {
  // ttl 1s: the shortest the plugin accepts; the wait is at most ~2 s.
  const { app } = await buildApp(t, { options: { accessToken: { secret: HS256_SECRET, ttl: '1s' } } })
  const { accessToken } = await login(app)
  t.equal((await get(app, `Bearer ${accessToken}`)).statusCode, 200, 'verified once, now cached')
  const { exp } = decodeJwt(accessToken).payload as { exp: number }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50))
  await refused(t, app, accessToken, EXPIRED)
})

t.test('issuer and audience, when configured, are required and checked', async (t) => {
  const accessToken = { secret: HS256_SECRET, issuer: 'tasks-api', audience: 'tasks-web' }
  const { app } = await buildApp(t, { options: { accessToken } })
  const genuine = await login(app)
  const { header, payload } = decodeJwt(genuine.accessToken)
  t.equal(payload.iss, 'tasks-api')
  t.equal(payload.aud, 'tasks-web')
  t.equal((await get(app, `Bearer ${genuine.accessToken}`)).statusCode, 200)
  const good = { iss: 'tasks-api', aud: 'tasks-web' }
  t.equal((await get(app, `Bearer ${signJwt(header, claims(good), HS256_SECRET)}`)).statusCode, 200, 'control: a hand-made token with both is accepted')
  await refused(t, app, signJwt(header, claims({ ...good, iss: 'other-api' }), HS256_SECRET))
  await refused(t, app, signJwt(header, claims({ ...good, aud: 'other-web' }), HS256_SECRET))
  await refused(t, app, signJwt(header, claims({ ...good, aud: ['other-web'] }), HS256_SECRET))
  await refused(t, app, signJwt(header, claims({ ...good, iss: undefined }), HS256_SECRET))
  await refused(t, app, signJwt(header, claims({ ...good, aud: undefined }), HS256_SECRET))
  await refused(t, app, signJwt(header, claims(), HS256_SECRET))
})

for (const alg of ['RS256', 'EdDSA', 'ES256'] as Alg[]) {
  t.test(`${alg} (one key)`, async (t) => {
    const key = generateKey(alg, `${alg}-1`)
    const attacker = generateKey(alg, `${alg}-1`)
    const { app } = await buildApp(t, { options: { accessToken: { keys: [keyOption(key)] } } })
    const genuine = await login(app)
    const { header, payload, signature } = decodeJwt(genuine.accessToken)
    const [rawHeader] = genuine.accessToken.split('.') as [string]
    t.strictSame(header, { alg, typ: 'JWT', kid: key.kid })
    t.strictSame(await accepted(t, app, genuine.accessToken), { id: ALICE.id, sessionId: genuine.sessionId, roles: ['user'], claims: { tier: 'gold' }, authTime: payload.auth_time, amr: ['pwd'] })
    t.equal((await get(app, `Bearer ${signJwt(header, claims(), key.privateKey)}`)).statusCode, 200, 'control: the helper signs what the plugin accepts')

    t.test('alg none', async (t) => {
      await refused(t, app, unsignedJwt({ alg: 'none', typ: 'JWT', kid: key.kid }, payload, ''))
      await refused(t, app, unsignedJwt({ alg: 'none', typ: 'JWT' }, payload, null))
    })

    t.test('algorithm confusion: HS256 signed with the public key', async (t) => {
      const pem = publicPem(key.publicKey)
      for (const secret of [pem, pem.trim(), key.publicKey.export({ type: 'spki', format: 'der' }), JSON.stringify(key.publicKey.export({ format: 'jwk' }))]) {
        await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT', kid: key.kid }, payload, secret))
        await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT' }, payload, secret))
      }
    })

    t.test('signed with another key of the same type, under our kid', async (t) => {
      await refused(t, app, signJwt(header, payload, attacker.privateKey))
    })

    t.test('tampered payload and header, signature kept', async (t) => {
      await refused(t, app, `${rawHeader}.${b64url({ ...payload, roles: ['user', 'admin'] })}.${signature}`)
      await refused(t, app, `${b64url({ ...header, typ: 'at+jwt' })}.${genuine.accessToken.split('.')[1]}.${signature}`)
    })

    t.test('jku / jwk / x5u / x5c headers carrying or naming the attacker key', async (t) => {
      const jwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: key.kid, alg, use: 'sig' }
      const der = attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
      await refused(t, app, signJwt({ ...header, jku: 'https://attacker.example/jwks.json' }, payload, attacker.privateKey))
      await refused(t, app, signJwt({ ...header, jwk }, payload, attacker.privateKey))
      await refused(t, app, signJwt({ ...header, x5u: 'https://attacker.example/cert.pem' }, payload, attacker.privateKey))
      await refused(t, app, signJwt({ ...header, x5c: [der] }, payload, attacker.privateKey))
      await refused(t, app, signJwt({ alg, typ: 'JWT', kid: 'attacker', jwk }, payload, attacker.privateKey))
    })

    t.test('a kid that names no key is refused even with a single key', async (t) => {
      // Signed with the real key: the kid lookup itself must refuse, not only the signature check.
      await refused(t, app, signJwt({ alg, typ: 'JWT', kid: 'unknown-kid' }, payload, key.privateKey))
      await refused(t, app, signJwt({ alg, typ: 'JWT', kid: '../../etc/passwd' }, payload, key.privateKey))
      await refused(t, app, signJwt({ alg, typ: 'JWT' }, payload, key.privateKey))
    })

    t.test('expired and not yet valid', async (t) => {
      const now = nowSeconds()
      await refused(t, app, signJwt(header, claims({ iat: now - 1000, exp: now - 1 }), key.privateKey), EXPIRED)
      await refused(t, app, signJwt(header, claims({ nbf: now + 600 }), key.privateKey))
    })
  })
}

t.test('a key set of two algorithms: kid and alg must agree', async (t) => {
  const ed = generateKey('EdDSA', 'ed-1')
  const rs = generateKey('RS256', 'rs-1')
  const { app } = await buildApp(t, { options: { accessToken: { keys: [keyOption(ed), keyOption(rs, true)] } } })
  const genuine = await login(app)
  t.equal(decodeJwt(genuine.accessToken).header.kid, 'ed-1')
  t.equal((await get(app, `Bearer ${genuine.accessToken}`)).statusCode, 200)
  t.equal((await get(app, `Bearer ${signJwt({ alg: 'RS256', typ: 'JWT', kid: 'rs-1' }, claims(), rs.privateKey)}`)).statusCode, 200, 'control: every key verifies its own alg')

  await refused(t, app, signJwt({ alg: 'RS256', typ: 'JWT', kid: 'ed-1' }, claims(), rs.privateKey), INVALID, '/me')
  await refused(t, app, signJwt({ alg: 'EdDSA', typ: 'JWT', kid: 'rs-1' }, claims(), ed.privateKey))
  await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT', kid: 'rs-1' }, claims(), publicPem(rs.publicKey)))
  await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT', kid: 'ed-1' }, claims(), publicPem(ed.publicKey)))
  await refused(t, app, signJwt({ alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, claims(), ''))
  for (const kid of ['unknown', '../../etc/passwd', '', '__proto__', 'constructor', 'ed-1 ', 'ED-1', ['ed-1'], { kid: 'ed-1' }, 1, null]) {
    await refused(t, app, signJwt({ alg: 'EdDSA', typ: 'JWT', kid }, claims(), ed.privateKey))
  }
  await refused(t, app, signJwt({ alg: 'EdDSA', typ: 'JWT' }, claims(), ed.privateKey))
})
