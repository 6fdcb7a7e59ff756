/**
 * POST /reauthenticate: the user of the access token proves their password again, and their
 * session (this one only) gets a new auth_time and amr ['pwd'] (see ../reauthenticate.ts).
 *
 * The body names the username, as a login does: the same findUser finds the hash, and a wrong
 * password counts against the same failed-login limits (username + ip, ip) as a login, so this
 * route gives no extra guesses. A username of another user than the token's is answered as an
 * unknown user (a dummy verify, the same 401): the route never checks someone else's password.
 */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { authenticatedByCookie } from '../../access/authenticate.js'
import { csrfGuard } from '../csrf.js'
import { reauthenticate } from '../reauthenticate.js'
import { AccessTokenResponse, ACCESS_TOKEN_REFUSED_CODES, bodyErrors, describe, documented, errorResponse, header, INTERNAL_ERROR, ReauthenticateBody, STORE_UNAVAILABLE_OR_BUSY } from '../schemas.js'
import { checkPassword } from '../password-attempt.js'
import { PASSWORD } from './login.js'

export function reauthenticateRoute (fastify: FastifyInstance, context: PluginContext, path: string): void {
  const { options } = context
  const telemetry = context.telemetry.reauthenticate

  fastify.post<{ Body: ReauthenticateBody }>(path, {
    preHandler: [context.authenticate, telemetry.guard(csrfGuard(options.allowedOrigins, authenticatedByCookie))],
    schema: {
      ...describe("Prove the password again: this session's auth_time becomes now and its amr ['pwd']", { bearer: true }),
      body: ReauthenticateBody,
      response: {
        200: documented(AccessTokenResponse, 'A new access token for the same session, with the new auth_time and amr; the refresh token is unchanged (none is sent, no cookie is set)', header.noStore()),
        ...bodyErrors({ validated: true, emptyJson: true }),
        401: errorResponse(401, 'No valid access token (see the access-token refusals), a session revoked or expired since, or a wrong password or a username that is not the token\'s user: one answer for both', [...ACCESS_TOKEN_REFUSED_CODES, 'AUTH_SESSION_REVOKED', 'AUTH_INVALID_CREDENTIALS'], header.wwwAuthenticate()),
        403: errorResponse(403, 'An access token from the cookie, sent from another origin', ['AUTH_CSRF_REJECTED']),
        429: errorResponse(429, 'Too many failed attempts for this username and ip, or this ip (logins and re-authentications count together)', ['AUTH_TOO_MANY_ATTEMPTS'], header.retryAfter()),
        500: INTERNAL_ERROR(),
        503: STORE_UNAVAILABLE_OR_BUSY()
      }
    }
  }, telemetry.handler(async function reauthenticateWithPassword (request, reply) {
    const { username, password } = request.body
    await checkPassword(request, reply, context, telemetry, { username, password, userId: request.user.id })
    return await reauthenticate(request, reply, context, { amr: PASSWORD })
  }))
}
