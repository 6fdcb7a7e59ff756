/**
 * The failed-login limiter of the in-memory store: one process only (see limiter.ts for the rule).
 */
import { attemptIds, validateLoginLimits, type LoginLimit, type LoginLimiter, type LoginLimits } from './limiter.js'

export interface MemoryLoginLimiterOptions {
  limits?: LoginLimits
  /** Hard cap on counters kept; beyond it the oldest windows are dropped (default 100 000). */
  maxEntries?: number
  /** How often expired windows are swept out (default 60 000 ms). */
  sweepIntervalMs?: number
}

interface Window { count: number, resetAt: number }

/**
 * One process only. Memory stays bounded whatever an attacker sends: expired windows go lazily
 * and by a periodic sweep, and at `maxEntries` the oldest window is dropped (a spray of
 * usernames then costs the sprayer their own oldest counters, never unbounded memory).
 */
export class MemoryLoginLimiter implements LoginLimiter {
  readonly #limits: LoginLimits
  readonly #maxEntries: number
  /** Insertion order is window start order, so the first entry is the oldest. */
  readonly #windows = new Map<string, Window>()
  readonly #sweeper: NodeJS.Timeout

  constructor (options: MemoryLoginLimiterOptions = {}) {
    this.#limits = validateLoginLimits(options.limits)
    this.#maxEntries = options.maxEntries ?? 100_000
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 2) throw new TypeError('maxEntries must be an integer of at least 2')
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 60_000).unref()
  }

  /** Live counters, for tests and metrics. */
  get size (): number {
    return this.#windows.size
  }

  async reserve (username: string, ip: string): Promise<number> {
    const now = performance.now() // monotonic: a wall-clock jump neither frees nor locks anyone
    const keys = this.#keys(username, ip)
    let wait = 0
    for (const [key, limit] of keys) {
      const window = this.#live(key, now)
      if (window !== undefined && window.count >= limit.max) wait = Math.max(wait, Math.ceil(window.resetAt - now), 1)
    }
    if (wait > 0) return wait
    for (const [key, limit] of keys) {
      let window = this.#live(key, now)
      if (window === undefined) {
        window = { count: 0, resetAt: now + limit.windowMs }
        this.#windows.set(key, window)
      }
      window.count++
    }
    for (const oldest of this.#windows.keys()) {
      if (this.#windows.size <= this.#maxEntries) break
      this.#windows.delete(oldest)
    }
    return 0
  }

  async release (username: string, ip: string): Promise<void> {
    const now = performance.now()
    for (const [key] of this.#keys(username, ip)) {
      const window = this.#live(key, now)
      if (window === undefined) continue
      // A counter that reaches 0 goes, as the Redis one does.
      if (window.count <= 1) this.#windows.delete(key)
      else window.count--
    }
  }

  async close (): Promise<void> {
    clearInterval(this.#sweeper)
    this.#windows.clear()
  }

  /** [ip key, username+ip key], each with its limit. */
  #keys (username: string, ip: string): [[string, LoginLimit], [string, LoginLimit]] {
    const ids = attemptIds(username, ip)
    return [[`${ids.ip}:ip`, this.#limits.perIp], [`${ids.ip}:u:${ids.user}`, this.#limits.perUserIp]]
  }

  #live (key: string, now: number): Window | undefined {
    const window = this.#windows.get(key)
    if (window === undefined || window.resetAt > now) return window
    this.#windows.delete(key)
    return undefined
  }

  #sweep (): void {
    const now = performance.now()
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key)
  }
}
