/**
 * The plugin's routes, in an encapsulated (non-fp) scope registered with { prefix }: their error
 * handler, body limit and cookie parser stay theirs and never change the app's.
 */
import fastifyCookie from '@fastify/cookie'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { PluginContext } from '../context.js'
import { InternalError } from '../errors.js'
import { loginRoute } from './login.js'
import { logoutRoutes } from './logout.js'
import { refreshRoute } from './refresh.js'
import { sessionRoutes } from './sessions.js'

/** Far above any legitimate login or refresh body; a 2 MB body is refused before it is parsed. */
export const ROUTE_BODY_LIMIT = 16 * 1024

export async function authRoutes (fastify: FastifyInstance, { context }: { context: PluginContext }): Promise<void> {
  if (!fastify.hasRequestDecorator('cookies')) await fastify.register(fastifyCookie)
  fastify.setErrorHandler(authErrorHandler)
  fastify.addHook('onRoute', (route) => { route.bodyLimit ??= ROUTE_BODY_LIMIT })
  loginRoute(fastify, context)
  refreshRoute(fastify, context)
  logoutRoutes(fastify, context)
  sessionRoutes(fastify, context)
}

/**
 * Client errors keep their stable code; our 5xx keep theirs (503 AUTH_STORE_UNAVAILABLE);
 * anything else (a throwing findUser, a bug) is logged and answered without its details.
 */
export function authErrorHandler (this: FastifyInstance, error: FastifyError, request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply): void {
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500 && typeof error.code === 'string') {
    void reply.code(status).send(error)
    return
  }
  if (status === 503 && error.code === 'AUTH_STORE_UNAVAILABLE') {
    request.log.warn({ code: error.code, cause: (error.cause as Error | undefined)?.message }, 'session store unavailable')
    void reply.code(503).send(error)
    return
  }
  request.log.error({ err: error }, 'fastify-refresh-sessions: request failed')
  void reply.code(500).send(new InternalError())
}
