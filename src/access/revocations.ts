/**
 * Revocations pushed to every instance, so that `authenticateSession` costs no store
 * round trip: the store announces each revoked session id (inside the revoking script), and each
 * instance keeps them for as long as an access token of theirs can live.
 *
 * A missed announcement must never let a revoked session through. The feed is complete only
 * while subscribed, so it is trusted only for access tokens issued after the subscription became
 * ready (a revoked session cannot get a new token, so later revocations of theirs are heard);
 * older tokens, and every token while the feed is down, are checked against the store.
 */
import type { RevocationWatcher } from '../session/store.js'

/** Allowance for the clocks of the instance that signed a token and of this one. */
export const CLOCK_SKEW_MS = 2_000

export class RevocationCache implements RevocationWatcher {
  readonly #rememberMs: number
  readonly #revoked = new Map<string, number>()
  readonly #sweeper: NodeJS.Timeout
  #readySince: number | null = null

  /** accessTokenTtlMs: after that, every token of a revoked session has expired by itself. */
  constructor (accessTokenTtlMs: number) {
    this.#rememberMs = accessTokenTtlMs + CLOCK_SKEW_MS
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#rememberMs, 60_000)).unref()
  }

  revoked (sessionIds: string[]): void {
    const forgetAt = Date.now() + this.#rememberMs
    for (const sessionId of sessionIds) if (sessionId !== '') this.#revoked.set(sessionId, forgetAt)
  }

  ready (): void {
    this.#readySince = Date.now()
  }

  down (): void {
    this.#readySince = null
  }

  /** true: revoked; false: no revocation can have been missed; null: ask the store. */
  isRevoked (sessionId: string, issuedAtSeconds: number): boolean | null {
    if (this.#revoked.has(sessionId)) return true
    if (this.#readySince === null || issuedAtSeconds * 1000 < this.#readySince + CLOCK_SKEW_MS) return null
    return false
  }

  close (): void {
    clearInterval(this.#sweeper)
    this.#revoked.clear()
  }

  #sweep (): void {
    const now = Date.now()
    for (const [sessionId, forgetAt] of this.#revoked) if (forgetAt <= now) this.#revoked.delete(sessionId)
  }
}
