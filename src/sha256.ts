/**
 * SHA-256 in one call: `crypto.hash` (Node >= 20.12 / 21.7) skips the Hash object and its stream
 * machinery that `createHash().update().digest()` builds for every digest; the refresh path takes
 * two of them per request. HMAC-SHA-256 (RFC 2104) is built on it the same way: `createHmac`
 * makes a native Hmac object per digest, and a refresh takes two HMACs. Older Node falls back to
 * createHash and createHmac, which give the same bytes.
 */
import * as crypto from 'node:crypto'

type OneShot = (algorithm: string, data: string | Buffer, outputEncoding: 'buffer') => Buffer
const oneShot = (crypto as unknown as { hash?: OneShot }).hash

/** SHA-256 of `data` (a string is hashed as UTF-8), 32 raw bytes. */
export const sha256: (data: string | Buffer) => Buffer = typeof oneShot === 'function'
  ? (data) => oneShot('sha256', data, 'buffer')
  : (data) => crypto.createHash('sha256').update(data).digest()

/** HMAC-SHA-256 of the concatenated `message` parts under `key` (UTF-8), 32 raw bytes: what `createHmac('sha256', key)` gives. */
export const hmacSha256: (key: string, ...message: Buffer[]) => Buffer = typeof oneShot === 'function'
  ? (key, ...message) => oneShotHmac(oneShot, key, message)
  : (key, ...message) => {
      const hmac = crypto.createHmac('sha256', key)
      for (const part of message) hmac.update(part)
      return hmac.digest()
    }

const BLOCK_BYTES = 64
const DIGEST_BYTES = 32

/** H((K ^ opad) || H((K ^ ipad) || message)), K the key zero-padded to a block (hashed first when longer). */
function oneShotHmac (hash: OneShot, key: string, message: Buffer[]): Buffer {
  let keyBytes: Buffer = Buffer.from(key, 'utf8')
  if (keyBytes.length > BLOCK_BYTES) keyBytes = hash('sha256', keyBytes, 'buffer')
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
  hash('sha256', inner, 'buffer').copy(outer, BLOCK_BYTES)
  const mac = hash('sha256', outer, 'buffer')
  // allocUnsafe hands out slices of a shared pool: no key-derived byte is left in it.
  inner.fill(0)
  outer.fill(0)
  return mac
}
