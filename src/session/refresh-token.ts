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
import { createHmac, randomFillSync } from 'node:crypto'
import { sha256 } from '../sha256.js'

const SESSION_ID_BYTES = 16
const SECRET_BYTES = 32
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

function randomBase64url (length: number): string {
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const value = pool.toString('base64url', poolOffset, poolOffset + length)
  poolOffset += length
  return value
}

export function mintSessionId (): string {
  return randomBase64url(SESSION_ID_BYTES)
}

export function mintSecret (): string {
  return randomBase64url(SECRET_BYTES)
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
 * The newest secret, sealed so that only a holder of the secret it replaced can open it: the
 * store keeps this to answer a grace-window replay with the same newest token, and a dump of the
 * store alone cannot refresh. Each secret seals exactly one successor (a secret rotates once), so
 * an HMAC-derived one-time pad is enough.
 */
export function sealSuccessor (presentedSecret: string, successorSecret: string): Buffer {
  return xor(Buffer.from(successorSecret, 'base64url'), successorPad(presentedSecret))
}

export function openSuccessor (presentedSecret: string, sealed: Buffer): string {
  return xor(sealed, successorPad(presentedSecret)).toString('base64url')
}

function successorPad (secret: string): Buffer {
  return createHmac('sha256', secret).update('fastify-refresh-sessions/successor').digest()
}

function xor (a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!
  return out
}
