/**
 * Failed-login limits: per username+ip and per ip, fixed windows, counting FAILURES
 * only; @fastify/rate-limit counts every request, so a user who logs in successfully ten times
 * would lock themselves out. A success gives back its own attempt and nothing else: failures
 * stay counted until their window ends, so that no account's success can reset the failures
 * counted against another (the counter is shared by every case and Unicode-compatibility
 * spelling of a name: `ALICE`, `ａｌｉｃｅ` and `alice` are one counter, and logging in as a
 * registered `ALICE` must not clear the guesses against `alice`).
 *
 * Reservation, not check-then-count: an attempt is counted (as if it failed) in the same atomic
 * step that admits it, and a success gives it back. With a separate check before the password
 * verify and a count after it, N attempts sent at the same instant would all pass the check
 * before any failure was counted; with reserve, exactly `max` of them get through.
 *
 * Counters are keyed by derived ids, never the plain username: `attemptIds` is the one place that
 * turns (username, ip) into them, for the memory and the Redis limiter alike.
 */
import { createHash } from 'node:crypto'
import { DEFAULTS } from '../defaults.js'

export interface LoginLimit {
  max: number
  windowMs: number
}

export interface LoginLimits {
  perUserIp: LoginLimit
  perIp: LoginLimit
}

export const DEFAULT_LOGIN_LIMITS: Readonly<LoginLimits> = DEFAULTS.loginLimits

export interface LoginLimiter {
  /**
   * Admit one attempt and count it against both keys at once, atomically: 0 when admitted (the
   * attempt now counts as a failure until `release`), else the milliseconds until an attempt may
   * be made (nothing is counted then). One round trip.
   */
  reserve: (username: string, ip: string) => Promise<number>
  /**
   * The admitted attempt succeeded: give this one attempt back to both counts (never below 0);
   * every other failure stays counted until its window ends. One round trip.
   */
  release: (username: string, ip: string) => Promise<void>
  close: () => Promise<void>
}

export function validateLoginLimits (limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginLimits {
  for (const name of ['perUserIp', 'perIp'] as const) {
    const limit = limits[name] as LoginLimit | undefined
    for (const field of ['max', 'windowMs'] as const) {
      const value = limit?.[field]
      if (!Number.isSafeInteger(value) || value! < 1) throw new TypeError(`loginLimits.${name}.${field} must be a positive integer, got ${String(value)}`)
    }
  }
  return Object.freeze({ perUserIp: Object.freeze({ ...limits.perUserIp }), perIp: Object.freeze({ ...limits.perIp }) })
}

/** Longest ip used as is; a longer one (a forged X-Forwarded-For under trustProxy) is hashed. */
const MAX_IP_LENGTH = 64
/** 128 bits of SHA-256: no collisions between usernames in practice, and a short key. */
const USER_DIGEST_BYTES = 16

export interface AttemptIds {
  /** base64url of the ip (or `~` + its SHA-256): never empty, no braces, so a Redis Cluster hash tag. */
  ip: string
  /** base64url of a truncated SHA-256 of the normalized username. */
  user: string
}

export function attemptIds (username: string, ip: string): AttemptIds {
  const ipText = String(ip)
  // `~` is outside the base64url alphabet: a hashed ip can never equal an encoded one. An empty
  // ip is hashed too: an empty `{}` is no hash tag, and the two keys would land on two slots.
  const ipId = ipText.length > 0 && ipText.length <= MAX_IP_LENGTH
    ? Buffer.from(ipText, 'utf8').toString('base64url')
    : '~' + createHash('sha256').update(ipText, 'utf8').digest('base64url')
  return { ip: ipId, user: userDigest(username) }
}

/**
 * Usernames that differ only by case or by Unicode compatibility form (`ａｌｉｃｅ`, `Alice`)
 * share one counter, or an attacker would get 10 tries per spelling. Any length is hashed: the
 * digest bounds the key, and the plain name never reaches Redis.
 */
function userDigest (username: string): string {
  const normalized = String(username).normalize('NFKC').toLowerCase().normalize('NFKC')
  return createHash('sha256').update(normalized, 'utf8').digest().subarray(0, USER_DIGEST_BYTES).toString('base64url')
}
