import t from 'tap'
import fc from 'fast-check'
import { createHash, createHmac } from 'node:crypto'
import { hmacSha256, sha256 } from '../src/sha256.js'
import { formatRefreshToken, hashSecret, MAX_REFRESH_TOKEN_LENGTH, mintSecret, mintSeed, mintSessionId, openSuccessor, parseRefreshToken, successorOf } from '../src/session/refresh-token.js'

t.test('minted secrets carry 256 random bits and session ids 128', async (t) => {
  const secrets = new Set(Array.from({ length: 1000 }, mintSecret))
  t.equal(secrets.size, 1000)
  for (const secret of secrets) t.equal(Buffer.from(secret, 'base64url').length, 32)
  t.equal(Buffer.from(mintSessionId(), 'base64url').length, 16)
})

t.test('format and parse round-trip for user ids of any content', async (t) => {
  for (const userId of ['42', 'alice', 'a.b.c', '{x}', 'ünï 🔑', ' ', 'x'.repeat(256)]) {
    const parts = { userId, sessionId: mintSessionId(), secret: mintSecret() }
    const token = formatRefreshToken(parts)
    t.same(parseRefreshToken(token), parts)
    t.equal(token.split('.').length, 3, 'the user id is encoded: dots in it cannot split the token')
  }
})

t.test('anything malformed parses to null', async (t) => {
  const good = formatRefreshToken({ userId: 'alice', sessionId: mintSessionId(), secret: mintSecret() })
  const [user, session, secret] = good.split('.') as [string, string, string]
  const cases: Record<string, unknown> = {
    empty: '',
    'not a string': 42,
    'two parts': `${user}.${session}`,
    'four parts': `${good}.x`,
    'short secret': `${user}.${session}.${secret.slice(1)}`,
    'long secret': `${user}.${session}.${secret}A`,
    'bad secret char': `${user}.${session}.${secret.slice(1)}+`,
    'short session id': `${user}.${session.slice(1)}.${secret}`,
    'empty user': `.${session}.${secret}`,
    'padded user': `${user}=.${session}.${secret}`,
    'non-canonical user': `YWxpY2Z.${session}.${secret}`,
    'invalid utf-8 user': `${Buffer.from([0xc3, 0x28]).toString('base64url')}.${session}.${secret}`,
    'lone surrogate user': `${Buffer.from([0xed, 0xa0, 0x80]).toString('base64url')}.${session}.${secret}`,
    'user over 256 bytes': `${Buffer.from('x'.repeat(257)).toString('base64url')}.${session}.${secret}`,
    oversized: 'a'.repeat(MAX_REFRESH_TOKEN_LENGTH + 1),
    '10 KB': good.padEnd(10_240, 'A'),
    whitespace: ` ${good}`,
    nul: `${good}\u0000`
  }
  for (const [name, value] of Object.entries(cases)) t.equal(parseRefreshToken(value), null, name)
})

t.test('hashing is SHA-256 and the sealed successor opens only with the retired secret', async (t) => {
  const retired = mintSecret()
  const seed = mintSeed()
  const { secret: successor, sealed } = successorOf(retired, seed)
  t.match(successor, /^[A-Za-z0-9_-]{43}$/, 'a successor is a secret like any other')
  t.equal(hashSecret(retired).length, 32)
  t.not(hashSecret(retired).toString('hex'), hashSecret(successor).toString('hex'))
  t.equal(sealed.length, 16, 'only the sealed 16-byte seed is kept')
  t.not(sealed.toString('hex'), seed.toString('hex'), 'the seal is not the seed')
  t.equal(openSuccessor(retired, sealed), successor)
  t.not(openSuccessor(mintSecret(), sealed), successor, 'another secret opens garbage')
  t.not(successorOf(retired, mintSeed()).secret, successor, 'each seed makes another successor')
})

t.test('the successor and its seal are the HMAC-SHA-256 derivation tokens and records already in use were made with', async (t) => {
  const retired = mintSecret()
  const seed = mintSeed()
  const successor = createHmac('sha256', retired).update('fastify-refresh-sessions/successor-secret').update(seed).digest('base64url')
  const pad = createHmac('sha256', retired).update('fastify-refresh-sessions/successor').digest()
  const { secret, sealed } = successorOf(retired, seed)
  t.equal(secret, successor)
  t.equal(sealed.toString('hex'), Buffer.from(seed.map((byte, i) => byte ^ pad[i]!)).toString('hex'))
})

t.test('hmacSha256 gives what createHmac gives, for keys shorter and longer than a block and any message', async (t) => {
  await fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), fc.array(fc.uint8Array({ maxLength: 150 }), { maxLength: 3 }), (key, parts) => {
    const message = parts.map((part) => Buffer.from(part))
    const expected = createHmac('sha256', key)
    for (const part of message) expected.update(part)
    const digest = expected.digest()
    t.equal(hmacSha256(key, message).toString('hex'), digest.toString('hex'))
    t.equal(hmacSha256(key, message, 'base64url'), digest.toString('base64url'))
  }), { numRuns: 300 })
})

t.test('sha256 gives what createHash gives, as bytes and as base64url, for strings (UTF-8) and bytes', async (t) => {
  await fc.assert(fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes))), (data) => {
    const digest = createHash('sha256').update(data).digest()
    t.equal(sha256(data).toString('hex'), digest.toString('hex'))
    t.equal(sha256(data, 'base64url'), digest.toString('base64url'))
  }), { numRuns: 300 })
})

t.test('a successor 0.1.0 sealed whole (32 bytes) still opens', async (t) => {
  const retired = mintSecret()
  const successor = mintSecret()
  const pad = createHmac('sha256', retired).update('fastify-refresh-sessions/successor').digest()
  const sealed = Buffer.from(Buffer.from(successor, 'base64url').map((byte, i) => byte ^ pad[i]!))
  t.equal(openSuccessor(retired, sealed), successor)
})
