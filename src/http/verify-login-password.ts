/**
 * The password check of a login for a user that exists: argon2 hashes are ours; any other hash
 * is the app's `verifyLegacyPassword` to verify (bcrypt and the like, during a migration), or,
 * without it, a refused login and a warning that names the user id (never the hash, the
 * password or the username).
 *
 * Timing: an unknown user costs one dummy argon2 verify. A legacy verify runs *alongside* that
 * same dummy verify, so a legacy user costs max(legacy verify, argon2 verify): a fast legacy hash
 * (salted SHA, bcrypt of a low cost) is not told apart from an unknown user by being faster; a
 * legacy verify slower than argon2 still is (the README says so). A hash in an unsupported format
 * also pays the dummy verify, as an unknown user does.
 *
 * `context.passwords` is the gated hasher: every argon2 call here waits for a slot of the
 * argon2Queue and throws LoginBusyError when the queue is full or `signal` (clientGone) aborts first.
 */
import type { FastifyRequest } from 'fastify'
import type { PluginContext } from '../context.js'
import { isArgon2Hash } from '../password.js'
import { loggableError, requestSecrets } from '../redact.js'

export interface PasswordCheck {
  match: boolean
  /** The hash is not argon2 (a legacy match must be upgraded whatever its parameters). */
  legacy: boolean
}

export async function verifyLoginPassword (request: FastifyRequest, context: Pick<PluginContext, 'passwords' | 'callbacks'>, userId: string, passwordHash: string, password: string, signal?: AbortSignal): Promise<PasswordCheck> {
  const { passwords, callbacks } = context
  if (isArgon2Hash(passwordHash)) return { match: await passwords.verify(passwordHash, password, signal), legacy: false }

  const verifyLegacy = callbacks.verifyLegacyPassword
  if (verifyLegacy === undefined) {
    request.log.warn({ userId }, 'fastify-refresh-sessions: the stored password hash is in an unsupported format (not argon2), so the login is refused: set option verifyLegacyPassword to verify and upgrade such hashes')
    await passwords.verifyDummy(password, signal)
    return { match: false, legacy: true }
  }

  const legacy = async (): Promise<boolean> => {
    try {
      return await verifyLegacy(passwordHash, password) === true
    } catch (error) {
      // The app's library may quote what it was given (bcrypt: "Invalid salt ... $2b$..."): cut it out.
      const secrets = [...requestSecrets(request), passwordHash, password]
      request.log.error({ userId, err: loggableError(error, secrets) }, 'fastify-refresh-sessions: verifyLegacyPassword failed, so the login is refused')
      return false
    }
  }
  const [match] = await Promise.all([legacy(), passwords.verifyDummy(password, signal)])
  return { match, legacy: true }
}
