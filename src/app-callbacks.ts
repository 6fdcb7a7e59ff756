/** Runs an app hook: awaited, so its effect is ordered before the response; its errors are logged (without secrets), never thrown. */
import type { FastifyRequest } from 'fastify'
import { loggableError, requestSecrets } from './redact.js'

/** Event fields that are secrets themselves: a hook's error quoting its event must not log them. */
const SECRET_EVENT_FIELDS = ['passwordHash'] as const

export async function runHook<E> (request: FastifyRequest, name: string, hook: ((event: E, request: FastifyRequest) => unknown) | undefined, event: E): Promise<void> {
  if (hook === undefined) return
  try {
    await hook(event, request)
  } catch (error) {
    const secrets = requestSecrets(request)
    for (const field of SECRET_EVENT_FIELDS) {
      const value = (event as Record<string, unknown>)[field]
      if (typeof value === 'string' && value !== '') secrets.push(value, JSON.stringify(value).slice(1, -1))
    }
    request.log.error({ err: loggableError(error, secrets), hook: name }, `fastify-refresh-sessions: the ${name} hook failed`)
  }
}
