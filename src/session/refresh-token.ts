/**
 * The refresh token format, the one place that knows it:
 *
 *   <base64url(userId)>.<sessionId>.<secret>
 *
 * The user id and session id ride in front of the secret so that the session's keys (all on one
 * Redis Cluster slot) are found without an extra lookup. They are not secret; only the 256-bit
 * secret is, and at rest there is only its SHA-256. Only the session core uses this module: a
 * store receives ids, hashes and sealed bytes, never a token.
 */
import { randomFillSync } from 'node:crypto'
import { hmacSha256, sha256 } from '../sha256.js'

const SESSION_ID_BYTES = 16
const SECRET_BYTES = 32
/** Fresh random bytes in each successor secret; what the store keeps (sealed) for grace replies. */
export const SEED_BYTES = 16
/** Longest user id accepted, in UTF-8 bytes; longer ids are a misuse, not a user. */
export const MAX_USER_ID_BYTES = 256

const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/
const ENCODED_USER_ID_PATTERN = /^[A-Za-z0-9_-]+$/
const MAX_ENCODED_USER_ID_LENGTH = Math.ceil((MAX_USER_ID_BYTES * 4) / 3)
/** Anything longer cannot be one of ours; refuse before doing any work on it. */
export const MAX_REFRESH_TOKEN_LENGTH = MAX_ENCODED_USER_ID_LENGTH + 22 + 43 + 2

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export interface RefreshTokenParts {
  userId: string
  sessionId: string
  secret: string
}

/** What parseRefreshToken returns: only it makes one, so every part has been validated. */
export class ParsedRefreshToken implements RefreshTokenParts {
  readonly userId: string
  readonly sessionId: string
  readonly secret: string

  constructor (userId: string, sessionId: string, secret: string) {
    this.userId = userId
    this.sessionId = sessionId
    this.secret = secret
  }
}

/**
 * CSPRNG bytes drawn from a pool refilled 4 KiB at a time: one getrandom call per ~85 refreshes
 * instead of two per refresh (it showed in refresh profiles). Each byte is handed out once.
 */
const POOL_SIZE = 4096
const pool = Buffer.alloc(POOL_SIZE)
let poolOffset = POOL_SIZE

function takeFromPool (length: number): number {
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const offset = poolOffset
  poolOffset += length
  return offset
}

function randomBase64url (length: number): string {
  const offset = takeFromPool(length)
  return pool.toString('base64url', offset, offset + length)
}

export function mintSessionId (): string {
  return randomBase64url(SESSION_ID_BYTES)
}

export function mintSecret (): string {
  return randomBase64url(SECRET_BYTES)
}

/** The fresh randomness of a successor secret (see successorOf). */
export function mintSeed (): Buffer {
  const offset = takeFromPool(SEED_BYTES)
  return Buffer.from(pool.subarray(offset, offset + SEED_BYTES))
}

/** True for a user id the store accepts: a non-empty string of at most MAX_USER_ID_BYTES. */
export function isValidUserId (userId: unknown): userId is string {
  return typeof userId === 'string' && userId.length > 0 &&
    Buffer.byteLength(userId, 'utf8') <= MAX_USER_ID_BYTES && userId.isWellFormed()
}

export function isValidSessionId (sessionId: unknown): sessionId is string {
  return typeof sessionId === 'string' && SESSION_ID_PATTERN.test(sessionId)
}

/** base64url of the UTF-8 bytes: safe in a token, in a cookie and inside a Redis `{hash tag}`. */
export function encodeUserId (userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url')
}

function decodeUserId (encoded: string): string | null {
  if (encoded.length > MAX_ENCODED_USER_ID_LENGTH || !ENCODED_USER_ID_PATTERN.test(encoded)) return null
  const bytes = Buffer.from(encoded, 'base64url')
  // Only the canonical encoding is accepted, so that one user id has exactly one token spelling.
  if (bytes.toString('base64url') !== encoded) return null
  try {
    const userId = strictUtf8.decode(bytes)
    return isValidUserId(userId) ? userId : null
  } catch {
    return null
  }
}

export function formatRefreshToken ({ userId, sessionId, secret }: RefreshTokenParts): string {
  return `${encodeUserId(userId)}.${sessionId}.${secret}`
}

/** Every part is validated here, before any of it reaches a store key: anything else is null. */
export function parseRefreshToken (token: unknown): ParsedRefreshToken | null {
  if (typeof token !== 'string' || token.length > MAX_REFRESH_TOKEN_LENGTH) return null
  const parts = token.split('.')
  if (parts.length !== 3) return null
  const [encodedUserId, sessionId, secret] = parts as [string, string, string]
  if (!SESSION_ID_PATTERN.test(sessionId) || !SECRET_PATTERN.test(secret)) return null
  const userId = decodeUserId(encodedUserId)
  if (userId === null) return null
  return new ParsedRefreshToken(userId, sessionId, secret)
}

/** What the store keeps instead of the secret: SHA-256, 32 raw bytes. */
export function hashSecret (secret: string): Buffer {
  return sha256(secret)
}

/**
 * A rotation's successor secret and what the store keeps of it for grace replies. The successor
 * is HMAC-SHA-256, keyed by the presented secret, over a fresh 16-byte seed: 128 bits that no
 * holder of the presented secret can predict, on top of the 256 of the secret itself. The store
 * keeps only the seed, sealed so that only a holder of the presented secret can open it (XOR with
 * an HMAC-derived pad: each secret seals exactly one seed, since a secret rotates once), so that
 * a dump of the store alone cannot refresh; 16 bytes at rest rather than a whole sealed secret.
 */
export function successorOf (presentedSecret: string, seed: Buffer): { secret: string, sealed: Buffer } {
  return { secret: successorFromSeed(presentedSecret, seed), sealed: xor(seed, successorPad(presentedSecret)) }
}

/**
 * The successor a sealed seed stands for (grace replies). A 32-byte seal is 0.1.0's: the whole
 * successor secret, sealed the same way, which sessions it rotated keep until their next rotation.
 */
export function openSuccessor (presentedSecret: string, sealed: Buffer): string {
  const opened = xor(sealed, successorPad(presentedSecret))
  return sealed.length === SECRET_BYTES ? opened.toString('base64url') : successorFromSeed(presentedSecret, opened)
}

const SUCCESSOR_SECRET_LABEL = Buffer.from('fastify-refresh-sessions/successor-secret')
const SUCCESSOR_PAD_LABEL = Buffer.from('fastify-refresh-sessions/successor')

function successorFromSeed (presentedSecret: string, seed: Buffer): string {
  return hmacSha256(presentedSecret, [SUCCESSOR_SECRET_LABEL, seed], 'base64url')
}

function successorPad (secret: string): Buffer {
  return hmacSha256(secret, [SUCCESSOR_PAD_LABEL])
}

function xor (a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!
  return out
}
