/**
 * The Redis key layout, every key of the plugin in one place. Slot strategy: the keys one script
 * touches share one `{hash tag}`, so each script runs on one Cluster slot:
 *
 *   <prefix>{<b64url userId>}:sessions        sorted set: session id -> expiresAt (ms); or, for a
 *                                             user with one session, a string: that session's
 *                                             record, id and expiry (the solo record, lua/record.lua)
 *   <prefix>{<b64url userId>}:s:<sessionId>   string: the session record (see lua/README.md)
 *   <prefix>{<b64url userId>}:revoked         string: `<ms>:<kept session id>` of the last revoke-all
 *   <prefix>revoked                           pub/sub channel: revoked session ids
 *   <prefix>login:{<ip id>}:ip                failed logins from the ip
 *   <prefix>login:{<ip id>}:u:<user digest>   failed logins for the username from the ip
 *   <prefix>dbsc:c:<challenge digest>         string: what a DBSC challenge was issued for (single use)
 *   <prefix>dbsc:k:<sessionId>                string: the public key a DBSC session is bound to
 *   <prefix>dpop:jti:<digest>                 a DPoP proof seen (digest of key thumbprint and jti), until it is too old to pass
 *
 * Scripts that reach a user's other sessions (eviction, revoke-all, list) get the record key
 * base (`<prefix>{<tag>}:s:`) as a KEY and append session ids to it: they never slice a key, and
 * an ioredis `keyPrefix` applies to the base as to every key.
 */

export interface SessionKeys {
  index: string
  /** When the user's last revoke-all happened, and which session it kept: see lua/revoke-all-3.lua. */
  revokedMark: string
  /** A session's record key is this base followed by its id. */
  sessionBase: string
}

export function validatePrefix (prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length > 64 || /[{}\s]/.test(prefix)) {
    throw new TypeError('prefix must be a string of at most 64 characters without braces or whitespace')
  }
  return prefix
}

/** base64url never contains braces, so any user id makes a valid hash tag. */
export function sessionKeys (prefix: string, userId: string): SessionKeys {
  const base = `${prefix}{${Buffer.from(userId, 'utf8').toString('base64url')}}:`
  return { index: base + 'sessions', revokedMark: base + 'revoked', sessionBase: base + 's:' }
}

export function revocationChannel (prefix: string): string {
  return `${prefix}revoked`
}

/** Both counters of one attempt share the ip's hash tag (`ipId` never contains braces and is never empty). */
export function loginKeys (prefix: string, ipId: string, userDigest: string): [ipKey: string, userKey: string] {
  const base = `${prefix}login:{${ipId}}:`
  return [base + 'ip', base + 'u:' + userDigest]
}

/**
 * DBSC keys are each read and written alone (SET, GETDEL, GET), so they need no hash tag. A
 * challenge is found by its SHA-256 (base64url): the challenge itself is never at rest.
 */
export function dbscChallengeKey (prefix: string, challengeDigest: string): string {
  return `${prefix}dbsc:c:${challengeDigest}`
}

export function dbscSessionKey (prefix: string, sessionId: string): string {
  return `${prefix}dbsc:k:${sessionId}`
}

/** One key per proof, alone in its command (`SET NX PX`): no hash tag needed. */
export function dpopJtiKey (prefix: string, digest: string): string {
  return `${prefix}dpop:jti:${digest}`
}
