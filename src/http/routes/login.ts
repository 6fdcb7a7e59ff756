/**
 * POST /login: the password attempt (limits, argon2id, dummy verify for unknown users, legacy
 * hashes: ../password-attempt.ts), rehash of weaker and legacy hashes, then a new session
 * (startSession, as any other sign-in method).
 */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { runCallback } from '../../app-callbacks.js'
import { LoginBusyError } from '../../errors.js'
import { bodyErrors, describe, documented, errorResponse, header, INTERNAL_ERROR, LoginBody, PROOF_CODES, PROOF_REFUSAL_HEADERS, STORE_UNAVAILABLE_OR_BUSY, TokenResponse } from '../schemas.js'
import { clientGone } from '../client-gone.js'
import { startSession } from '../start-session.js'
import { checkPassword } from '../password-attempt.js'
import { registrationOffer } from '../../binding/dbsc/schemas.js'
import { provedBinding } from '../../binding/proved-binding.js'

/** RFC 8176: password-based authentication. */
export const PASSWORD = ['pwd'] as const

export function loginRoute (fastify: FastifyInstance, context: PluginContext): void {
  const { passwords, callbacks, options } = context
  const telemetry = context.telemetry.login

  fastify.post<{ Body: LoginBody }>(options.routes.login, {
    schema: {
      ...describe('Log in with a username and password'),
      body: LoginBody,
      response: {
        200: documented(TokenResponse, 'Logged in: a new session', { ...header.noStore(), ...(options.transport !== 'body' && { ...header.setCookie('The refresh cookie'), ...(options.dbsc.enabled && registrationOffer()) }) }),
        ...bodyErrors({ validated: true, emptyJson: true }),
        401: errorResponse(401, 'Unknown user, wrong password or disabled user: one answer for all; or a refused DPoP proof, or none from a client that must bind its session.' + PROOF_REFUSAL_HEADERS, ['AUTH_INVALID_CREDENTIALS', ...PROOF_CODES]),
        429: errorResponse(429, 'Too many failed attempts for this username and ip, or this ip', ['AUTH_TOO_MANY_ATTEMPTS'], header.retryAfter()),
        500: INTERNAL_ERROR(),
        503: STORE_UNAVAILABLE_OR_BUSY()
      }
    }
  }, telemetry.handler(async function login (request, reply) {
    const { username, password, clientId } = request.body
    // Before the password: a bad proof costs no attempt and tells nothing about the password.
    const binding = await provedBinding(request, reply, context, clientId ?? null)
    const { user, legacy } = await checkPassword(request, reply, context, telemetry, { username, password })

    const userId = String(user.id)
    // A new hash costs a full argon2 run: only worth it when the app will store it. With the
    // argon2 queue full (or the client gone), the login goes on without it: the next one rehashes.
    if (callbacks.onPasswordRehash !== undefined && (legacy || passwords.needsRehash(user.passwordHash))) {
      const passwordHash = await passwords.hash(password, clientGone(reply)).catch(unlessBusy)
      if (passwordHash !== null) await runCallback(request, 'onPasswordRehash', callbacks.onPasswordRehash, { userId, passwordHash })
    }
    return await startSession(request, reply, context, user, { amr: PASSWORD, clientId }, binding)
  }))
}

function unlessBusy (error: unknown): null {
  if (error instanceof LoginBusyError) return null
  throw error
}
