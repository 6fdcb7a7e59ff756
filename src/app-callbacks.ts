/**
 * Runs one of the app's callbacks (the `onLogin` ... `onPasswordRehash` options; not Fastify
 * hooks): awaited, so its effect is ordered before the response; its errors are logged (without
 * secrets), never thrown.
 */
import type { FastifyRequest } from 'fastify'
import { loggableError, requestSecrets } from './redact.js'

/** Event fields that are secrets themselves: a callback's error quoting its event must not log them. */
const SECRET_EVENT_FIELDS = ['passwordHash'] as const

export async function runCallback<E> (request: FastifyRequest, name: string, callback: ((event: E, request: FastifyRequest) => unknown) | undefined, event: E): Promise<void> {
  if (callback === undefined) return
  try {
    await callback(event, request)
  } catch (error) {
    const secrets = requestSecrets(request)
    for (const field of SECRET_EVENT_FIELDS) {
      const value = (event as Record<string, unknown>)[field]
      if (typeof value === 'string' && value !== '') secrets.push(value, JSON.stringify(value).slice(1, -1))
    }
    // `hook`: the README's word for these options; the log line's shape is kept for log queries.
    request.log.error({ err: loggableError(error, secrets), hook: name }, `fastify-refresh-sessions: the ${name} hook failed`)
  }
}
