import type { SessionLimits } from './store.js'

/** The one place for the TTL arithmetic shared by both stores (the Lua scripts mirror it). */
export function sessionExpiry (limits: SessionLimits, createdAt: number, lastUsedAt: number): number {
  return Math.min(lastUsedAt + limits.idleTtlMs, createdAt + limits.absoluteTtlMs)
}

/**
 * The user's index outlives its newest session by this much, so that a refresh arriving after
 * the end is told `expired` rather than `missing`; then it expires like every key.
 */
export const INDEX_LINGER_MS = 60 * 60 * 1000

/** How many fingerprints of retired-before-the-predecessor secrets a session remembers, to tell `older` reuse from a wrong secret. */
export const OLDER_SECRETS_REMEMBERED = 8
/** Bytes of SHA-256 kept per older secret: enough to never match a guess, small at rest. */
export const OLDER_SECRET_FINGERPRINT_BYTES = 8
/** User agents are kept for display; longer ones are cut to bound memory per session. */
export const MAX_USER_AGENT_LENGTH = 256
export const MAX_IP_LENGTH = 64
export const MAX_CLIENT_ID_LENGTH = 128
export const MAX_DATA_LENGTH = 4096

export function validateLimits (limits: SessionLimits): SessionLimits {
  for (const name of ['idleTtlMs', 'absoluteTtlMs', 'reuseGraceMs', 'maxSessionsPerUser'] as const) {
    const value = limits[name]
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`)
  }
  if (limits.idleTtlMs < 1 || limits.absoluteTtlMs < 1) throw new TypeError('idleTtlMs and absoluteTtlMs must be at least 1 ms')
  if (limits.maxSessionsPerUser < 1) throw new TypeError('maxSessionsPerUser must be at least 1')
  return Object.freeze({ ...limits })
}

export function clip (value: string | null | undefined, max: number): string {
  if (typeof value !== 'string') return ''
  return value.length > max ? value.slice(0, max) : value
}
