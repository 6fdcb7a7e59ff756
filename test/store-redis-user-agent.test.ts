/**
 * The user agent as a Redis record keeps it (src/redis/user-agent.ts): much shorter for the
 * browsers of the day, and given back exactly, whatever it was.
 */
import fc from 'fast-check'
import t from 'tap'
import { decodeUserAgent, encodeUserAgent } from '../src/redis/user-agent.js'
import { SAMPLE_USER_AGENTS } from '../bench/redis-memory.js'

t.test('the browsers of the day shrink to a fraction and come back exactly', async (t) => {
  for (const ua of SAMPLE_USER_AGENTS) {
    const encoded = encodeUserAgent(ua)
    t.ok(encoded.length <= ua.length / 4, `${ua.length} -> ${encoded.length} characters: ${ua}`)
    t.equal(decodeUserAgent(encoded), ua)
  }
})

t.test('any string comes back exactly: control characters, the escape, unicode, nothing', async (t) => {
  for (const ua of ['', 'curl/8.5.0', '\x1f', '\x1fMozilla/5.0 (', 'Mozilla/5.0 (\x01', 'a\tb', 'Mozilla/5.0 (Mozilla/5.0 (', '.0.0.0.0.0.0', 'ünï Safari/537.36 😀']) {
    t.equal(decodeUserAgent(encodeUserAgent(ua)), ua, JSON.stringify(ua))
  }
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(fc.constantFrom('Mozilla/5.0 (', ' Safari/537.36', ' Mobile', '.0.0.0', '\x01', '\x1f', ' like Mac OS X'), { maxLength: 6 }), (noise, parts) => {
    const ua = parts.join(noise.slice(0, 5)) + noise
    return decodeUserAgent(encodeUserAgent(ua)) === ua
  }), { numRuns: 2000 })
})

t.test('what 0.1.0 kept (the header as it came) reads unchanged', async (t) => {
  for (const ua of SAMPLE_USER_AGENTS) t.equal(decodeUserAgent(ua), ua)
})
