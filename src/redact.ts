/**
 * Keeping a request's secrets out of log lines: what the request carries (password, refresh
 * token, credentials, cookies, device-key proofs) is cut out of anything an app callback or a hook
 * lets escape.
 */
import type { FastifyRequest } from 'fastify'
import { proofOf } from './binding/dbsc/headers.js'

/**
 * What this request carries that no log line may hold: password, refresh token, cookies,
 * credentials, and the DPoP and DBSC proofs (signed for this request, replayable until they expire).
 */
export function requestSecrets (request: FastifyRequest): string[] {
  const body = request.body as { password?: unknown, refreshToken?: unknown } | null | undefined
  const authorization = request.headers.authorization
  const candidates: unknown[] = [body?.password, body?.refreshToken, authorization, authorization?.replace(/^\S+\s+/, ''), request.headers.dpop, proofOf(request)]
  // Every cookie of token length: the refresh cookie, an access-token cookie, the app's session.
  for (const value of Object.values(request.cookies ?? {})) if (typeof value === 'string' && value.length >= 16) candidates.push(value)
  return candidates.filter((value): value is string => typeof value === 'string' && value.trim().length > 0)
}

export function redact (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join('[redacted]')
  return out
}

/**
 * An app callback's error may quote what it was given (a DB error with the query's values): log
 * a copy (same class, message, stack, cause chain and primitive properties) with the request's
 * secrets cut out, never the error as is.
 */
export function loggableError (error: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(error instanceof Error)) return redact(String(error), secrets)
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string') Object.assign(copy, { [key]: redact(value, secrets) })
    else if (typeof value === 'number' || typeof value === 'boolean') Object.assign(copy, { [key]: value })
  }
  const hidden = (value: unknown): PropertyDescriptor => ({ value, writable: true, configurable: true, enumerable: false })
  Object.defineProperties(copy, {
    message: hidden(redact(error.message, secrets)),
    stack: hidden(redact(String(error.stack), secrets)),
    ...(error.cause !== undefined && depth < 5 && { cause: hidden(loggableError(error.cause, secrets, depth + 1)) })
  })
  return copy
}
