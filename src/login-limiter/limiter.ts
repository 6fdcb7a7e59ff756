/**
 * Failed-login limits (SPEC 5): per username+ip and per ip, fixed windows, counting FAILURES
 * only; @fastify/rate-limit counts every request, so a user who logs in successfully ten times
 * would lock themselves out. A success forgets the username+ip failures, not the ip's.
 *
 * Reservation, not check-then-count: an attempt is counted (as if it failed) in the same atomic
 * step that admits it, and a success gives it back. With a separate check before the password
 * verify and a count after it, N attempts sent at the same instant would all pass the check
 * before any failure was counted; with reserve, exactly `max` of them get through.
 *
 * Counters are keyed by derived ids, never the plain username: `attemptIds` is the one place that
 * turns (username, ip) into them, for the memory and the Redis limiter alike.
 */
import { createHash } from 'node:crypto'
import { DEFAULTS } from '../defaults.js'

export interface LoginLimit {
  max: number
  windowMs: number
}

export interface LoginLimits {
  perUserIp: LoginLimit
  perIp: LoginLimit
}

export const DEFAULT_LOGIN_LIMITS: Readonly<LoginLimits> = DEFAULTS.loginLimits

export interface LoginLimiter {
  /**
   * Admit one attempt and count it against both keys at once, atomically: 0 when admitted (the
   * attempt now counts as a failure until `release`), else the milliseconds until an attempt may
   * be made (nothing is counted then). One round trip.
   */
  reserve: (username: string, ip: string) => Promise<number>
  /**
   * The admitted attempt succeeded: forget the username+ip count, and give this attempt back to
   * the ip's count (never below 0; the ip's other failures stay counted). One round trip.
   */
  release: (username: string, ip: string) => Promise<void>
  close: () => Promise<void>
}

export function validateLoginLimits (limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginLimits {
  for (const name of ['perUserIp', 'perIp'] as const) {
    const limit = limits[name] as LoginLimit | undefined
    for (const field of ['max', 'windowMs'] as const) {
      const value = limit?.[field]
      if (!Number.isSafeInteger(value) || value! < 1) throw new TypeError(`loginLimits.${name}.${field} must be a positive integer, got ${String(value)}`)
    }
  }
  return Object.freeze({ perUserIp: Object.freeze({ ...limits.perUserIp }), perIp: Object.freeze({ ...limits.perIp }) })
}

/** Longest ip used as is; a longer one (a forged X-Forwarded-For under trustProxy) is hashed. */
const MAX_IP_LENGTH = 64
/** 128 bits of SHA-256: no collisions between usernames in practice, and a short key. */
const USER_DIGEST_BYTES = 16

export interface AttemptIds {
  /** base64url of the ip (or `~` + its SHA-256): never empty, no braces, so a Redis Cluster hash tag. */
  ip: string
  /** base64url of a truncated SHA-256 of the normalized username. */
  user: string
}

export function attemptIds (username: string, ip: string): AttemptIds {
  const ipText = String(ip)
  // `~` is outside the base64url alphabet: a hashed ip can never equal an encoded one. An empty
  // ip is hashed too: an empty `{}` is no hash tag, and the two keys would land on two slots.
  const ipId = ipText.length > 0 && ipText.length <= MAX_IP_LENGTH
    ? Buffer.from(ipText, 'utf8').toString('base64url')
    : '~' + createHash('sha256').update(ipText, 'utf8').digest('base64url')
  return { ip: ipId, user: userDigest(username) }
}

/**
 * Usernames that differ only by case or by Unicode compatibility form (`ａｌｉｃｅ`, `Alice`)
 * share one counter, or an attacker would get 10 tries per spelling. Any length is hashed: the
 * digest bounds the key, and the plain name never reaches Redis.
 */
function userDigest (username: string): string {
  const normalized = String(username).normalize('NFKC').toLowerCase().normalize('NFKC')
  return createHash('sha256').update(normalized, 'utf8').digest().subarray(0, USER_DIGEST_BYTES).toString('base64url')
}

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
    const [[ipKey], [userKey]] = this.#keys(username, ip)
    this.#windows.delete(userKey)
    const window = this.#live(ipKey, performance.now())
    if (window === undefined) return
    // A counter that reaches 0 goes, as the Redis one does.
    if (window.count <= 1) this.#windows.delete(ipKey)
    else window.count--
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
