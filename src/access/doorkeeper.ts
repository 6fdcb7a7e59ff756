/**
 * The last `capacity` keys seen once, oldest forgotten first: the verify cache's admission test
 * while it thrashes (see verify-cache.ts). A key costs a short string and a Set slot, where a cache
 * entry keeps a token, its claims and its user alive.
 */
export class Doorkeeper {
  readonly #capacity: number
  readonly #seen = new Set<string>()
  readonly #ring: string[] = []
  #next = 0

  constructor (capacity: number) {
    this.#capacity = capacity
  }

  /** True when key was seen (and forgets it); false the first time (and remembers it). */
  passes (key: string): boolean {
    if (this.#seen.delete(key)) return true
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(key)
    } else {
      this.#seen.delete(this.#ring[this.#next]!)
      this.#ring[this.#next] = key
      this.#next = this.#next + 1 === this.#capacity ? 0 : this.#next + 1
    }
    this.#seen.add(key)
    return false
  }
}
