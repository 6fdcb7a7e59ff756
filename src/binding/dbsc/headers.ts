/**
 * The DBSC HTTP headers, written and read here only (RFC 9651 structured fields).
 *
 * The draft makes `Secure-Session-Response` and `Sec-Secure-Session-Id` sf-strings (quoted);
 * Chromium sends both bare (the JWT, the id). Both forms are read; parameters are ignored.
 */
import type { FastifyRequest } from 'fastify'

export const REGISTRATION = 'Secure-Session-Registration'
/** The name Chromium read before the draft renamed it; sent too while browsers in use still read it. */
export const LEGACY_REGISTRATION = 'Sec-Session-Registration'
export const CHALLENGE = 'Secure-Session-Challenge'
const RESPONSE = 'secure-session-response'
const LEGACY_RESPONSE = 'sec-session-response'
const SESSION_ID = 'sec-secure-session-id'

/** The algorithms a proof may use: the draft's two asymmetric ones ("none" proves nothing). */
export const PROOF_ALGORITHMS = ['ES256', 'RS256'] as const

/** An sf-string: printable ASCII, `"` and `\` escaped. */
function sfString (value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError('a structured-field string is printable ASCII')
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`
}

/** `(ES256 RS256);path="/auth/dbsc/register";challenge="..."` */
export function registrationHeader (path: string, challenge: string): string {
  return `(${PROOF_ALGORITHMS.join(' ')});path=${sfString(encodeURI(path))};challenge=${sfString(challenge)}`
}

/** `"<challenge>";id="<session id>"` */
export function challengeHeader (challenge: string, sessionId: string): string {
  return `${sfString(challenge)};id=${sfString(sessionId)}`
}

/** An sf-string's value (parameters ignored), or a bare value up to its first `;`; null when absent, empty or unterminated. */
export function readStringField (value: string | string[] | undefined): string | null {
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (!text.startsWith('"')) {
    const bare = text.split(';', 1)[0]!.trim()
    return bare === '' ? null : bare
  }
  let result = ''
  for (let i = 1; i < text.length; i++) {
    const char = text[i]!
    if (char === '"') return result === '' ? null : result
    if (char === '\\') {
      const next = text[++i]
      if (next !== '"' && next !== '\\') return null
      result += next
    } else {
      result += char
    }
  }
  return null
}

/** The proof a request carries, under the draft's name or Chromium's older one. */
export function proofOf (request: FastifyRequest): string | null {
  return readStringField(request.headers[RESPONSE]) ?? readStringField(request.headers[LEGACY_RESPONSE])
}

export function sessionIdOf (request: FastifyRequest): string | null {
  return readStringField(request.headers[SESSION_ID])
}
