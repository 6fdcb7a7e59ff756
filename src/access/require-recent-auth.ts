/**
 * requireRecentAuth: a preHandler (after authenticate) for sensitive routes, RFC 9470 step-up.
 * The access token's `auth_time` must be at most `maxAge` seconds old and / or its `amr` must
 * name one of the listed methods; otherwise 401 AUTH_STEP_UP_REQUIRED with the challenge
 * `error="insufficient_user_authentication"` and what would satisfy it (`max_age`, and the amr
 * values in `acr_values`, the parameter RFC 9470 names for "how").
 */
import type { preHandlerAsyncHookHandler } from 'fastify'
import { OptionsError, StepUpRequiredError, TokenMissingError } from '../errors.js'
import { parseDuration } from '../options.js'
import { checkAmr } from '../session/authentication.js'
import type { AuthUser } from '../types.js'
import { tokenScheme } from './authenticate.js'

export interface RequireRecentAuthOptions {
  /** How long ago the user may have last proved who they are: `'5m'`, or a number of seconds. */
  maxAge?: string | number
  /** Methods of which the token's amr must name at least one (`['hwk', 'webauthn']`). */
  amr?: readonly string[]
}

export function requireRecentAuth (options: RequireRecentAuthOptions): preHandlerAsyncHookHandler {
  const { maxAgeSeconds, amr } = resolve(options)
  // Every requirement goes into the challenge, whichever failed: re-authenticating must meet them all.
  const requirements = [
    ...(maxAgeSeconds === null ? [] : [`max_age="${maxAgeSeconds}"`]),
    ...(amr === null ? [] : [`acr_values="${amr.join(' ')}"`])
  ].join(', ')
  const challenge = (scheme: string, description: string): string => `${scheme} error="insufficient_user_authentication", error_description="${description}", ${requirements}`

  return async function requireRecentAuthPreHandler (request, reply) {
    const user = request.user as AuthUser | null
    if (user === null || user === undefined) {
      reply.header('www-authenticate', 'Bearer')
      throw new TokenMissingError()
    }
    // request.user may come from another scheme: anything but a number of seconds is "never".
    const authTime = typeof user.authTime === 'number' ? user.authTime : null
    const stale = maxAgeSeconds !== null && (authTime === null || Math.floor(Date.now() / 1000) - authTime > maxAgeSeconds)
    const held: unknown = user.amr
    const wrongMethod = amr !== null && !(Array.isArray(held) && amr.some((method) => held.includes(method)))
    if (!stale && !wrongMethod) return
    const description = stale ? 'A more recent authentication is required' : 'A different authentication method is required'
    reply.header('www-authenticate', challenge(tokenScheme(user), description))
    throw new StepUpRequiredError()
  }
}

function resolve (options: RequireRecentAuthOptions): { maxAgeSeconds: number | null, amr: string[] | null } {
  if (options === null || typeof options !== 'object') throw new OptionsError('requireRecentAuth takes { maxAge?, amr? } with at least one of them')
  const { maxAge, amr } = options
  if (maxAge === undefined && amr === undefined) throw new OptionsError('requireRecentAuth needs maxAge, amr or both')
  let maxAgeSeconds: number | null = null
  if (maxAge !== undefined) {
    let ms: number
    try {
      ms = parseDuration(maxAge)
    } catch {
      ms = NaN
    }
    if (!Number.isSafeInteger(ms) || ms < 1000 || ms % 1000 !== 0) throw new OptionsError("requireRecentAuth option maxAge must be whole seconds, at least 1s: '5m' or a number of seconds")
    maxAgeSeconds = ms / 1000
  }
  let methods: string[] | null = null
  if (amr !== undefined) {
    try {
      methods = checkAmr(amr, 'requireRecentAuth option amr')
    } catch (error) {
      throw new OptionsError((error as Error).message)
    }
  }
  return { maxAgeSeconds, amr: methods }
}
