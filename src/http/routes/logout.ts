/** POST /logout (the session of the presented refresh token) and POST /logout-all (Bearer: every session). */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { clearRefreshCookie } from '../cookies.js'
import { csrfGuard } from '../csrf.js'
import { authenticatedByCookie } from '../../access/authenticate.js'
import { runCallback } from '../../app-callbacks.js'
import { describe, ErrorResponse, NoContent, RefreshBody } from '../schemas.js'
import { carriedRefreshToken, refreshTokenInCookie } from '../refresh-token-source.js'

export function logoutRoutes (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, callbacks, options } = context

  fastify.post<{ Body: RefreshBody }>(options.routes.logout, {
    preHandler: csrfGuard(options.allowedOrigins, refreshTokenInCookie(options)),
    schema: {
      ...describe('Log out: revoke the session of the refresh token; idempotent', { optionalBody: true }),
      body: RefreshBody,
      response: { 204: NoContent, 400: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
    }
  }, async function logout (request, reply) {
    const carried = carriedRefreshToken(request, options)
    if (carried !== null) {
      const result = await sessions.revokeByToken(carried.token)
      if (result.outcome === 'revoked') {
        await runCallback(request, 'onLogout', callbacks.onLogout, { userId: result.userId, sessionId: result.sessionId, ip: request.ip, all: false })
      }
    }
    clearRefreshCookie(reply, options)
    reply.code(204)
  })

  fastify.post(options.routes.logoutAll, {
    // A cookie-borne access token is attached by the browser itself: a cross-site text/plain POST
    // needs no preflight, so it gets the same origin check as the refresh cookie (after
    // authenticate, which knows where the token came from).
    preHandler: [context.authenticate, csrfGuard(options.allowedOrigins, authenticatedByCookie)],
    schema: {
      ...describe('Log out everywhere: revoke every session of the user', { bearer: true }),
      response: { 204: NoContent, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
    }
  }, async function logoutAll (request, reply) {
    await sessions.revokeAll(request.user.id)
    await runCallback(request, 'onLogout', callbacks.onLogout, { userId: request.user.id, sessionId: request.user.sessionId, ip: request.ip, all: true })
    clearRefreshCookie(reply, options)
    reply.code(204)
  })
}
