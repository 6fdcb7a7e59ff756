/** Runs an app hook: awaited, so its effect is ordered before the response; its errors are logged (without the request's secrets), never thrown. */
import type { FastifyRequest } from 'fastify'
import { loggableError, requestSecrets } from './redact.js'

export async function runHook<E> (request: FastifyRequest, name: string, hook: ((event: E, request: FastifyRequest) => unknown) | undefined, event: E): Promise<void> {
  if (hook === undefined) return
  try {
    await hook(event, request)
  } catch (error) {
    request.log.error({ err: loggableError(error, requestSecrets(request)), hook: name }, `fastify-refresh-sessions: the ${name} hook failed`)
  }
}
