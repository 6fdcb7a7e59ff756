/**
 * The verify cache: token -> its verified entry, at most `capacity` entries, each served until its
 * expiry, evicted by CLOCK (second chance). A hit sets the entry's `referenced` flag and nothing
 * else: no reordering, so the hot set of a busy API costs one Map lookup per request. A miss takes
 * the slot under a hand that walks a ring of the entries: a referenced entry loses its flag and is
 * passed over once, the first one without is evicted. A token used at least once per turn of the
 * hand (about `capacity` new tokens) stays; a scan of one-off tokens evicts one-off tokens first.
 *
 * The Map's key is the token's last KEY_LENGTH characters (its signature's), compared in full
 * against the slot's token on a hit: a fresh header string's hash is computed on every request, and
 * hashing a few characters instead of a few hundred is most of what a hit costs. Two valid tokens
 * that share a key are not both cached (the second is verified each time); a forged token with a
 * cached token's key is a miss, verified and refused like any other.
 *
 * A cache that thrashes (full, and fewer than one lookup in THRASH_HIT_SHARE hit over the last
 * window) admits a token only at its second miss within the last `capacity / 2` misses: under a walk
 * over more live tokens than it holds, every entry would be evicted unused, and keeping each alive
 * until then is what costs (the scavenger copies it, old space collects it). What it holds then
 * stays, and serves the hits it can; a token used again soon still gets in, at its second use.
 * Every miss is admitted again once a quarter of the misses of a window are second ones (tokens
 * come back soon), or expiries leave the cache not full. Not on the hits alone: a cyclic walk
 * over twice the cache alternates windows of hits and windows of misses.
 *
 * Eviction deletes the victim by its key. Not by asking the Map for its oldest key: V8 keeps a
 * deleted Map entry as a hole until the table is rebuilt, and an iterator skips the holes from
 * the front, so evicting the oldest costs a walk over every hole left since the last rebuild.
 */
import { Doorkeeper } from './doorkeeper.js'

export interface CacheEntry {
  /** The whole token (the Map is keyed by its ending). */
  readonly token: string
  /** When the entry stops being served (epoch ms). */
  readonly expiresAtMs: number
  /** Set by a hit, cleared by the hand passing over it. */
  referenced: boolean
  /** Its place in the ring. */
  slot: number
}

/** Below 13 characters V8 copies a substring instead of pointing into the header it came from. */
const KEY_LENGTH = 12

function keyOf (token: string): string {
  return token.length > KEY_LENGTH ? token.slice(-KEY_LENGTH) : token
}

/** Thrashing: fewer than 1 lookup in 16 hit over a window of max(capacity, THRASH_WINDOW) lookups. */
const THRASH_HIT_SHARE = 16
const THRASH_WINDOW = 1024

export class VerifyCache<E extends CacheEntry> {
  readonly #capacity: number
  readonly #entries = new Map<string, E>()
  readonly #window: number
  #lookups = 0
  #hits = 0
  /** Misses offered while thrashing, and those the doorkeeper let in. */
  #offers = 0
  #passes = 0
  /** Non-null while the cache thrashes. */
  #doorkeeper: Doorkeeper | null = null
  /** Slot -> entry (undefined: a free slot); grown up to capacity, then reused. */
  readonly #ring: Array<E | undefined> = []
  #hand = 0

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('the verify cache holds at least one entry')
    this.#capacity = capacity
    this.#window = Math.max(capacity, THRASH_WINDOW)
  }

  /** True while the cache admits tokens only at their second miss. */
  get thrashing (): boolean {
    return this.#doorkeeper !== null
  }

  get size (): number {
    return this.#entries.size
  }

  /** The live entry of token, or undefined (an expired one is dropped). */
  get (token: string): E | undefined {
    if (++this.#lookups === this.#window) this.#judge()
    const key = keyOf(token)
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token !== token) return undefined
    if (entry.expiresAtMs > Date.now()) {
      if (!entry.referenced) entry.referenced = true
      this.#hits++
      return entry
    }
    this.#entries.delete(key)
    this.#ring[entry.slot] = undefined
    return undefined
  }

  /** Adds the entry (its token must not be cached), evicting one when full; not when another token holds its key, nor at a first miss while thrashing. */
  add (entry: E): void {
    const key = keyOf(entry.token)
    if (this.#entries.has(key)) return
    if (this.#doorkeeper !== null) {
      this.#offers++
      if (!this.#doorkeeper.passes(key)) return
      this.#passes++
    }
    const slot = this.#ring.length < this.#capacity ? this.#ring.length : this.#victim()
    entry.referenced = false
    entry.slot = slot
    this.#ring[slot] = entry
    this.#entries.set(key, entry)
  }

  /** At the end of each window: thrashing or not, from its hits. */
  #judge (): void {
    const full = this.#entries.size === this.#capacity
    if (this.#doorkeeper === null) {
      if (full && this.#hits * THRASH_HIT_SHARE < this.#lookups) this.#doorkeeper = new Doorkeeper(Math.max(1, this.#capacity >>> 1))
    } else if (!full || (this.#offers > 0 && this.#passes * 4 >= this.#offers)) {
      this.#doorkeeper = null
    }
    this.#lookups = 0
    this.#hits = 0
    this.#offers = 0
    this.#passes = 0
  }

  /** A free slot: the first under the hand that is empty or not referenced since the hand last passed. */
  #victim (): number {
    for (;;) {
      const slot = this.#hand
      this.#hand = slot + 1 === this.#capacity ? 0 : slot + 1
      const entry = this.#ring[slot]
      if (entry === undefined) return slot
      if (entry.referenced) {
        entry.referenced = false
        continue
      }
      this.#entries.delete(keyOf(entry.token))
      return slot
    }
  }
}
