/**
 * What a presented secret is to its session, the rule behind rotation, grace, stale and reuse:
 * the one TypeScript home of it (MemoryStore applies it; `../redis/lua/rotate-3.lua` and
 * `session-rules.lua` restate it for Redis, and test/store-differential.test.ts proves they agree).
 *
 * A session remembers the hash of its newest secret, the hash of the one the last rotation
 * retired (its predecessor), and short fingerprints of the ones retired before that, newest first.
 */
import { timingSafeEqual } from 'node:crypto'

/** How many fingerprints of retired-before-the-predecessor secrets a session remembers, to tell `older` reuse from a wrong secret. */
export const OLDER_SECRETS_REMEMBERED = 8
/** Bytes of SHA-256 kept per older secret: enough to never match a guess, small at rest. */
export const FINGERPRINT_BYTES = 8

export interface SecretHistory {
  /** SHA-256 of the newest secret. */
  newest: Buffer
  /** SHA-256 of the secret retired by the last rotation; null before the first. */
  previous: Buffer | null
  /** Fingerprints of the secrets retired before `previous`, newest first, concatenated. */
  older: Buffer
  /** When the last rotation happened; 0 before the first. */
  rotatedAt: number
  /** When the rotation before the last happened (when older[0] was retired); 0: none. */
  previousRotatedAt: number
}

export type PresentedSecret =
  /** The newest secret: rotate. */
  | 'newest'
  /** The predecessor within the grace window of the last rotation: answer with the newest token again. */
  | 'grace'
  /** The predecessor after the grace window: theft. */
  | 'reused-predecessor'
  /** Retired by the rotation before the last, within that rotation's grace window: a late duplicate, refused, harmless. */
  | 'stale'
  /** Retired earlier still, or `stale` after its window: theft. */
  | 'reused-older'
  /** Not a secret of this session. */
  | 'unknown'

/** Hashes are compared in constant time: they are what stands between a guess and a session. */
function same (a: Buffer | null, b: Buffer): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(a, b)
}

/** Position of the presented secret among the older fingerprints, or -1. */
export function olderPosition (older: Buffer, presentedHash: Buffer): number {
  const fingerprint = presentedHash.subarray(0, FINGERPRINT_BYTES)
  for (let offset = 0; offset + FINGERPRINT_BYTES <= older.length; offset += FINGERPRINT_BYTES) {
    if (same(older.subarray(offset, offset + FINGERPRINT_BYTES), fingerprint)) return offset / FINGERPRINT_BYTES
  }
  return -1
}

export function classifySecret (history: SecretHistory, presentedHash: Buffer, now: number, reuseGraceMs: number): PresentedSecret {
  if (same(history.newest, presentedHash)) return 'newest'
  if (same(history.previous, presentedHash)) return now - history.rotatedAt <= reuseGraceMs ? 'grace' : 'reused-predecessor'
  const position = olderPosition(history.older, presentedHash)
  if (position === 0 && now - history.previousRotatedAt <= reuseGraceMs) return 'stale'
  return position === -1 ? 'unknown' : 'reused-older'
}

/** The history after a rotation to `successorHash`: the presented secret becomes the predecessor, the old predecessor an older fingerprint. */
export function retire (history: SecretHistory, successorHash: Buffer, now: number): SecretHistory {
  const older = history.previous === null
    ? history.older
    : Buffer.concat([history.previous.subarray(0, FINGERPRINT_BYTES), history.older]).subarray(0, FINGERPRINT_BYTES * OLDER_SECRETS_REMEMBERED)
  return {
    newest: successorHash,
    previous: history.newest,
    older,
    rotatedAt: now,
    previousRotatedAt: history.previous === null ? history.previousRotatedAt : history.rotatedAt
  }
}
