/**
 * POST /refresh: one store round trip decides rotation, grace replay or reuse; loadUser (if any)
 * then supplies fresh roles, and a disabled or deleted user loses the session.
 */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { clearRefreshCookie } from '../cookies.js'
import { csrfGuard } from '../csrf.js'
import { RefreshInvalidError, RefreshMissingError, RefreshReusedError, RefreshUnboundError } from '../../errors.js'
import { runCallback } from '../../app-callbacks.js'
import { bodyErrors, describe, documented, errorResponse, header, INTERNAL_ERROR, PROOF_CODES, PROOF_REFUSAL_HEADERS, RefreshBody, refreshCookieParameter, STORE_UNAVAILABLE, TokenResponse } from '../schemas.js'
import { currentIdentity, issueTokens } from '../issue-tokens.js'
import { carriedRefreshToken, refreshTokenInCookie } from '../refresh-token-source.js'
import { provedBinding, reportBound, reportUnbound } from '../../binding/proved-binding.js'

export function refreshRoute (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, callbacks, options } = context
  const telemetry = context.telemetry.refresh

  fastify.post<{ Body: RefreshBody }>(options.routes.refresh, {
    preHandler: telemetry.guard(csrfGuard(options.allowedOrigins, refreshTokenInCookie(options))),
    schema: {
      ...describe('Exchange the refresh token for a new access token and a new refresh token', { optionalBody: true }),
      body: RefreshBody,
      ...refreshCookieParameter(options),
      response: {
        200: documented(TokenResponse, 'A new access token and a new refresh token (the same newest one for a duplicate within the grace window)', { ...header.noStore(), ...(options.transport !== 'body' && header.setCookie('The new refresh cookie')) }),
        ...bodyErrors({ validated: true, emptyJson: false }),
        401: errorResponse(401, 'No refresh token, or one that is invalid, expired or reused (reuse revokes the session), or a session bound to a device key the request did not prove; or a refused DPoP proof.' + PROOF_REFUSAL_HEADERS, ['AUTH_REFRESH_MISSING', 'AUTH_REFRESH_INVALID', 'AUTH_REFRESH_REUSED', 'AUTH_REFRESH_UNBOUND', ...PROOF_CODES],
          options.transport !== 'body' ? header.setCookie('The refresh cookie, cleared (Max-Age=0); not for a stale duplicate, whose tab already holds a newer one') : undefined),
        403: errorResponse(403, 'A cookie-carried request from another origin', ['AUTH_CSRF_REJECTED']),
        500: INTERNAL_ERROR(),
        503: STORE_UNAVAILABLE()
      }
    }
  }, telemetry.handler(async function refresh (request, reply) {
    const carried = carriedRefreshToken(request, options)
    // Every 401 from here clears the cookie: a dead token should not be sent again.
    if (carried === null) {
      clearRefreshCookie(reply, options)
      telemetry.outcome(request, 'missing-token')
      throw new RefreshMissingError()
    }
    const ip = request.ip
    const userAgent = request.headers['user-agent'] ?? null
    const clientId = request.body?.clientId ?? null
    const parsed = sessions.parse(carried.token)
    const binding = await provedBinding(request, reply, context, clientId, parsed?.sessionId ?? null)
    const result = await sessions.rotate(parsed ?? carried.token, { clientId, binding })

    if (result.outcome === 'reused') {
      clearRefreshCookie(reply, options)
      await runCallback(request, 'onReuseDetected', callbacks.onReuseDetected, { userId: result.userId, sessionId: result.sessionId, ip, userAgent, reuse: result.reuse })
      telemetry.outcome(request, 'reused')
      throw new RefreshReusedError()
    }
    if (result.outcome === 'unbound') {
      // The session lives on for the device that holds the key; its cookie is not ours to clear.
      await reportUnbound(request, context, binding, result)
      telemetry.outcome(request, 'unbound')
      throw new RefreshUnboundError()
    }
    if (result.outcome !== 'rotated' && result.outcome !== 'grace') {
      // A stale duplicate comes from a client that already holds a newer token: clearing the
      // (shared) cookie would log out the tab that got it.
      if (result.outcome !== 'stale') clearRefreshCookie(reply, options)
      telemetry.outcome(request, result.outcome)
      throw new RefreshInvalidError()
    }

    const { session } = result
    const identity = await currentIdentity(context, session)
    if (identity === null) {
      await sessions.revoke(session.userId, session.id)
      clearRefreshCookie(reply, options)
      telemetry.outcome(request, 'disabled')
      throw new RefreshInvalidError()
    }
    if (result.outcome === 'rotated' && result.boundNow) await reportBound(request, context, session)
    await runCallback(request, 'onRefresh', callbacks.onRefresh, { userId: session.userId, sessionId: session.id, ip, userAgent, grace: result.outcome === 'grace' })
    const body = issueTokens(reply, context, result.token, session, identity)
    telemetry.outcome(request, result.outcome)
    return body
  }))
}
