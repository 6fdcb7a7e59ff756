/**
 * SHA-256 in one call: `crypto.hash` (Node >= 20.12 / 21.7) skips the Hash object and its stream
 * machinery that `createHash().update().digest()` builds for every digest; the refresh path takes
 * two of them per request. Older Node falls back to createHash.
 */
import * as crypto from 'node:crypto'

type OneShot = (algorithm: string, data: string | Buffer, outputEncoding: 'buffer') => Buffer
const oneShot = (crypto as unknown as { hash?: OneShot }).hash

/** SHA-256 of `data` (a string is hashed as UTF-8), 32 raw bytes. */
export const sha256: (data: string | Buffer) => Buffer = typeof oneShot === 'function'
  ? (data) => oneShot('sha256', data, 'buffer')
  : (data) => crypto.createHash('sha256').update(data).digest()
