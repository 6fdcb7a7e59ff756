/**
 * DBSC challenges: 256 random bits, single use, short-lived, each naming what it was issued for
 * (a registration or a refresh of one session). Kept by digest only, so a dump of the store shows
 * no challenge a proof could sign; taken with the store's atomic take, so two requests carrying the
 * same proof cannot both redeem it.
 *
 * Chosen over a stateless HMAC challenge: single use needs a write per redeemed challenge anyway
 * (a used-jti set), and one entry per challenge, removed as it is redeemed, is that write.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { DbscStore } from './store.js'

export type ChallengePurpose = 'register' | 'refresh'

export interface ChallengeSubject {
  purpose: ChallengePurpose
  userId: string
  sessionId: string
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/

function digest (challenge: string): string {
  return createHash('sha256').update(challenge).digest('base64url')
}

export async function issueChallenge (store: DbscStore, ttlMs: number, subject: ChallengeSubject): Promise<string> {
  const challenge = randomBytes(32).toString('base64url')
  await store.putChallenge(digest(challenge), JSON.stringify([subject.purpose, subject.userId, subject.sessionId]), ttlMs)
  return challenge
}

/** What the challenge was issued for, once; null for anything else (never issued, expired, taken, not a challenge). */
export async function redeemChallenge (store: DbscStore, challenge: unknown): Promise<ChallengeSubject | null> {
  if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) return null
  const record = await store.takeChallenge(digest(challenge))
  if (record === null) return null
  const [purpose, userId, sessionId] = JSON.parse(record) as [ChallengePurpose, string, string]
  return { purpose, userId, sessionId }
}
