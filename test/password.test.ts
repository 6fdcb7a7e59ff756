import t, { type Test } from 'tap'
import argon2 from 'argon2'
import { createPasswordHasher, DEFAULT_ARGON2_PARAMS, MAX_PASSWORD_LENGTH } from '../src/password.js'
import { median } from '../support/stats.js'

const hasher = createPasswordHasher()
const CANONICAL = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/

t.test('hash is argon2id with the OWASP parameters, in the PHC m,t,p order', async (t) => {
  t.same(DEFAULT_ARGON2_PARAMS, { memoryCost: 19456, timeCost: 2, parallelism: 1 })
  const hash = await hasher.hash('correct horse')
  t.match(hash, CANONICAL)
  t.not(await hasher.hash('correct horse'), hash, 'salted: two hashes of one password differ')
})

t.test('verify: right password true, wrong false, both spellings of the parameters read', async (t) => {
  const hash = await hasher.hash('correct horse ✓')
  t.equal(await hasher.verify(hash, 'correct horse ✓'), true)
  t.equal(await hasher.verify(hash, 'correct horse'), false)
  t.equal(await hasher.verify(hash, ''), false)
  // What node-argon2 writes itself (m,p,t) still verifies: hashes made before canonical().
  const nodeOrder = await argon2.hash('legacy', { type: argon2.argon2id, ...DEFAULT_ARGON2_PARAMS })
  t.match(nodeOrder, /\$m=19456,p=1,t=2\$/, 'node-argon2 still writes m,p,t (if this fails, canonical() can go)')
  t.equal(await hasher.verify(nodeOrder, 'legacy'), true)
  t.equal(hasher.needsRehash(nodeOrder), false)
})

t.test('verify never throws on a malformed or unsupported hash', async (t) => {
  const good = await hasher.hash('pw')
  const bad: unknown[] = [
    '', 'abc', '$', '$argon2id$', '$argon2id$v=19$m=19456,t=2,p=1$xx', good.slice(0, -10) + '!!!!!!!!!!',
    '$argon2id$v=19$m=99999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaA', '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234',
    '$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA', null, undefined, 42, {}
  ]
  for (const hash of bad) t.equal(await hasher.verify(hash as string, 'pw'), false, `verify(${JSON.stringify(hash)})`)
  t.equal(await hasher.verify(good, 42 as unknown as string), false, 'a non-string password')
})

/**
 * Counts the calls password.ts makes into node-argon2: it calls `argon2.hash` / `argon2.verify`
 * on the module object at call time, so wrapping them there sees every call. Counting proves
 * "no argon2 work" where a wall-clock bound (it was 5 ms) fails on a loaded machine.
 */
function countArgon2Calls (t: Test): { hash: number, verify: number } {
  const calls = { hash: 0, verify: 0 }
  const { hash, verify } = argon2
  argon2.hash = (async (...args: Parameters<typeof hash>) => { calls.hash++; return await hash(...args) }) as typeof hash
  argon2.verify = async (...args) => { calls.verify++; return await verify(...args) }
  t.teardown(() => { argon2.hash = hash; argon2.verify = verify })
  return calls
}

t.test('passwords: up to 1024 characters; longer ones are refused without hashing', async (t) => {
  const calls = countArgon2Calls(t)
  const longest = 'x'.repeat(MAX_PASSWORD_LENGTH)
  const hash = await hasher.hash(longest)
  t.equal(await hasher.verify(hash, longest), true)
  await hasher.verifyDummy('warm-up') // makes the dummy hash, once: not part of what is counted
  t.same(calls, { hash: 2, verify: 2 }, 'the counter sees the hasher\'s argon2 calls')
  calls.hash = calls.verify = 0
  await t.rejects(hasher.hash(longest + 'x'), TypeError)
  t.equal(await hasher.verify(hash, 'x'.repeat(10_000_000)), false)
  t.equal(await hasher.verifyDummy('x'.repeat(10_000_000)), false)
  t.same(calls, { hash: 0, verify: 0 }, 'no argon2 work for an oversized password')
})

t.test('needsRehash: weaker parameters or another variant', async (t) => {
  const weak = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 })
  t.equal(hasher.needsRehash(weak), true, 'm=4096,t=1')
  t.equal(hasher.needsRehash(await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 })), true, 'weaker memory only')
  t.equal(hasher.needsRehash(await hasher.hash('pw')), false, 'a default hash')
  t.equal(hasher.needsRehash(await argon2.hash('pw', { type: argon2.argon2i, ...DEFAULT_ARGON2_PARAMS })), true, 'argon2i')
  t.equal(hasher.needsRehash(await argon2.hash('pw', { type: argon2.argon2d, ...DEFAULT_ARGON2_PARAMS })), true, 'argon2d')
  const stronger = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 32768, timeCost: 3, parallelism: 2 })
  t.equal(hasher.needsRehash(stronger), false, 'a stronger hash is not downgraded (argon2.needsRehash would say true)')
  t.equal(argon2.needsRehash(stronger, DEFAULT_ARGON2_PARAMS), true, '...which is why we do not use it')
  t.equal(hasher.needsRehash('$argon2i$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'), true, 'argon2 1.0 (no v=)')
  for (const hash of ['', 'garbage', '$argon2id$v=19$m=x,t=2,p=1$c2FsdA$aGFzaA', '$2b$10$abc']) {
    t.equal(hasher.needsRehash(hash), false, `unparseable ${JSON.stringify(hash)}`)
  }
})

t.test('verifyDummy resolves false, for any password', async (t) => {
  t.equal(await hasher.verifyDummy('anything'), false)
  t.equal(await hasher.verifyDummy(''), false)
})

t.test('an unknown user (verifyDummy) costs about what a wrong password does', async (t) => {
  const hash = await hasher.hash('the real one')
  await hasher.verifyDummy('warm-up') // the dummy hash is made on first use: not part of the timing
  const dummy: number[] = []
  const wrong: number[] = []
  // Interleaved, so that load from other test files hits both series alike.
  for (let i = 0; i < 15; i++) {
    let started = performance.now()
    await hasher.verifyDummy(`guess ${i}`)
    dummy.push(performance.now() - started)
    started = performance.now()
    await hasher.verify(hash, `guess ${i}`)
    wrong.push(performance.now() - started)
  }
  const [d, w] = [median(dummy), median(wrong)]
  t.comment(`median verify: unknown user ${d.toFixed(1)} ms, wrong password ${w.toFixed(1)} ms`)
  t.ok(d < 2 * w && w < 2 * d, `within 2x of each other (${d.toFixed(1)} vs ${w.toFixed(1)} ms)`)
})

t.test('parameters are checked at creation', async (t) => {
  t.throws(() => createPasswordHasher({ memoryCost: 0, timeCost: 2, parallelism: 1 }), TypeError)
  t.throws(() => createPasswordHasher({ memoryCost: 19456, timeCost: 1.5, parallelism: 1 }), TypeError)
})
