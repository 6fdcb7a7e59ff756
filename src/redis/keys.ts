/**
 * Redis key schema. Slot strategy: every key of one user carries the same `{hash tag}` (the
 * base64url user id, which never contains braces), so login, refresh, revoke, revoke-all and the
 * per-user cap each run as one script on one Cluster slot.
 *
 *   <prefix>{<b64url userId>}:sessions        sorted set: session id -> expiresAt (ms)
 *   <prefix>{<b64url userId>}:s:<sessionId>   string: the session record (see lua/README.md)
 *
 * Scripts that touch sessions other than the one in KEYS (eviction, revoke-all, list) derive
 * their keys from KEYS[1] by replacing its `sessions` suffix with `s:<sessionId>`, so the
 * derivation also survives an ioredis `keyPrefix`. Keep INDEX_SUFFIX and the scripts in step.
 */
import { encodeUserId } from '../session/refresh-token.js'

export const DEFAULT_PREFIX = 'rs:'
const INDEX_SUFFIX = 'sessions'
const SESSION_INFIX = 's:'

export interface UserKeys {
  index: string
  session: (sessionId: string) => string
}

export function validatePrefix (prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length > 64 || /[{}\s]/.test(prefix)) {
    throw new TypeError('prefix must be a string of at most 64 characters without braces or whitespace')
  }
  return prefix
}

export function userKeys (prefix: string, userId: string): UserKeys {
  const base = `${prefix}{${encodeUserId(userId)}}:`
  return {
    index: base + INDEX_SUFFIX,
    session: (sessionId) => base + SESSION_INFIX + sessionId
  }
}
