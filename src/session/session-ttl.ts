/**
 * The session's lifetime rules, the one TypeScript home of the TTL arithmetic. The Redis scripts
 * restate them in `../redis/lua/session-rules.lua`; test/lua-rules-agree.test.ts proves both agree.
 */

export interface SessionLimits {
  /** Sliding: a session unused for this long ends. */
  idleTtlMs: number
  /** Fixed at login: a session never lives longer than this. */
  absoluteTtlMs: number
  /** How long after a rotation the retired token still returns the newest one. */
  reuseGraceMs: number
  /** A login beyond this many live sessions evicts the one closest to expiry. */
  maxSessionsPerUser: number
}

/** A session ends at the sooner of its idle and its absolute end (lastUsedAt = createdAt until the first rotation). */
export function sessionExpiry (limits: SessionLimits, createdAt: number, lastUsedAt: number): number {
  return Math.min(lastUsedAt + limits.idleTtlMs, createdAt + limits.absoluteTtlMs)
}

/** Expired from its last millisecond on: at `expiresAt` itself the session no longer refreshes. */
export function isExpired (expiresAt: number, now: number): boolean {
  return expiresAt <= now
}

/**
 * The user's index outlives its newest session by this much, so that a refresh arriving after
 * the end is told `expired` rather than `missing`; then it expires like every key.
 */
export const INDEX_LINGER_MS = 60 * 60 * 1000

export function validateLimits (limits: SessionLimits): SessionLimits {
  for (const name of ['idleTtlMs', 'absoluteTtlMs', 'reuseGraceMs', 'maxSessionsPerUser'] as const) {
    const value = limits[name]
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`)
  }
  if (limits.idleTtlMs < 1 || limits.absoluteTtlMs < 1) throw new TypeError('idleTtlMs and absoluteTtlMs must be at least 1 ms')
  if (limits.maxSessionsPerUser < 1) throw new TypeError('maxSessionsPerUser must be at least 1')
  return Object.freeze({
    idleTtlMs: limits.idleTtlMs,
    absoluteTtlMs: limits.absoluteTtlMs,
    reuseGraceMs: limits.reuseGraceMs,
    maxSessionsPerUser: limits.maxSessionsPerUser
  })
}
