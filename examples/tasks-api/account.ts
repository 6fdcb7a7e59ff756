/**
 * The sensitive actions, behind step-up guards (RFC 9470 through the plugin's requireRecentAuth):
 *
 * - adding a passkey and changing the password need a sign-in (or re-authentication) of any kind
 *   within STEP_UP_MAX_AGE (5 minutes);
 * - deleting the account needs one with a passkey (amr `hwk` or `swk`) within that time when the
 *   user has a passkey, and a recent password when they have none.
 *
 * A password change revokes every other session of the user (a thief signed in elsewhere is out
 * at their next refresh); the session that changed it stays. Deleting the account revokes all.
 */
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify'
import type { DemoConfig } from './config.js'
import { PASSKEY_METHODS } from './passkeys.js'
import { bodyErrors, errorBody, stepUpRequired } from './error-schemas.js'
import { weakPassword } from './registration.js'
import type { Users } from './users.js'

const NewPassword = Type.Object({ newPassword: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false })

export interface StepUpGuards {
  /** Any method, within STEP_UP_MAX_AGE. */
  recentAuth: preHandlerAsyncHookHandler
  /** A passkey when the user has one, else any method; within STEP_UP_MAX_AGE. */
  recentPasskeyIfAny: preHandlerAsyncHookHandler
}

export function stepUpGuards (app: FastifyInstance, users: Users, config: DemoConfig): StepUpGuards {
  const maxAge = config.stepUpMaxAge
  const recentAuth = app.requireRecentAuth({ maxAge })
  const recentPasskey = app.requireRecentAuth({ maxAge, amr: PASSKEY_METHODS })
  return {
    recentAuth,
    recentPasskeyIfAny: async function (request, reply) {
      const guard = users.passkeysOf(request.user.id).length > 0 ? recentPasskey : recentAuth
      await guard.call(this, request, reply)
    }
  }
}

export function accountRoutes (app: FastifyInstance, users: Users, guards: StepUpGuards, forgetTasks: (userId: string) => void): void {
  const security = [{ bearerAuth: [] }]

  app.post<{ Body: Static<typeof NewPassword> }>('/account/password', {
    // authenticateSession: a revoked session's access token, still unexpired, changes nothing.
    preHandler: [app.authenticateSession, guards.recentAuth],
    schema: {
      tags: ['demo'],
      summary: 'Change the password (needs a recent sign-in); revokes every other session of the user',
      security,
      body: NewPassword,
      response: {
        200: Type.Object({ revokedSessions: Type.Integer({ description: 'How many other sessions were revoked' }) }),
        ...bodyErrors(),
        400: errorBody(400, ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'DEMO_WEAK_PASSWORD']),
        401: stepUpRequired()
      }
    } as object
  }, async (request, reply) => {
    const user = users.byId(request.user.id)!
    const weak = weakPassword(user.username, request.body.newPassword)
    if (weak !== null) return reply.code(400).send({ statusCode: 400, code: 'DEMO_WEAK_PASSWORD', error: 'Bad Request', message: weak })
    users.updateHash(user.id, await app.refreshSessions.hashPassword(request.body.newPassword))
    const revokedSessions = await app.refreshSessions.revokeAllSessions(user.id, { except: request.user.sessionId })
    request.log.info({ userId: user.id, revokedSessions }, 'password changed')
    return { revokedSessions }
  })

  app.delete('/account', {
    preHandler: [app.authenticateSession, guards.recentPasskeyIfAny],
    schema: {
      tags: ['demo'],
      summary: 'Delete the account, its passkeys and tasks, and end every session (needs a recent passkey sign-in, or a recent password without passkeys)',
      security,
      response: { 204: Type.Null(), 401: stepUpRequired() }
    } as object
  }, async (request, reply) => {
    const userId = request.user.id
    // Sessions first: should the rest fail, no session of the account survives it.
    await app.refreshSessions.revokeAllSessions(userId)
    forgetTasks(userId)
    users.remove(userId)
    request.log.info({ userId }, 'account deleted')
    return reply.code(204).send()
  })
}
