/**
 * POST /login: failed-attempt limits, argon2id with a dummy verify for unknown users (same time,
 * same answer), rehash of weaker hashes, then a new session.
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
import { describe, ErrorResponse, LoginBody, TokenResponse } from '../schemas.js'
import { encodeIdentity, identityOf, issueTokens } from '../issue-tokens.js'

export function loginRoute (fastify: FastifyInstance, context: PluginContext): void {
  const { sessions, passwords, limiter, callbacks, options } = context

  fastify.post<{ Body: LoginBody }>(options.routes.login, {
    schema: {
      ...describe('Log in with a username and password'),
      body: LoginBody,
      response: { 200: TokenResponse, 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }
    }
  }, async function login (request, reply) {
    const { username, password, clientId } = request.body
    const ip = request.ip
    const userAgent = request.headers['user-agent'] ?? null
    const failed = async (reason: LoginFailedEvent['reason']): Promise<void> => {
      await runCallback(request, 'onLoginFailed', callbacks.onLoginFailed, { username, ip, userAgent, reason })
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
    if (user === null || user === undefined || typeof user.passwordHash !== 'string') {
      await passwords.verifyDummy(password)
      reason = 'unknown-user'
    } else if (!await passwords.verify(user.passwordHash, password)) {
      reason = 'wrong-password'
    } else if (user.disabled === true) {
      reason = 'disabled'
    }
    if (reason !== null || user === null || user === undefined) {
      // Already counted by reserve.
      await failed(reason ?? 'unknown-user')
      throw new InvalidCredentialsError()
    }
    await limiter?.release(username, ip)

    const userId = String(user.id)
    // A new hash costs a full argon2 run: only worth it when the app will store it.
    if (callbacks.onPasswordRehash !== undefined && passwords.needsRehash(user.passwordHash)) {
      await runCallback(request, 'onPasswordRehash', callbacks.onPasswordRehash, { userId, passwordHash: await passwords.hash(password) })
    }
    const identity = identityOf(user)
    const { token, session } = await sessions.create(userId, {
      userAgent,
      ip,
      clientId: clientId ?? null,
      data: callbacks.loadUser === undefined ? encodeIdentity(identity) : null
    })
    await runCallback(request, 'onLogin', callbacks.onLogin, { userId, sessionId: session.id, ip, userAgent, clientId: clientId ?? null })
    return issueTokens(reply, context, token, session, identity)
  })
}
