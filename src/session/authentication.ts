/**
 * How and when the user last proved who they are: the session's `authentication` field, the
 * access token's `auth_time` and `amr` claims (RFC 9068 / OpenID Connect; amr values per RFC
 * 8176, e.g. `pwd`, `hwk`, `otp`, `fed`). The one home of that format: the stores keep it as an
 * opaque string.
 *
 * Stored as `<auth_time in base36 seconds> <amr> <amr>...` (`t6lacw pwd`: 10 bytes) since every
 * byte is kept once per session in Redis. A record written before this existed is '' and reads as
 * no authentication at all (no claims).
 */

export interface Authentication {
  /** When the user last proved who they are, in epoch seconds (the `auth_time` claim). */
  authTime: number
  /** How (the `amr` claim): one or more method names. */
  amr: string[]
}

export const MAX_AMR_VALUES = 8
/** RFC 8176's names are short tokens; this also keeps them apart from the separator. */
const AMR_VALUE = /^[A-Za-z0-9_-]{1,24}$/

/** The methods, checked; throws a TypeError naming what is wrong (a bug of the calling app, never a client's input). */
export function checkAmr (amr: unknown, name = 'amr'): string[] {
  if (!Array.isArray(amr) || amr.length === 0 || amr.length > MAX_AMR_VALUES) {
    throw new TypeError(`${name} must be an array of 1 to ${MAX_AMR_VALUES} method names such as ['pwd'] or ['hwk', 'user']`)
  }
  for (const value of amr) {
    if (typeof value !== 'string' || !AMR_VALUE.test(value)) throw new TypeError(`${name} values must be 1 to 24 characters of A-Z a-z 0-9 _ - (got ${JSON.stringify(String(value)).slice(0, 40)})`)
  }
  return [...new Set(amr as string[])]
}

/** Now, by these methods: the encoded value a session keeps. */
export function encodeAuthentication (amr: readonly string[], authTime = Math.floor(Date.now() / 1000)): string {
  return [authTime.toString(36), ...checkAmr(amr)].join(' ')
}

/** null for '' (a session from before auth_time existed) and for anything that is not an encoded authentication. */
export function decodeAuthentication (text: string | null | undefined): Authentication | null {
  if (typeof text !== 'string' || text === '') return null
  const [time, ...amr] = text.split(' ')
  if (!/^[0-9a-z]{1,8}$/.test(time!) || amr.length === 0 || amr.length > MAX_AMR_VALUES || !amr.every((value) => AMR_VALUE.test(value))) return null
  return { authTime: parseInt(time!, 36), amr }
}
