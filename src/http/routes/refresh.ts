/**
 * POST /refresh: one store round trip decides rotation, grace replay or reuse; loadUser (if any)
 * then supplies fresh roles, and a disabled or deleted user loses the session.
 */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { clearRefreshCookie } from '../cookies.js'
import { csrfGuard } from '../csrf.js'
import { RefreshInvalidError, RefreshMissingError, RefreshReusedError } from '../../errors.js'
import { runCallback } from '../../app-callbacks.js'
import { describe, ErrorResponse, RefreshBody, TokenResponse } from '../schemas.js'
import { decodeIdentity, identityOf, issueTokens, type Identity } from '../issue-tokens.js'
import { carriedRefreshToken, refreshTokenInCookie } from '../refresh-token-source.js'

export function refreshRoute (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, callbacks, options } = context

  fastify.post<{ Body: RefreshBody }>(options.routes.refresh, {
    preHandler: csrfGuard(options.allowedOrigins, refreshTokenInCookie(options)),
    schema: {
      ...describe('Exchange the refresh token for a new access token and a new refresh token', { optionalBody: true }),
      body: RefreshBody,
      response: { 200: TokenResponse, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
    }
  }, async function refresh (request, reply) {
    const carried = carriedRefreshToken(request, options)
    // Every 401 from here clears the cookie: a dead token should not be sent again.
    if (carried === null) {
      clearRefreshCookie(reply, options)
      throw new RefreshMissingError()
    }
    const ip = request.ip
    const userAgent = request.headers['user-agent'] ?? null
    const result = await sessions.rotate(carried.token, { clientId: request.body?.clientId ?? null })

    if (result.outcome === 'reused') {
      clearRefreshCookie(reply, options)
      await runCallback(request, 'onReuseDetected', callbacks.onReuseDetected, { userId: result.userId, sessionId: result.sessionId, ip, userAgent, reuse: result.reuse })
      throw new RefreshReusedError()
    }
    if (result.outcome !== 'rotated' && result.outcome !== 'grace') {
      // A stale duplicate comes from a client that already holds a newer token: clearing the
      // (shared) cookie would log out the tab that got it.
      if (result.outcome !== 'stale') clearRefreshCookie(reply, options)
      throw new RefreshInvalidError()
    }

    const { session } = result
    let identity: Identity
    if (callbacks.loadUser === undefined) {
      identity = decodeIdentity(session.data)
    } else {
      const user = await callbacks.loadUser(session.userId)
      if (user === null || user === undefined || user.disabled === true) {
        await sessions.revoke(session.userId, session.id)
        clearRefreshCookie(reply, options)
        throw new RefreshInvalidError()
      }
      identity = identityOf(user)
    }
    await runCallback(request, 'onRefresh', callbacks.onRefresh, { userId: session.userId, sessionId: session.id, ip, userAgent, grace: result.outcome === 'grace' })
    return issueTokens(reply, context, result.token, session, identity)
  })
}
