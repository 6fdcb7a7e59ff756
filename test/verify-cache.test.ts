/**
 * The verify cache's policy (CLOCK, second chance): bounded exactly, hot tokens survive scans of
 * one-off tokens, expired entries are never served. Unit tests on the cache alone; what enters it
 * (successes only) is access-token-verify-cache.test.ts.
 */
import t, { type Test } from 'tap'
import { VerifyCache, type CacheEntry } from '../src/access/verify-cache.js'

const HOUR = 3_600_000

function entry (token: string, expiresAtMs = Date.now() + HOUR): CacheEntry {
  return { token, expiresAtMs, referenced: false, slot: 0 }
}

/** Date.now stopped at the real time (returned) until `at` moves it; restored when the test ends. */
function stoppedClock (t: Test): { now: number, at: (ms: number) => void } {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const now = realNow()
  const at = (ms: number): void => { Date.now = () => ms }
  at(now)
  return { now, at }
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
  const { now, at } = stoppedClock(t)
  const cache = new VerifyCache(2)
  cache.add(entry('short', now + 1000))
  cache.add(entry('long', now + HOUR))
  at(now + 999)
  t.ok(cache.get('short'), 'served until its expiry')
  at(now + 1000)
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

/** What authenticate does: a hit, or a verification (here: a fresh entry) offered to the cache. */
function lookup (cache: VerifyCache<CacheEntry>, token: string): boolean {
  if (cache.get(token) !== undefined) return true
  cache.add(entry(token))
  return false
}

t.test('a thrashing cache keeps what it holds and admits a token only at its second miss', async (t) => {
  const cache = new VerifyCache(100)
  // A cyclic walk over twice what it holds: every lookup misses.
  for (let i = 0; i < 1024; i++) lookup(cache, `walk-${i % 200}`)
  t.ok(cache.thrashing, 'full, and no hit in a window of 1024 lookups')
  const walk = Array.from({ length: 200 }, (_, i) => `walk-${i}`)
  const held = walk.filter((token) => cache.get(token) !== undefined)
  t.equal(held.length, 100)

  let hits = 0
  for (let i = 1024; i < 5024; i++) if (lookup(cache, walk[i % 200]!)) hits++
  t.equal(hits, 2000, 'what it held serves every other lookup of the walk')
  t.ok(cache.thrashing, 'still thrashing: no walk token comes back within 100 misses')
  t.strictSame(walk.filter((token) => cache.get(token) !== undefined), held, 'no churn')

  t.notOk(lookup(cache, 'hot'), 'first miss')
  t.notOk(cache.get('hot'), 'not admitted at its first miss')
  lookup(cache, 'hot')
  t.ok(cache.get('hot'), 'admitted at its second miss')
  t.equal(cache.size, 100)
})

t.test('a thrashing cache admits every miss again once the tokens come back soon', async (t) => {
  const cache = new VerifyCache(100)
  for (let i = 0; i < 1024; i++) lookup(cache, `walk-${i % 200}`)
  t.ok(cache.thrashing)
  // 40 tokens in turn: each comes back within 50 misses, gets in at its second miss, then hits.
  for (let i = 0; i < 2048; i++) lookup(cache, `ring-${i % 40}`)
  t.notOk(cache.thrashing)
  lookup(cache, 'new')
  t.ok(cache.get('new'), 'admitted at its first miss')
})

t.test('a thrashing cache admits every miss again once expiries leave it not full', async (t) => {
  const { now, at } = stoppedClock(t)
  const cache = new VerifyCache(100)
  for (let i = 0; i < 1024; i++) if (cache.get(`walk-${i % 200}`) === undefined) cache.add(entry(`walk-${i % 200}`, now + 1000))
  t.ok(cache.thrashing)
  at(now + 1000)
  for (let i = 0; i < 1024; i++) lookup(cache, `walk-${i % 200}`)
  t.notOk(cache.thrashing)
})

t.test('a full cache that hits does not thrash', async (t) => {
  const cache = new VerifyCache(100)
  // One new token in 20 lookups, the rest hits: above 1 in 16.
  for (let i = 0; i < 10_000; i++) lookup(cache, i % 20 === 0 ? `one-off-${i}` : `hot-${i % 50}`)
  t.equal(cache.size, 100)
  t.notOk(cache.thrashing)
})

t.test('a capacity below one is refused', async (t) => {
  t.throws(() => new VerifyCache(0), RangeError)
  t.throws(() => new VerifyCache(1.5), RangeError)
})
