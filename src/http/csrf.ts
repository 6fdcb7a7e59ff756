/**
 * CSRF for requests whose credential the browser attaches by itself (a cookie): refresh and
 * logout carried by the refresh cookie, logout-all authenticated by the access-token cookie.
 * A browser names the page's origin in `Origin` (or, without it, `Referer`); anything but our
 * own origin or an allowed one is refused. Requests with neither (non-browser clients) pass,
 * unless Sec-Fetch-Site says cross-site.
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { CsrfRejectedError } from '../errors.js'
import { preHandler } from '../prehandler.js'

/**
 * The one CSRF check, as a preHandler: 403 AUTH_CSRF_REJECTED when `byCookie` says the request's
 * credential came from a cookie and the request comes from another origin. It runs before the
 * handler looks at the credential, so a forged request neither rotates, revokes nor clears a cookie.
 */
export function csrfGuard (allowedOrigins: readonly string[], byCookie: (request: FastifyRequest) => boolean): preHandlerAsyncHookHandler {
  return preHandler((request) => {
    if (byCookie(request) && isCrossSite(request, allowedOrigins)) throw new CsrfRejectedError()
  })
}

export function isCrossSite (request: FastifyRequest, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin ?? refererOrigin(request.headers.referer)
  if (origin === undefined) return request.headers['sec-fetch-site'] === 'cross-site'
  if (origin === null) return true
  return origin !== ownOrigin(request) && !allowedOrigins.includes(origin)
}

/** Our origin as the browser saw it (honours trustProxy for protocol and host). */
function ownOrigin (request: FastifyRequest): string | null {
  try {
    return new URL(`${request.protocol}://${request.host}`).origin
  } catch {
    return null
  }
}

/** undefined: no Referer; null: one that names no usable origin. */
function refererOrigin (referer: string | undefined): string | null | undefined {
  if (referer === undefined) return undefined
  try {
    const origin = new URL(referer).origin
    return origin === 'null' ? null : origin
  } catch {
    return null
  }
}
