/**
 * The verify cache holds only successes (issue 10): a flood of distinct bogus tokens neither grows
 * the heap nor pushes a valid token out. A hit is proven by counting signature verifications, not
 * by timing.
 */
import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { randomBytes } from 'node:crypto'
import { createAccessTokens, type AccessTokens, type AccessTokenSettings } from '../src/access/access-token.js'
import { HS256_SECRET } from './helpers/build-app.js'
import { claims, signJwt } from './helpers/jwt.js'

// A gc() for this process only (tap runs each file in its own process).
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function settings (overrides: Partial<AccessTokenSettings> = {}): AccessTokenSettings {
  return { secret: Buffer.from(HS256_SECRET), keys: [], signingKid: null, ttlSeconds: 900, issuer: null, audience: null, cookieName: null, verifyCacheSize: 10_000, clockSkewSeconds: 30, ...overrides }
}

function tokensFor (overrides: Partial<AccessTokenSettings> = {}): AccessTokens {
  return createAccessTokens(settings(overrides))
}

function heapAfterGc (): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

/** Half validly shaped JWTs with a wrong signature, half garbage; every one distinct. */
function bogus (i: number): string {
  if (i % 2 === 0) return signJwt({ alg: 'HS256', typ: 'JWT' }, claims({ sid: `s-${i}`, pad: randomBytes(1500).toString('base64url') }), 'not-the-secret-of-this-app-0123456789')
  return `${randomBytes(1500).toString('base64url')}.${i}`
}

t.test('20 000 distinct bogus tokens: heap grows < 10 MB, the valid token stays cached', async (t) => {
  const tokens = tokensFor()
  const valid = tokens.sign({ userId: 'u-1', sessionId: 's-1', roles: ['user'], claims: {}, notAfter: Date.now() + 3_600_000 }).token
  const first = tokens.verify(valid)
  t.equal(tokens.verifications, 1)
  t.equal(tokens.verify(valid), first, 'a hit returns the same payload object')
  t.equal(tokens.verifications, 1, 'a hit runs no verifier')

  const before = heapAfterGc()
  let refused = 0
  for (let i = 0; i < 20_000; i++) {
    try {
      tokens.verify(bogus(i))
    } catch (error) {
      if ((error as { code?: string }).code === 'AUTH_TOKEN_INVALID') refused++
    }
  }
  const grown = heapAfterGc() - before
  t.equal(refused, 20_000, 'every bogus token is refused as invalid')
  t.ok(grown < 10 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MB`)

  const verifications = tokens.verifications
  t.equal(tokens.verify(valid), first, 'still the cached payload')
  t.equal(tokens.verifications, verifications, 'the valid token was not evicted: no new verification')
})

t.test('the cache is bounded by verifyCacheSize, a used token outlives an unused one; 0 turns it off; a failure is never cached', async (t) => {
  const tokens = tokensFor({ verifyCacheSize: 2 })
  const sign = (sid: string): string => tokens.sign({ userId: 'u-1', sessionId: sid, roles: [], claims: {}, notAfter: Date.now() + 3_600_000 }).token
  const [a, b, c] = [sign('a'), sign('b'), sign('c')]
  tokens.verify(a)
  tokens.verify(b)
  tokens.verify(a) // a hit: a gets a second chance
  tokens.verify(c) // evicts b
  t.equal(tokens.verifications, 3)
  tokens.verify(a)
  tokens.verify(c)
  t.equal(tokens.verifications, 3, 'a and c are hits')
  tokens.verify(b)
  t.equal(tokens.verifications, 4, 'b was evicted')

  const bad = bogus(0)
  t.throws(() => tokens.verify(bad), { code: 'AUTH_TOKEN_INVALID' })
  t.throws(() => tokens.verify(bad), { code: 'AUTH_TOKEN_INVALID' })
  t.equal(tokens.verifications, 6, 'a refused token is verified again each time')

  const off = tokensFor({ verifyCacheSize: 0 })
  const token = off.sign({ userId: 'u-1', sessionId: 's', roles: [], claims: {}, notAfter: Date.now() + 3_600_000 }).token
  off.verify(token)
  off.verify(token)
  t.equal(off.verifications, 2, 'verifyCacheSize 0: no cache')
})
