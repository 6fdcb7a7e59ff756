/** Where a refresh or logout request carries its refresh token, per the transport option. */
import type { FastifyRequest } from 'fastify'
import type { ResolvedOptions } from '../options.js'
import type { RefreshBody } from './schemas.js'

export interface CarriedToken {
  token: string
  /** Cookie-carried requests are the ones a cross-site page could forge: they get the CSRF check. */
  fromCookie: boolean
}

/** The token refresh uses: the body's when the transport allows one there, else the cookie's. */
export function carriedRefreshToken (request: FastifyRequest, options: ResolvedOptions): CarriedToken | null {
  return allCarriedRefreshTokens(request, options)[0] ?? null
}

/**
 * Every refresh token the request carries (body first, then cookie, per the transport), each
 * once: logout revokes them all, since after a 204 logout none of them may refresh.
 */
export function allCarriedRefreshTokens (request: FastifyRequest, options: ResolvedOptions): CarriedToken[] {
  const carried: CarriedToken[] = []
  const body = request.body as RefreshBody | undefined
  if (options.transport !== 'cookie' && typeof body?.refreshToken === 'string') carried.push({ token: body.refreshToken, fromCookie: false })
  if (options.transport !== 'body') {
    const cookie = request.cookies?.[options.cookie.name]
    if (typeof cookie === 'string' && cookie !== '' && cookie !== carried[0]?.token) carried.push({ token: cookie, fromCookie: true })
  }
  return carried
}

/** For logout's CSRF guard: whether one of the tokens it will revoke is the cookie. */
export function anyRefreshTokenInCookie (options: ResolvedOptions): (request: FastifyRequest) => boolean {
  return (request) => allCarriedRefreshTokens(request, options).some((carried) => carried.fromCookie)
}

/** For the CSRF guard of refresh and logout: whether the request's refresh token is the cookie. */
export function refreshTokenInCookie (options: ResolvedOptions): (request: FastifyRequest) => boolean {
  return (request) => carriedRefreshToken(request, options)?.fromCookie === true
}
