/** POST /logout (the session of the presented refresh token) and POST /logout-all (Bearer: every session). */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { clearRefreshCookie } from '../cookies.js'
import { csrfGuard } from '../csrf.js'
import { authenticatedByCookie } from '../../access/authenticate.js'
import { runCallback } from '../../app-callbacks.js'
import { ACCESS_TOKEN_REFUSED, bodyErrors, describe, errorResponse, header, NoContent, RefreshBody, refreshCookieParameter, STORE_UNAVAILABLE } from '../schemas.js'
import { allCarriedRefreshTokens, anyRefreshTokenInCookie } from '../refresh-token-source.js'
import type { RouteOutcome } from '../../telemetry.js'

export function logoutRoutes (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, callbacks, options, telemetry } = context
  const cleared = options.transport !== 'body' ? header.setCookie('The refresh cookie, cleared (Max-Age=0)') : undefined

  fastify.post<{ Body: RefreshBody }>(options.routes.logout, {
    preHandler: telemetry.logout.guard(csrfGuard(options.allowedOrigins, anyRefreshTokenInCookie(options))),
    schema: {
      ...describe('Log out: revoke the session of every refresh token carried (body and cookie); idempotent', { optionalBody: true }),
      body: RefreshBody,
      ...refreshCookieParameter(options),
      response: {
        204: NoContent('Logged out (also when the token was unknown or missing)', cleared),
        ...bodyErrors({ validated: true, emptyJson: false }),
        403: errorResponse(403, 'A cookie-carried request from another origin', ['AUTH_CSRF_REJECTED']),
        503: STORE_UNAVAILABLE()
      }
    }
  }, telemetry.logout.handler(async function logout (request, reply) {
    // An invalid or unknown token revokes nothing and is no error (logout stays idempotent), but
    // it does not shield the other token the request carries. One outcome per request: revoked
    // when any of its tokens revoked a session.
    let outcome: RouteOutcome<'logout'> = 'missing-token'
    for (const carried of allCarriedRefreshTokens(request, options)) {
      const result = await sessions.revokeByToken(carried.token)
      if (result.outcome === 'revoked') {
        await runCallback(request, 'onLogout', callbacks.onLogout, { userId: result.userId, sessionId: result.sessionId, ip: request.ip, all: false })
      }
      if (outcome !== 'revoked') outcome = result.outcome
    }
    telemetry.logout.outcome(request, outcome)
    clearRefreshCookie(reply, options)
    reply.code(204)
  }))

  fastify.post(options.routes.logoutAll, {
    // A cookie-borne access token is attached by the browser itself: a cross-site text/plain POST
    // needs no preflight, so it gets the same origin check as the refresh cookie (after
    // authenticate, which knows where the token came from).
    preHandler: [context.authenticate, telemetry.logoutAll.guard(csrfGuard(options.allowedOrigins, authenticatedByCookie))],
    schema: {
      ...describe('Log out everywhere: revoke every session of the user', { bearer: true }),
      response: {
        204: NoContent('Every session of the user is revoked', cleared),
        ...bodyErrors({ validated: false, emptyJson: false }),
        401: ACCESS_TOKEN_REFUSED(),
        403: errorResponse(403, 'An access token from a cookie, on a request from another origin', ['AUTH_CSRF_REJECTED']),
        503: STORE_UNAVAILABLE()
      }
    }
  }, telemetry.logoutAll.handler(async function logoutAll (request, reply) {
    await sessions.revokeAll(request.user.id)
    await runCallback(request, 'onLogout', callbacks.onLogout, { userId: request.user.id, sessionId: request.user.sessionId, ip: request.ip, all: true })
    clearRefreshCookie(reply, options)
    reply.code(204)
    telemetry.logoutAll.outcome(request, 'revoked')
  }))
}
