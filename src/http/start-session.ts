/**
 * A new session for a user the app has already authenticated, by any method: what POST /login
 * does after the password check, and what `fastify.refreshSessions.startSession` does after a
 * passkey, an OAuth callback or a magic link. Same metadata, per-user cap, hooks, transport,
 * device binding and token response, whatever proved the user.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { PluginContext } from '../context.js'
import { runCallback } from '../app-callbacks.js'
import { provedBinding, reportBound } from '../binding/proved-binding.js'
import type { Binding } from '../session/binding.js'
import { checkAmr, encodeAuthentication } from '../session/authentication.js'
import { encodeIdentity, identityOf, issueTokens, offerDeviceBinding } from './issue-tokens.js'
import type { TokenResponse } from './schemas.js'

/** The user a session starts for: what findUser returns, without the password fields. */
export interface SessionUser {
  id: string | number
  roles?: readonly string[]
  /** Extra access-token claims; reserved names are ignored. */
  claims?: Record<string, unknown>
}

export interface StartSessionOptions {
  /** How the user proved who they are (RFC 8176 names: `pwd`, `hwk`, `otp`, `fed`...), 1 to 8 of them: the tokens' `amr`. */
  amr: readonly string[]
  /** The client (audience) the session is for; its refresh must name the same one. */
  clientId?: string | null
}

/**
 * `binding`: the device key this request already proved (login proves it before the password, so
 * that a bad proof costs no attempt); undefined: prove it here.
 */
export async function startSession (request: FastifyRequest, reply: FastifyReply, context: PluginContext, user: SessionUser, options: StartSessionOptions, binding?: Binding | null): Promise<TokenResponse> {
  const { sessions, callbacks } = context
  const userId = checkUserId(user)
  const amr = checkAmr(options?.amr, 'startSession option amr')
  const authentication = encodeAuthentication(amr)
  const clientId = options?.clientId ?? null
  if (clientId !== null && (typeof clientId !== 'string' || clientId === '' || clientId.length > 128)) throw new TypeError('startSession option clientId must be a string of 1 to 128 characters')
  binding ??= await provedBinding(request, reply, context, clientId)
  const ip = request.ip
  const userAgent = request.headers['user-agent'] ?? null
  const identity = identityOf(user)
  const { token, session } = await sessions.create(userId, {
    userAgent,
    ip,
    clientId,
    data: callbacks.loadUser === undefined ? encodeIdentity(identity) : null,
    authentication,
    binding
  })
  await reportBound(request, context, session)
  await runCallback(request, 'onLogin', callbacks.onLogin, { userId, sessionId: session.id, ip, userAgent, clientId, amr })
  const body = issueTokens(reply, context, token, session, identity)
  await offerDeviceBinding(reply, context, session)
  context.telemetry.login.outcome(request, 'success')
  return body
}

function checkUserId (user: SessionUser): string {
  const id = (user as SessionUser | null)?.id
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') throw new TypeError('startSession needs a user with an id (a non-empty string or a number)')
  return String(id)
}
