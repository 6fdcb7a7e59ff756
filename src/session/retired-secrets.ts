/**
 * What a presented secret is to its session, the rule behind rotation, grace, stale and reuse:
 * the one TypeScript home of it (MemoryStore applies it; `../redis/lua/rotate-3.lua` and
 * `session-rules.lua` restate it for Redis, and test/store-differential.test.ts proves they agree).
 *
 * A session remembers a verifier of its newest secret (the first VERIFIER_BYTES of its SHA-256),
 * the verifier of the one the last rotation retired (its predecessor), and short fingerprints of
 * the ones retired before that, newest first. A stored verifier matches a presented SHA-256 that
 * starts with it, so verifiers of any length compare by one rule (Redis records of layout 1, written
 * by 0.1.0, keep whole 32-byte hashes and 8-byte fingerprints: see ../redis/lua/README.md).
 */
import { timingSafeEqual } from 'node:crypto'

/** How many fingerprints of retired-before-the-predecessor secrets a session remembers, to tell `older` reuse from a wrong secret. */
export const OLDER_SECRETS_REMEMBERED = 8
/**
 * Bytes of SHA-256 kept per older secret: small at rest, and enough that guessing cannot reach
 * one. A match only ever refuses (stale) or revokes the session (reuse): a random secret matches
 * one of the 8 with probability 2^-37, so revoking someone's session by guessing takes ~10^11
 * refreshes against it.
 */
export const FINGERPRINT_BYTES = 5
/**
 * Bytes of SHA-256 kept for the newest secret and its predecessor: 128 bits, so neither a guess
 * nor a preimage search against a dump of the store can find a secret that passes (the secret
 * itself has 256 bits).
 */
export const VERIFIER_BYTES = 16

export interface SecretHistory {
  /** Verifier (SHA-256 prefix) of the newest secret. */
  newest: Buffer
  /** Verifier of the secret retired by the last rotation; null before the first. */
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

/** A stored verifier matches the presented SHA-256 that starts with it. */
function verifies (stored: Buffer | null, presentedHash: Buffer): boolean {
  return stored !== null && same(stored, presentedHash.subarray(0, stored.length))
}

/** What a store keeps of a secret's SHA-256 as its newest (or predecessor) verifier. */
export function verifierOf (secretHash: Buffer): Buffer {
  return secretHash.subarray(0, VERIFIER_BYTES)
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
  if (verifies(history.newest, presentedHash)) return 'newest'
  if (verifies(history.previous, presentedHash)) return now - history.rotatedAt <= reuseGraceMs ? 'grace' : 'reused-predecessor'
  const position = olderPosition(history.older, presentedHash)
  if (position === 0 && now - history.previousRotatedAt <= reuseGraceMs) return 'stale'
  return position === -1 ? 'unknown' : 'reused-older'
}

/** The history after a rotation to `successorHash` (a SHA-256): the presented secret becomes the predecessor, the old predecessor an older fingerprint. */
export function retire (history: SecretHistory, successorHash: Buffer, now: number): SecretHistory {
  const older = history.previous === null
    ? history.older
    : Buffer.concat([history.previous.subarray(0, FINGERPRINT_BYTES), history.older]).subarray(0, FINGERPRINT_BYTES * OLDER_SECRETS_REMEMBERED)
  return {
    newest: verifierOf(successorHash),
    previous: history.newest,
    older,
    rotatedAt: now,
    previousRotatedAt: history.previous === null ? history.previousRotatedAt : history.rotatedAt
  }
}
