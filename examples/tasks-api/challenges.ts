/**
 * WebAuthn challenges, kept server side: each one is for one ceremony (and, but for a passkey
 * sign-in, one user), taken at most once, and dead after CHALLENGE_TTL_MS. In memory, per
 * process, as the demo's users are; bounded, since anyone may ask for a sign-in challenge.
 */
export type Ceremony = 'register' | 'login' | 'reauthenticate'

/** How long the browser may take (the options' `timeout`), and the challenge lives. */
export const CHALLENGE_TTL_MS = 60_000
const MAX_OUTSTANDING = 10_000

interface Pending { ceremony: Ceremony, userId: string | null, expiresAt: number }

export class Challenges {
  readonly #pending = new Map<string, Pending>()
  readonly #now: () => number

  constructor (now: () => number = () => Date.now()) {
    this.#now = now
  }

  issue (challenge: string, ceremony: Ceremony, userId: string | null): void {
    // Insertion order: the first entries are the oldest, dropped first when full.
    for (const [old, pending] of this.#pending) {
      if (this.#pending.size < MAX_OUTSTANDING && pending.expiresAt > this.#now()) break
      this.#pending.delete(old)
    }
    this.#pending.set(challenge, { ceremony, userId, expiresAt: this.#now() + CHALLENGE_TTL_MS })
  }

  /** True once for a live challenge of this ceremony and user; the challenge is gone either way. */
  take (challenge: string, ceremony: Ceremony, userId: string | null): boolean {
    const pending = this.#pending.get(challenge)
    if (pending === undefined) return false
    this.#pending.delete(challenge)
    return pending.ceremony === ceremony && pending.userId === userId && pending.expiresAt > this.#now()
  }

  get size (): number { return this.#pending.size }
}
