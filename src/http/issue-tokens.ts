/** Login, refresh and startSession end here: access token, refresh cookie and/or body, no-store; re-authentication with the access token alone. */
import type { FastifyReply } from 'fastify'
import type { PluginContext } from '../context.js'
import { setRefreshCookie } from './cookies.js'
import type { AccessTokenResponse, TokenResponse } from './schemas.js'
import type { Session } from '../session/store.js'
import { parseBinding } from '../session/binding.js'
import { decodeAuthentication } from '../session/authentication.js'

export interface Identity {
  roles: readonly string[]
  claims: Record<string, unknown>
}

export function issueTokens (reply: FastifyReply, context: PluginContext, refreshToken: string, session: Session, identity: Identity): TokenResponse {
  const { transport, cookie } = context.options
  const body = issueAccessToken(reply, context, session, identity)
  if (transport !== 'body') setRefreshCookie(reply, cookie, refreshToken, session.expiresAt)
  return { ...body, ...(transport !== 'cookie' && { refreshToken }) }
}

/** An access token for the session as it is now (its binding, auth_time and amr), no-store; no refresh token. */
export function issueAccessToken (reply: FastifyReply, context: PluginContext, session: Session, identity: Identity): AccessTokenResponse {
  const binding = parseBinding(session.binding)
  const { token: accessToken, expiresIn } = context.tokens.sign({
    userId: session.userId,
    sessionId: session.id,
    roles: identity.roles,
    claims: identity.claims,
    notAfter: session.expiresAt,
    binding,
    authentication: decodeAuthentication(session.authentication)
  })
  reply.header('cache-control', 'no-store')
  reply.header('pragma', 'no-cache')
  return {
    accessToken,
    // RFC 9449: a DPoP-bound access token is of type DPoP (sent as `Authorization: DPoP`).
    tokenType: binding?.kind === 'dpop' ? 'DPoP' : 'Bearer',
    expiresIn,
    sessionId: session.id
  }
}

/**
 * After a login answered with a refresh cookie: offer the browser to bind the session to a device
 * key (DBSC), when that is on. The session exists by now: a store that fails to keep the
 * challenge costs the offer (the session stays unbound), not the login.
 */
export async function offerDeviceBinding (reply: FastifyReply, context: PluginContext, session: Session): Promise<void> {
  if (context.dbsc === null || context.options.transport === 'body') return
  try {
    await context.dbsc.offerRegistration(reply, session)
  } catch (error) {
    reply.log.warn({ code: (error as { code?: string }).code, sessionId: session.id }, 'fastify-refresh-sessions: DBSC registration not offered (the challenge could not be stored)')
  }
}

/**
 * Login-time roles and claims, kept in the session's opaque `data` when the app has no loadUser,
 * as the JSON array `[roles, claims]`: positions, not key names, since every byte is kept once per
 * session in Redis (3 bytes of framing, where `{"r":..,"c":..}` took 11).
 */
export function encodeIdentity (identity: Identity): string {
  return JSON.stringify([identity.roles, identity.claims])
}

/**
 * Reads `[roles, claims]`, and `{ r: roles, c: claims }`, which 0.1.0 wrote: sessions created before
 * a rolling deploy keep their roles. Anything else is no roles and no claims.
 */
export function decodeIdentity (data: string | null): Identity {
  try {
    const parsed: unknown = JSON.parse(data ?? 'null')
    const [roles, claims] = Array.isArray(parsed) ? parsed as unknown[] : [(parsed as { r?: unknown } | null)?.r, (parsed as { c?: unknown } | null)?.c]
    return {
      roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
      claims: claims !== null && typeof claims === 'object' ? claims as Record<string, unknown> : {}
    }
  } catch {
    return { roles: [], claims: {} }
  }
}

/**
 * The roles and claims of a live session's next access token: loadUser's, when the app gave one
 * (null: the user is gone or disabled, and the session must end), else those kept at sign-in.
 */
export async function currentIdentity (context: PluginContext, session: Session): Promise<Identity | null> {
  const { loadUser } = context.callbacks
  if (loadUser === undefined) return decodeIdentity(session.data)
  const user = await loadUser(session.userId)
  return user === null || user === undefined || user.disabled === true ? null : identityOf(user)
}

export function identityOf (user: { roles?: readonly string[], claims?: Record<string, unknown> }): Identity {
  return {
    roles: Array.isArray(user.roles) ? user.roles.filter((r) => typeof r === 'string') : [],
    claims: user.claims !== null && typeof user.claims === 'object' ? user.claims : {}
  }
}
