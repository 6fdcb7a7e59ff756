/** Login and refresh both end here: access token, refresh cookie and/or body, no-store. */
import type { FastifyReply } from 'fastify'
import type { PluginContext } from '../context.js'
import { setRefreshCookie } from './cookies.js'
import type { TokenResponse } from './schemas.js'
import type { Session } from '../session/store.js'

export interface Identity {
  roles: readonly string[]
  claims: Record<string, unknown>
}

export function issueTokens (reply: FastifyReply, context: PluginContext, refreshToken: string, session: Session, identity: Identity): TokenResponse {
  const { transport, cookie } = context.options
  const { token: accessToken, expiresIn } = context.tokens.sign({ userId: session.userId, sessionId: session.id, roles: identity.roles, claims: identity.claims, notAfter: session.expiresAt })
  reply.header('cache-control', 'no-store')
  reply.header('pragma', 'no-cache')
  if (transport !== 'body') setRefreshCookie(reply, cookie, refreshToken, session.expiresAt)
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn,
    sessionId: session.id,
    ...(transport !== 'cookie' && { refreshToken })
  }
}

/** Login-time roles and claims, kept with the session when the app has no loadUser. */
export function encodeIdentity (identity: Identity): string {
  return JSON.stringify({ r: identity.roles, c: identity.claims })
}

export function decodeIdentity (data: string | null): Identity {
  try {
    const parsed = JSON.parse(data ?? '{}') as { r?: unknown, c?: unknown }
    const roles = Array.isArray(parsed.r) ? parsed.r.filter((r): r is string => typeof r === 'string') : []
    const claims = parsed.c !== null && typeof parsed.c === 'object' ? parsed.c as Record<string, unknown> : {}
    return { roles, claims }
  } catch {
    return { roles: [], claims: {} }
  }
}

export function identityOf (user: { roles?: readonly string[], claims?: Record<string, unknown> }): Identity {
  return {
    roles: Array.isArray(user.roles) ? user.roles.filter((r) => typeof r === 'string') : [],
    claims: user.claims !== null && typeof user.claims === 'object' ? user.claims : {}
  }
}
