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
 * Eviction deletes the victim by its key. Not by asking the Map for its oldest key: V8 keeps a
 * deleted Map entry as a hole until the table is rebuilt, and an iterator skips the holes from
 * the front, so evicting the oldest costs a walk over every hole left since the last rebuild.
 */
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

export class VerifyCache<E extends CacheEntry> {
  readonly #capacity: number
  readonly #entries = new Map<string, E>()
  /** Slot -> entry (undefined: a free slot); grown up to capacity, then reused. */
  readonly #ring: Array<E | undefined> = []
  #hand = 0

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('the verify cache holds at least one entry')
    this.#capacity = capacity
  }

  get size (): number {
    return this.#entries.size
  }

  /** The live entry of token, or undefined (an expired one is dropped). */
  get (token: string): E | undefined {
    const key = keyOf(token)
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token !== token) return undefined
    if (entry.expiresAtMs > Date.now()) {
      if (!entry.referenced) entry.referenced = true
      return entry
    }
    this.#entries.delete(key)
    this.#ring[entry.slot] = undefined
    return undefined
  }

  /** Adds the entry (its token must not be cached), evicting one when full; not when another token holds its key. */
  add (entry: E): void {
    const key = keyOf(entry.token)
    if (this.#entries.has(key)) return
    const slot = this.#ring.length < this.#capacity ? this.#ring.length : this.#victim()
    entry.referenced = false
    entry.slot = slot
    this.#ring[slot] = entry
    this.#entries.set(key, entry)
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
