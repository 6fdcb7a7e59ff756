/** The one place that knows the refresh cookie's attributes, for setting and for clearing it. */
import { fastifyCookie, type CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'
import type { ResolvedOptions } from '../options.js'

type CookieOptions = ResolvedOptions['cookie']

function attributes (cookie: CookieOptions, maxAgeSeconds: number): CookieSerializeOptions {
  return {
    httpOnly: true,
    secure: cookie.secure,
    sameSite: cookie.sameSite,
    path: cookie.path,
    maxAge: maxAgeSeconds,
    ...(cookie.domain !== null && { domain: cookie.domain })
  }
}

/**
 * Max-Age follows the session: the smaller of the idle and absolute expiry, as the store computed it.
 * Rounded, not floored: the milliseconds between the store's clock read and this one would
 * otherwise turn a 7 d session into a 604799 s cookie.
 */
export function setRefreshCookie (reply: FastifyReply, cookie: CookieOptions, token: string, expiresAt: number): void {
  const maxAgeSeconds = Math.max(0, Math.round((expiresAt - Date.now()) / 1000))
  setCookie(reply, cookie.name, token, attributes(cookie, maxAgeSeconds))
}

/**
 * Our routes have @fastify/cookie; an app route that calls startSession may not (the plugin's
 * scope registers it for its own routes only): there the cookie is serialized here, the same way.
 */
function setCookie (reply: FastifyReply, name: string, value: string, options: CookieSerializeOptions): void {
  if (typeof (reply as Partial<FastifyReply>).setCookie === 'function') reply.setCookie(name, value, options)
  // secure is always a boolean here (never @fastify/cookie's "auto").
  else reply.header('set-cookie', fastifyCookie.serialize(name, value, options as Parameters<typeof fastifyCookie.serialize>[2]))
}

/** A no-op with the body transport: it never sets the cookie, so it has none to clear (and must not touch an app cookie of that name). */
export function clearRefreshCookie (reply: FastifyReply, { transport, cookie }: Pick<ResolvedOptions, 'transport' | 'cookie'>): void {
  if (transport === 'body') return
  reply.setCookie(cookie.name, '', { ...attributes(cookie, 0), expires: new Date(0) })
}

const SAME_SITE = { strict: 'Strict', lax: 'Lax', none: 'None' } as const

/**
 * The DBSC bound cookie travels with the refresh cookie (same path, domain, Secure, SameSite). Its
 * attributes are one string, because the session configuration repeats them for the browser to
 * match (`credentials[].attributes`): its Set-Cookie is `<name>=<value>; Max-Age=<s>; ` and this
 * string, byte for byte.
 */
export function boundCookieAttributes (cookie: CookieOptions): string {
  return [
    `Path=${cookie.path}`,
    ...(cookie.domain !== null ? [`Domain=${cookie.domain}`] : []),
    ...(cookie.secure ? ['Secure'] : []),
    'HttpOnly',
    `SameSite=${SAME_SITE[cookie.sameSite]}`
  ].join('; ')
}

export function setBoundCookie (reply: FastifyReply, cookie: CookieOptions, name: string, value: string, maxAgeSeconds: number): void {
  reply.header('set-cookie', `${name}=${value}; Max-Age=${maxAgeSeconds}; ${boundCookieAttributes(cookie)}`)
}
