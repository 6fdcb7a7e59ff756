/**
 * DPoP claim checks at their exact boundaries, with a fixed clock: the iat window (either way),
 * nonce windows, the replay memory's sweep and its kept-for time.
 */
import t from 'tap'
import { checkDpopProof, type DpopRules } from '../src/binding/dpop/proof.js'
import { NonceIssuer } from '../src/binding/dpop/nonce.js'
import { MemoryReplayGuard } from '../src/binding/dpop/replay.js'
import { proof, testKey } from './helpers/dpop.js'

const key = await testKey()
const NOW = 1_800_000_000_000
const WINDOW_MS = 30_000
const request = { method: 'POST', origins: ['http://localhost'], path: '/auth/refresh', now: NOW }
const rules = (overrides: Partial<DpopRules> = {}): DpopRules => ({ algorithms: ['ES256'], iatWindowMs: WINDOW_MS, replay: new MemoryReplayGuard(() => NOW), nonces: null, ...overrides })

t.test('iat: accepted up to the window either way, to the millisecond; refused one past it', async (t) => {
  for (const [offsetMs, ok] of [[-WINDOW_MS, true], [WINDOW_MS, true], [-WINDOW_MS - 1, false], [WINDOW_MS + 1, false], [0, true]] as const) {
    const result = await checkDpopProof(await proof(key, { iat: (NOW + offsetMs) / 1000 }), request, rules())
    t.same(result, ok ? { ok: true, thumbprint: key.thumbprint } : { ok: false, reason: 'iat' }, `iat ${offsetMs} ms from now`)
  }
  t.same(await checkDpopProof(await proof(key, { iat: 'now' as unknown as number }), request, rules()), { ok: false, reason: 'iat' }, 'not a number')
})

t.test('jti: kept twice the window and a second, then forgotten; the memory sweeps what it forgot', async (t) => {
  let now = NOW
  const replay = new MemoryReplayGuard(() => now)
  t.equal(await replay.claim(key.thumbprint, 'a', 61_000), true)
  t.equal(await replay.claim(key.thumbprint, 'a', 61_000), false, 'a replay')
  t.equal(await replay.claim('another-thumbprint', 'a', 61_000), true, 'the same jti of another key is another proof')
  now += 60_999
  t.equal(await replay.claim(key.thumbprint, 'a', 61_000), false, 'still a replay 1 ms before it is forgotten')
  now += 1
  t.equal(await replay.claim(key.thumbprint, 'b', 61_000), true)
  t.equal(replay.size, 1, 'the expired entries were swept, the new one kept')
  t.equal(await replay.claim(key.thumbprint, 'a', 61_000), true, 'forgotten: by then its iat is refused anyway')
  const used = rules()
  t.ok((await checkDpopProof(await proof(key, { jti: 'j', iat: NOW / 1000 }), request, used)).ok)
  t.same(await checkDpopProof(await proof(key, { jti: 'j', iat: NOW / 1000 }), request, used), { ok: false, reason: 'replay' })
  t.same(await checkDpopProof(await proof(key, { jti: 'x'.repeat(257), iat: NOW / 1000 }), request, used), { ok: false, reason: 'malformed' }, 'a jti over 256 characters')
})

t.test('a jti is used up only by a proof that passed every other check', async (t) => {
  const used = rules({ nonces: new NonceIssuer(Buffer.alloc(32, 1), 60_000, () => NOW) })
  const wrongNonce = await proof(key, { jti: 'k', iat: NOW / 1000, nonce: 'nope' })
  t.same(await checkDpopProof(wrongNonce, request, used), { ok: false, reason: 'nonce' })
  t.ok((await checkDpopProof(await proof(key, { jti: 'k', iat: NOW / 1000, nonce: used.nonces!.current() }), request, used)).ok, 'the same jti with the nonce')
})

t.test('nonces: accepted in their window and the next, refused after; bound to the secret', async (t) => {
  let now = NOW
  const issuer = new NonceIssuer(Buffer.alloc(32, 7), 60_000, () => now)
  const nonce = issuer.current()
  t.equal(issuer.accepts(nonce), true)
  now = (Math.floor(NOW / 60_000) + 2) * 60_000 - 1
  t.equal(issuer.accepts(nonce), true, 'the last millisecond of the next window')
  t.not(issuer.current(), nonce, 'a new nonce is handed out meanwhile')
  now += 1
  t.equal(issuer.accepts(nonce), false, 'two windows later')
  t.equal(new NonceIssuer(Buffer.alloc(32, 8), 60_000, () => NOW).accepts(nonce), false, 'another secret')
  for (const bad of [undefined, 42, '', 'x'.repeat(65)]) t.equal(issuer.accepts(bad), false, String(bad))
})

t.test('htu: a request path that looks like an authority stays a path', async (t) => {
  const tricky = { ...request, path: '//evil.example/auth/refresh' }
  t.same(await checkDpopProof(await proof(key, { iat: NOW / 1000, htu: 'http://evil.example/auth/refresh' }), tricky, rules()), { ok: false, reason: 'htu' })
  t.same(await checkDpopProof(await proof(key, { iat: NOW / 1000, htu: 'not a url' }), request, rules()), { ok: false, reason: 'htu' })
  t.same(await checkDpopProof(await proof(key, { iat: NOW / 1000, htu: 'http://localhost/auth/refresh' }), { ...request, origins: [] }, rules()), { ok: false, reason: 'htu' }, 'no origin (a Host header no URL can hold)')
})
