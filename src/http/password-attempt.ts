/**
 * One password attempt, for POST /login and POST /reauthenticate alike: failed-attempt limits,
 * argon2id with a dummy verify for unknown users (same time, same answer), legacy hashes through
 * the app's verifyLegacyPassword, onLoginFailed. Both routes count against the same limits
 * (username + ip, ip), so re-authentication gives no extra guesses.
 *
 * The attempt is reserved (counted) before the password is verified and given back on success,
 * so parallel attempts cannot all pass the limit before any failure is counted. An attempt that
 * throws (findUser or the verify failing) stays counted: failing closed. An attempt that finds
 * the argon2 queue full (or whose client leaves while it waits) is no guess: 503 AUTH_LOGIN_BUSY
 * with `Retry-After: 1`, the attempt given back, no onLoginFailed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { runCallback } from '../app-callbacks.js'
import type { PluginContext } from '../context.js'
import { InvalidCredentialsError, LoginBusyError, TooManyAttemptsError } from '../errors.js'
import type { LoginFailedEvent, LoginUserRecord } from '../options.js'
import { verifyLoginPassword } from './verify-login-password.js'
import { clientGone } from './client-gone.js'

export interface PasswordAttempt {
  username: string
  password: string
  /** Only this user may be the one found (re-authentication); another is answered as an unknown user, never verified. */
  userId?: string
}

/** The user whose password matched, and whether their hash is a legacy one; throws 401 or 429 otherwise. */
export async function checkPassword (
  request: FastifyRequest,
  reply: FastifyReply,
  context: PluginContext,
  telemetry: { outcome (request: FastifyRequest, outcome: LoginFailedEvent['reason']): void },
  { username, password, userId }: PasswordAttempt
): Promise<{ user: LoginUserRecord, legacy: boolean }> {
  const { passwords, limiter, callbacks } = context
  const ip = request.ip
  const failed = async (reason: LoginFailedEvent['reason']): Promise<void> => {
    await runCallback(request, 'onLoginFailed', callbacks.onLoginFailed, { username, ip, userAgent: request.headers['user-agent'] ?? null, reason })
    telemetry.outcome(request, reason)
  }

  // A flood beyond the queue is refused before it costs a limiter round trip and a findUser.
  if (context.argon2Queue?.full === true) busy(reply)
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
  const signal = clientGone(reply)
  let reason: LoginFailedEvent['reason'] | null = null
  let legacy = false
  try {
    if (user === null || user === undefined || typeof user.passwordHash !== 'string' || (userId !== undefined && String(user.id) !== userId)) {
      await passwords.verifyDummy(password, signal)
      reason = 'unknown-user'
    } else {
      const check = await verifyLoginPassword(request, context, String(user.id), user.passwordHash, password, signal)
      legacy = check.legacy
      if (!check.match) reason = 'wrong-password'
      else if (user.disabled === true) reason = 'disabled'
    }
  } catch (error) {
    if (error instanceof LoginBusyError) {
      await limiter?.release(username, ip)
      busy(reply)
    }
    throw error
  }
  if (reason !== null || user === null || user === undefined) {
    // Already counted by reserve.
    await failed(reason ?? 'unknown-user')
    throw new InvalidCredentialsError()
  }
  await limiter?.release(username, ip)
  return { user, legacy }
}

function busy (reply: FastifyReply): never {
  reply.header('retry-after', '1')
  throw new LoginBusyError()
}
