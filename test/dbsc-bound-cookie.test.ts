/** The bound cookie's value: accepted until the second in its MAC, not at it; for its own session only; any changed byte refused. */
import t from 'tap'
import { mintBoundCookie, readBoundCookie } from '../src/binding/dbsc/bound-cookie.js'

const secret = Buffer.alloc(32, 1)
const sessionId = 'A5suz_kd5tlm7jshS6Syaw'
const thumbprint = 'wa_O_nNglJ6nhZwnB8IMvEGFQ58vj3VA0NgbAI027K8'
const expiresAt = 1_800_000_000

t.test('the expiry boundary, pinned', async (t) => {
  const value = mintBoundCookie(secret, sessionId, thumbprint, expiresAt)
  t.same(readBoundCookie(secret, value, sessionId, expiresAt * 1000 - 1), { kind: 'dbsc', thumbprint }, '1 ms before: the key is proved')
  t.equal(readBoundCookie(secret, value, sessionId, expiresAt * 1000), null, 'at the expiry: refused')
})

t.test('refused: another session, another secret, any changed part, not a string', async (t) => {
  const value = mintBoundCookie(secret, sessionId, thumbprint, expiresAt)
  const now = expiresAt * 1000 - 60_000
  t.equal(readBoundCookie(secret, value, 'B5suz_kd5tlm7jshS6Syaw', now), null, 'another session')
  t.equal(readBoundCookie(Buffer.alloc(32, 2), value, sessionId, now), null, 'another secret')
  const parts = value.split('.')
  for (let i = 0; i < parts.length; i++) {
    const changed = [...parts]
    changed[i] = (changed[i]![0] === 'B' ? 'C' : 'B') + changed[i]!.slice(1)
    if (i === 2) changed[i] = String(expiresAt + 1)
    t.equal(readBoundCookie(secret, changed.join('.'), sessionId, now), null, `part ${i} changed`)
  }
  for (const bad of [undefined, 42, '', `${value}.x`, value.slice(1)]) t.equal(readBoundCookie(secret, bad, sessionId, now), null, JSON.stringify(bad))
})
