/** GET /sessions and DELETE /sessions/:id: the user's own sessions, never anyone else's. */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { SessionNotFoundError } from '../../errors.js'
import { parseBinding } from '../../session/binding.js'
import { decodeAuthentication } from '../../session/authentication.js'
import { ACCESS_TOKEN_REFUSED, bodyErrors, describe, documented, errorResponse, NoContent, SessionParams, SessionsResponse, STORE_UNAVAILABLE } from '../schemas.js'

export function sessionRoutes (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, options, telemetry } = context

  fastify.get(options.routes.sessions, {
    preHandler: context.authenticate,
    schema: {
      ...describe("List the user's live sessions, newest first", { bearer: true }),
      response: { 200: documented(SessionsResponse, "The user's live sessions, newest first"), 401: ACCESS_TOKEN_REFUSED(), 503: STORE_UNAVAILABLE() }
    }
  }, telemetry.listSessions.handler(async function listSessions (request): Promise<SessionsResponse> {
    const live = await sessions.list(request.user.id)
    telemetry.listSessions.outcome(request, 'listed')
    return {
      sessions: live.map((session) => {
        const authentication = decodeAuthentication(session.authentication)
        return {
          id: session.id,
          createdAt: new Date(session.createdAt).toISOString(),
          lastUsedAt: new Date(session.lastUsedAt).toISOString(),
          expiresAt: new Date(session.expiresAt).toISOString(),
          userAgent: session.userAgent,
          ip: session.ip,
          current: session.id === request.user.sessionId,
          binding: parseBinding(session.binding)?.kind ?? null,
          authTime: authentication === null ? null : new Date(authentication.authTime * 1000).toISOString(),
          amr: authentication?.amr ?? []
        }
      })
    }
  }))

  fastify.delete<{ Params: SessionParams }>(`${options.routes.sessions}/:id`, {
    preHandler: context.authenticate,
    schema: {
      ...describe('Revoke one of your sessions', { bearer: true }),
      params: SessionParams,
      response: {
        204: NoContent('The session is revoked'),
        ...bodyErrors({ validated: true, emptyJson: true }),
        401: ACCESS_TOKEN_REFUSED(),
        404: errorResponse(404, "No such session of this user (another user's session is not found either)", ['AUTH_SESSION_NOT_FOUND']),
        503: STORE_UNAVAILABLE()
      }
    }
  }, telemetry.revokeSession.handler(async function revokeSession (request, reply) {
    // Revoke is keyed by the caller's own user id: another user's session id is simply not found.
    if (!await sessions.revoke(request.user.id, request.params.id)) {
      telemetry.revokeSession.outcome(request, 'not-found')
      throw new SessionNotFoundError()
    }
    telemetry.revokeSession.outcome(request, 'revoked')
    reply.code(204)
  }))
}
