/**
 * Re-authentication: the user of the current access token proved who they are again (password,
 * passkey, one-time code...). Their session keeps its id, refresh token, binding and expiry; only
 * its `auth_time` (now) and `amr` change, and the other sessions of the user are untouched. The
 * answer is a new access token that carries them; the refresh token is not rotated, so none is
 * sent (and no cookie is set): later refreshes carry the new auth_time and amr.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { PluginContext } from '../context.js'
import { SessionRevokedError, TokenMissingError } from '../errors.js'
import { checkAmr, encodeAuthentication } from '../session/authentication.js'
import type { AuthUser } from '../types.js'
import { currentIdentity, issueAccessToken } from './issue-tokens.js'
import type { AccessTokenResponse } from './schemas.js'

export interface ReauthenticateOptions {
  /** How the user proved who they are this time (RFC 8176 names), 1 to 8 of them: the new `amr`. */
  amr: readonly string[]
}

export async function reauthenticate (request: FastifyRequest, reply: FastifyReply, context: PluginContext, options: ReauthenticateOptions): Promise<AccessTokenResponse> {
  const { sessions } = context
  const telemetry = context.telemetry.reauthenticate
  const authentication = encodeAuthentication(checkAmr(options?.amr, 'reauthenticate option amr'))
  const user = request.user as AuthUser | null
  if (user === null || user === undefined || typeof user.id !== 'string' || typeof user.sessionId !== 'string') {
    reply.header('www-authenticate', 'Bearer')
    throw new TokenMissingError()
  }
  const gone = (): Error => {
    telemetry.outcome(request, 'session-gone')
    reply.header('www-authenticate', 'Bearer error="invalid_token"')
    return new SessionRevokedError()
  }
  if (!await sessions.setAuthentication(user.id, user.sessionId, authentication)) throw gone()
  // The store answers setAuthentication with a yes or no; the token needs the session's end and binding.
  const session = (await sessions.list(user.id)).find((live) => live.id === user.sessionId)
  if (session === undefined) throw gone()
  const identity = await currentIdentity(context, session)
  if (identity === null) {
    // As a refresh would: a user disabled or deleted since loses the session.
    await sessions.revoke(session.userId, session.id)
    throw gone()
  }
  const body = issueAccessToken(reply, context, session, identity)
  telemetry.outcome(request, 'reauthenticated')
  return body
}
