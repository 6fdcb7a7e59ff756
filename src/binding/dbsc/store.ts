/**
 * What DBSC keeps between requests: single-use challenges and each bound session's public key.
 * Separate from the session store on purpose: the session record keeps only the key's thumbprint
 * (all a refresh compares), while a DBSC refresh proof carries no key and must be verified with
 * the one shown at registration. Both kinds of entry expire by themselves.
 */
export interface DbscStore {
  /** Keep `record` under a challenge's digest for `ttlMs`. */
  putChallenge: (digest: string, record: string, ttlMs: number) => Promise<void>
  /** The record, removed in the same step: null when never issued, expired or already taken. */
  takeChallenge: (digest: string) => Promise<string | null>
  putSessionKey: (sessionId: string, record: string, ttlMs: number) => Promise<void>
  getSessionKey: (sessionId: string) => Promise<string | null>
}
