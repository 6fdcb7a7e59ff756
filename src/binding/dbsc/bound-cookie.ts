/**
 * The DBSC bound cookie's value: `<session id>.<thumbprint>.<expiry s>.<HMAC-SHA256>`, the MAC
 * keyed with the server's secret over the other three. It says "the device holding this key
 * proved possession for this session until then", and is checked without the store: a refresh
 * stays one round trip. Expiry is in the MAC, so a copied cookie is worthless once it has passed,
 * whatever Max-Age the thief's cookie jar keeps.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Binding } from '../../session/binding.js'

const VALUE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/

function mac (secret: Buffer, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed).digest()
}

export function mintBoundCookie (secret: Buffer, sessionId: string, thumbprint: string, expiresAtSeconds: number): string {
  const signed = `${sessionId}.${thumbprint}.${expiresAtSeconds}`
  return `${signed}.${mac(secret, signed).toString('base64url')}`
}

/** The binding a bound cookie proves for `sessionId`; null when it is absent, forged, expired or for another session. */
export function readBoundCookie (secret: Buffer, value: unknown, sessionId: string, nowMs: number): Binding | null {
  if (typeof value !== 'string') return null
  const match = VALUE.exec(value)
  if (match === null) return null
  const [, id, thumbprint, expires, presented] = match as unknown as [string, string, string, string, string]
  const expected = mac(secret, `${id}.${thumbprint}.${expires}`)
  if (!timingSafeEqual(Buffer.from(presented, 'base64url'), expected)) return null
  if (Number(expires) * 1000 <= nowMs || id !== sessionId) return null
  return { kind: 'dbsc', thumbprint }
}
