/**
 * POST /login: failed-attempt limits, argon2id with a dummy verify for unknown users (same time,
 * same answer), legacy hashes through the app's verifyLegacyPassword, rehash of weaker and legacy
 * hashes, then a new session.
 *
 * The attempt is reserved (counted) before the password is verified and given back on success,
 * so parallel attempts cannot all pass the limit before any failure is counted. An attempt that
 * throws (findUser or the verify failing) stays counted: failing closed.
 */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { InvalidCredentialsError, TooManyAttemptsError } from '../../errors.js'
import { runCallback } from '../../app-callbacks.js'
import type { LoginFailedEvent } from '../../options.js'
import { bodyErrors, describe, documented, errorResponse, header, INTERNAL_ERROR, LoginBody, PROOF_CODES, PROOF_REFUSAL_HEADERS, STORE_UNAVAILABLE, TokenResponse } from '../schemas.js'
import { encodeIdentity, identityOf, issueTokens, offerDeviceBinding } from '../issue-tokens.js'
import { verifyLoginPassword } from '../verify-login-password.js'
import { registrationOffer } from '../../binding/dbsc/schemas.js'
import { provedBinding, reportBound } from '../../binding/proved-binding.js'

export function loginRoute (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, passwords, limiter, callbacks, options } = context
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
        503: STORE_UNAVAILABLE()
      }
    }
  }, telemetry.handler(async function login (request, reply) {
    const { username, password, clientId } = request.body
    const ip = request.ip
    const userAgent = request.headers['user-agent'] ?? null
    // Before the password: a bad proof costs no attempt and tells nothing about the password.
    const binding = await provedBinding(request, reply, context, clientId ?? null)
    const failed = async (reason: LoginFailedEvent['reason']): Promise<void> => {
      await runCallback(request, 'onLoginFailed', callbacks.onLoginFailed, { username, ip, userAgent, reason })
      telemetry.outcome(request, reason)
    }

    if (limiter !== null) {
      const waitMs = await limiter.reserve(username, ip)
      if (waitMs > 0) {
        const seconds = Math.max(1, Math.ceil(waitMs / 1000))
        await failed('rate-limited')
        reply.header('retry-after', String(seconds))
        throw new TooManyAttemptsError(seconds)
      }
    }

    const user = await callbacks.findUser(username)
    let reason: LoginFailedEvent['reason'] | null = null
    let legacyHash = false
    if (user === null || user === undefined || typeof user.passwordHash !== 'string') {
      await passwords.verifyDummy(password)
      reason = 'unknown-user'
    } else {
      const check = await verifyLoginPassword(request, context, String(user.id), user.passwordHash, password)
      legacyHash = check.legacy
      if (!check.match) reason = 'wrong-password'
      else if (user.disabled === true) reason = 'disabled'
    }
    if (reason !== null || user === null || user === undefined) {
      // Already counted by reserve.
      await failed(reason ?? 'unknown-user')
      throw new InvalidCredentialsError()
    }
    await limiter?.release(username, ip)

    const userId = String(user.id)
    // A new hash costs a full argon2 run: only worth it when the app will store it.
    if (callbacks.onPasswordRehash !== undefined && (legacyHash || passwords.needsRehash(user.passwordHash))) {
      await runCallback(request, 'onPasswordRehash', callbacks.onPasswordRehash, { userId, passwordHash: await passwords.hash(password) })
    }
    const identity = identityOf(user)
    const { token, session } = await sessions.create(userId, {
      userAgent,
      ip,
      clientId: clientId ?? null,
      data: callbacks.loadUser === undefined ? encodeIdentity(identity) : null,
      binding
    })
    await reportBound(request, context, session)
    await runCallback(request, 'onLogin', callbacks.onLogin, { userId, sessionId: session.id, ip, userAgent, clientId: clientId ?? null })
    const body = issueTokens(reply, context, token, session, identity)
    await offerDeviceBinding(reply, context, session)
    telemetry.outcome(request, 'success')
    return body
  }))
}
