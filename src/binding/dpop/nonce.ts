/**
 * Server nonces (`DPoP-Nonce`), stateless: a nonce is a time window's number and an HMAC of it
 * under the app's secret, so every instance that shares the secret issues and accepts the same
 * nonces without storing any. A nonce is accepted in its own window and the next one, so one
 * lives between one and two windows.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

const MAC_BYTES = 16

export class NonceIssuer {
  readonly #secret: Buffer
  readonly #windowMs: number
  readonly #now: () => number

  constructor (secret: Buffer, windowMs: number, now: () => number = Date.now) {
    this.#secret = secret
    this.#windowMs = windowMs
    this.#now = now
  }

  /** The nonce to hand out now. */
  current (): string {
    return this.#nonce(Math.floor(this.#now() / this.#windowMs))
  }

  /** True for a nonce of this window or the previous one. */
  accepts (nonce: unknown): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false
    const window = Math.floor(this.#now() / this.#windowMs)
    const presented = Buffer.from(nonce)
    return [window, window - 1].some((w) => {
      const expected = Buffer.from(this.#nonce(w))
      return expected.length === presented.length && timingSafeEqual(expected, presented)
    })
  }

  #nonce (window: number): string {
    const mac = createHmac('sha256', this.#secret).update(`dpop-nonce:${window}`).digest().subarray(0, MAC_BYTES).toString('base64url')
    return `${window.toString(36)}.${mac}`
  }
}
