/**
 * SHA-256 and HMAC-SHA-256 in one call each. `crypto.hash` skips the Hash object and its stream
 * machinery that `createHash().update().digest()` builds for every digest, and a refresh takes
 * six digests. Its digest is asked for as a string, never as a Buffer: a Buffer output gets an
 * ArrayBuffer of its own per digest, which measured about four times the cost of the digest
 * itself (Node 22 and 24); a 'binary' (latin1) string carries the same bytes, one per character,
 * and `Buffer.from(..., 'binary')` takes a slice of Buffer's pool.
 */
import { hash } from 'node:crypto'

/** SHA-256 of `data` (a string is hashed as UTF-8): 32 raw bytes, or their base64url. */
export function sha256 (data: string | Buffer): Buffer
export function sha256 (data: string | Buffer, encoding: 'base64url'): string
export function sha256 (data: string | Buffer, encoding?: 'base64url'): Buffer | string {
  return encoding === undefined ? Buffer.from(hash('sha256', data, 'binary'), 'binary') : hash('sha256', data, encoding)
}

const BLOCK_BYTES = 64
const DIGEST_BYTES = 32

/**
 * HMAC-SHA-256 (RFC 2104) of the concatenated `message` parts under `key` (UTF-8): what
 * `createHmac('sha256', key)` gives, 32 raw bytes or their base64url. Written out here because
 * `createHmac` makes a native Hmac object per digest, and a refresh takes two HMACs:
 * H((K ^ opad) || H((K ^ ipad) || message)), K the key zero-padded to a block (hashed first when
 * longer).
 */
export function hmacSha256 (key: string, message: readonly Buffer[]): Buffer
export function hmacSha256 (key: string, message: readonly Buffer[], encoding: 'base64url'): string
export function hmacSha256 (key: string, message: readonly Buffer[], encoding?: 'base64url'): Buffer | string {
  const utf8Key = Buffer.from(key, 'utf8')
  const keyBytes = utf8Key.length > BLOCK_BYTES ? sha256(utf8Key) : utf8Key
  let messageBytes = 0
  for (const part of message) messageBytes += part.length
  const inner = Buffer.allocUnsafe(BLOCK_BYTES + messageBytes)
  const outer = Buffer.allocUnsafe(BLOCK_BYTES + DIGEST_BYTES)
  for (let i = 0; i < BLOCK_BYTES; i++) {
    const k = i < keyBytes.length ? keyBytes[i]! : 0
    inner[i] = k ^ 0x36
    outer[i] = k ^ 0x5c
  }
  let offset = BLOCK_BYTES
  for (const part of message) offset += part.copy(inner, offset)
  outer.write(hash('sha256', inner, 'binary'), BLOCK_BYTES, 'binary')
  const mac = encoding === undefined ? hash('sha256', outer, 'binary') : hash('sha256', outer, encoding)
  // allocUnsafe hands out slices of a shared pool (and Buffer.from(key) may be one): no
  // key-derived byte is left in it.
  inner.fill(0)
  outer.fill(0)
  utf8Key.fill(0)
  keyBytes.fill(0)
  return encoding === undefined ? Buffer.from(mac, 'binary') : mac
}
