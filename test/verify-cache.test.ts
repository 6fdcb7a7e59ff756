/**
 * The verify cache's policy (CLOCK, second chance): bounded exactly, hot tokens survive scans of
 * one-off tokens, expired entries are never served. Unit tests on the cache alone; what enters it
 * (successes only) is access-token-verify-cache.test.ts.
 */
import t from 'tap'
import { VerifyCache, type CacheEntry } from '../src/access/verify-cache.js'

const HOUR = 3_600_000

function entry (token: string, expiresAtMs = Date.now() + HOUR): CacheEntry {
  return { token, expiresAtMs, referenced: false, slot: 0 }
}

t.test('never holds more than its capacity, and fills up to it exactly', async (t) => {
  const cache = new VerifyCache(100)
  for (let i = 0; i < 1000; i++) {
    cache.add(entry(`token-${i}`))
    if (i % 3 === 0) cache.get(`token-${i - 50}`)
    t.ok(cache.size <= 100, `size ${cache.size} after ${i + 1} additions`)
  }
  t.equal(cache.size, 100)
})

t.test('a hot token survives a scan of many one-off tokens', async (t) => {
  const cache = new VerifyCache(100)
  const hot = entry('hot')
  cache.add(hot)
  for (let i = 0; i < 10_000; i++) {
    // Used once every 90 one-off tokens: less than one turn of the hand.
    if (i % 90 === 0) t.equal(cache.get('hot'), hot, `hot is still cached after ${i} one-offs`)
    cache.add(entry(`one-off-${i}`))
  }
  t.equal(cache.get('hot'), hot)
  t.equal(cache.size, 100)
})

t.test('an entry used since the hand last passed gets a second chance; unused ones go first', async (t) => {
  const cache = new VerifyCache(3)
  const [a, b, c] = [entry('a'), entry('b'), entry('c')]
  cache.add(a)
  cache.add(b)
  cache.add(c)
  cache.get('a')
  cache.add(entry('d')) // passes over a (clearing its flag), evicts b
  t.equal(cache.get('b'), undefined, 'b was evicted')
  t.equal(cache.get('a'), a, 'a stays')
  t.equal(cache.get('c'), c, 'c stays')
  t.equal(cache.size, 3)
})

t.test('an expired entry is not served, and frees its place', async (t) => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const now = realNow()
  Date.now = () => now
  const cache = new VerifyCache(2)
  cache.add(entry('short', now + 1000))
  cache.add(entry('long', now + HOUR))
  Date.now = () => now + 999
  t.ok(cache.get('short'), 'served until its expiry')
  Date.now = () => now + 1000
  t.equal(cache.get('short'), undefined, 'not served at its expiry')
  t.equal(cache.size, 1)
  const next = entry('next', now + HOUR)
  cache.add(next)
  t.equal(cache.get('long')?.expiresAtMs, now + HOUR, 'the free place was taken, not a live entry')
  t.equal(cache.get('next'), next)
  t.equal(cache.size, 2)
})

t.test('a token ending like a cached one is not served its entry, and does not replace it', async (t) => {
  const cache = new VerifyCache(10)
  const ending = '.the-same-signature-ending'
  const cached = entry('header.payload' + ending)
  cache.add(cached)
  t.equal(cache.get('header.forged' + ending), undefined, 'a miss: the whole token is compared')
  cache.add(entry('header.other' + ending))
  t.equal(cache.get('header.other' + ending), undefined, 'not cached: its key is taken')
  t.equal(cache.get('header.payload' + ending), cached, 'the first one is still served')
  t.equal(cache.size, 1)
})

t.test('a capacity below one is refused', async (t) => {
  t.throws(() => new VerifyCache(0), RangeError)
  t.throws(() => new VerifyCache(1.5), RangeError)
})
