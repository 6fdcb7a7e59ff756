/** Where a refresh or logout request carries its refresh token, per the transport option. */
import type { FastifyRequest } from 'fastify'
import type { ResolvedOptions } from '../options.js'
import type { RefreshBody } from './schemas.js'

export interface CarriedToken {
  token: string
  /** Cookie-carried requests are the ones a cross-site page could forge: they get the CSRF check. */
  fromCookie: boolean
}

export function carriedRefreshToken (request: FastifyRequest, options: ResolvedOptions): CarriedToken | null {
  const body = request.body as RefreshBody | undefined
  if (options.transport !== 'cookie' && typeof body?.refreshToken === 'string') return { token: body.refreshToken, fromCookie: false }
  if (options.transport !== 'body') {
    const cookie = request.cookies?.[options.cookie.name]
    if (typeof cookie === 'string' && cookie !== '') return { token: cookie, fromCookie: true }
  }
  return null
}

/** For the CSRF guard of refresh and logout: whether the request's refresh token is the cookie. */
export function refreshTokenInCookie (options: ResolvedOptions): (request: FastifyRequest) => boolean {
  return (request) => carriedRefreshToken(request, options)?.fromCookie === true
}
