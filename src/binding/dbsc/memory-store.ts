/** The DBSC store of one process (no redis option): entries expire on read and in a sweep at most once a second. */
import type { DbscStore } from './store.js'

const SWEEP_INTERVAL_MS = 1000

interface Entry { record: string, expiresAt: number }

export class MemoryDbscStore implements DbscStore {
  readonly #challenges = new Map<string, Entry>()
  readonly #keys = new Map<string, Entry>()
  #nextSweepAt = 0

  async putChallenge (digest: string, record: string, ttlMs: number): Promise<void> {
    this.#put(this.#challenges, digest, record, ttlMs)
  }

  async takeChallenge (digest: string): Promise<string | null> {
    const record = this.#read(this.#challenges, digest)
    this.#challenges.delete(digest)
    return record
  }

  async putSessionKey (sessionId: string, record: string, ttlMs: number): Promise<void> {
    this.#put(this.#keys, sessionId, record, ttlMs)
  }

  async getSessionKey (sessionId: string): Promise<string | null> {
    return this.#read(this.#keys, sessionId)
  }

  /** Most logins come from browsers that never redeem their challenge: without a sweep they would pile up. */
  #put (map: Map<string, Entry>, key: string, record: string, ttlMs: number): void {
    const now = Date.now()
    if (now >= this.#nextSweepAt) {
      this.#nextSweepAt = now + SWEEP_INTERVAL_MS
      for (const entries of [this.#challenges, this.#keys]) {
        for (const [name, entry] of entries) if (entry.expiresAt <= now) entries.delete(name)
      }
    }
    map.set(key, { record, expiresAt: now + ttlMs })
  }

  #read (map: Map<string, Entry>, key: string): string | null {
    const entry = map.get(key)
    if (entry === undefined) return null
    if (entry.expiresAt <= Date.now()) {
      map.delete(key)
      return null
    }
    return entry.record
  }

  /** For tests: how many entries are held, expired or not. */
  get size (): number {
    return this.#challenges.size + this.#keys.size
  }
}
