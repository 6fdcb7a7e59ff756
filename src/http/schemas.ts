/** TypeBox schemas for the routes' requests and responses, shared by routes, OpenAPI and tests. */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import type { ResolvedOptions } from '../options.js'
import { OPTIONAL_BODY } from './openapi.js'

/**
 * An error body as the document shows it: `code` is an enum of the codes this status can carry on
 * this route (a generated client can switch on it), `statusCode` the status itself.
 */
export function errorResponse (status: number, description: string, codes: readonly [string, ...string[]], headers?: ResponseHeaders): TSchema {
  return Type.Object({
    statusCode: Type.Unsafe<number>({ type: 'integer', enum: [status] }),
    code: Type.Unsafe<string>({ type: 'string', enum: [...codes] }),
    error: Type.String(),
    message: Type.String()
  }, { description, ...(headers !== undefined && { headers }) })
}

/** Response headers for @fastify/swagger, which copies a response schema's `headers` into the document. */
export type ResponseHeaders = Record<string, { type: 'string' | 'integer', description: string }>

export const header = {
  setCookie: (description: string): ResponseHeaders => ({ 'Set-Cookie': { type: 'string', description } }),
  noStore: (): ResponseHeaders => ({
    'Cache-Control': { type: 'string', description: 'no-store: tokens are never cached' },
    Pragma: { type: 'string', description: 'no-cache (HTTP/1.0 caches)' }
  }),
  retryAfter: (): ResponseHeaders => ({ 'Retry-After': { type: 'integer', description: 'seconds until a login attempt is admitted again' } }),
  wwwAuthenticate: (): ResponseHeaders => ({ 'WWW-Authenticate': { type: 'string', description: 'RFC 6750: `Bearer` when no token was sent, `Bearer error="invalid_token"` when one was refused; RFC 9449 `DPoP error="..."`, algs="..."` for DPoP refusals' } })
}

/** What a request carrying (or required to carry) a device-key proof can be refused with. */
export const PROOF_CODES = ['AUTH_DPOP_PROOF_INVALID', 'AUTH_DPOP_NONCE_REQUIRED', 'AUTH_BINDING_REQUIRED'] as const
/**
 * Said in words, not as response headers: the document's headers are ones every answer of that
 * status carries, and these come with the DPoP refusals only.
 */
export const PROOF_REFUSAL_HEADERS = ' A refused DPoP proof carries `WWW-Authenticate: DPoP error="invalid_dpop_proof", algs="..."` (or `error="use_dpop_nonce"`), and `DPoP-Nonce` with the dpop.nonce option.'

export const STORE_UNAVAILABLE = (): TSchema => errorResponse(503, 'The session store is unavailable (retry later)', ['AUTH_STORE_UNAVAILABLE'])
/** The routes that verify a password: their argon2 calls wait in a bounded queue (option argon2Queue). */
export const STORE_UNAVAILABLE_OR_BUSY = (): TSchema => errorResponse(503, 'The session store is unavailable (retry later); or AUTH_LOGIN_BUSY: too many logins wait for a password check (the argon2Queue option), answered with `Retry-After: 1` and not counted as an attempt', ['AUTH_STORE_UNAVAILABLE', 'AUTH_LOGIN_BUSY'])
export const INTERNAL_ERROR = (): TSchema => errorResponse(500, "An app callback failed (details in the server's log only)", ['AUTH_INTERNAL_ERROR'])
/** What `authenticate` refuses an access token with. */
export const ACCESS_TOKEN_REFUSED_CODES = ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_DPOP_PROOF_INVALID', 'AUTH_DPOP_NONCE_REQUIRED', 'AUTH_DPOP_REQUIRED'] as const
export const ACCESS_TOKEN_REFUSED = (): TSchema => errorResponse(401, 'No access token, or one that is invalid or expired; a DPoP-bound one without a valid proof of its key.' + PROOF_REFUSAL_HEADERS, ACCESS_TOKEN_REFUSED_CODES, header.wwwAuthenticate())

/**
 * What a request body can be refused with, before the handler runs: 400 for bad JSON (and for a
 * body that fails the route's schema, when it has one), 413 over the routes' body limit, 415 for
 * a content type that is not JSON or text. `emptyJson`: the route refuses `application/json` with
 * no body (refresh and logout take it as no body).
 */
export function bodyErrors ({ validated, emptyJson }: { validated: boolean, emptyJson: boolean }): Record<number, TSchema> {
  const codes = [...(validated ? ['FST_ERR_VALIDATION'] : []), 'FST_ERR_CTP_INVALID_JSON_BODY', ...(emptyJson ? ['FST_ERR_CTP_EMPTY_JSON_BODY'] : [])] as [string, ...string[]]
  return {
    400: errorResponse(400, 'The request is malformed: its JSON, or a field of the body or the path', codes),
    413: errorResponse(413, 'The body is over the limit of the auth routes (16 KiB)', ['FST_ERR_CTP_BODY_TOO_LARGE']),
    415: errorResponse(415, 'A non-empty body that is neither JSON nor text', ['FST_ERR_CTP_INVALID_MEDIA_TYPE'])
  }
}

/** The refresh cookie, as a parameter of the routes that read it (none with the body transport). */
export function refreshCookieParameter (options: ResolvedOptions): { cookies?: TSchema } {
  if (options.transport === 'body') return {}
  return {
    cookies: Type.Object({
      [options.cookie.name]: Type.Optional(Type.String({ description: 'The refresh token (HttpOnly cookie set by login and refresh; a browser sends it by itself)' }))
    })
  }
}

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
})
export type LoginBody = Static<typeof LoginBody>

/** Refresh and logout: the token rides in the cookie, or in the body with the body transport. */
export const RefreshBody = Type.Union([Type.Object({
  refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
}), Type.Null()])
export type RefreshBody = Static<typeof RefreshBody>

const accessTokenFields = {
  accessToken: Type.String(),
  tokenType: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: 'DPoP for a session bound to a DPoP key: send the access token as `Authorization: DPoP <token>` with a proof' }),
  expiresIn: Type.Integer({ description: 'seconds' }),
  sessionId: Type.String()
}
export const TokenResponse = Type.Object({
  ...accessTokenFields,
  refreshToken: Type.Optional(Type.String({ description: 'only with the body or both transport' }))
})
export type TokenResponse = Static<typeof TokenResponse>

/** Re-authentication: a new access token for the same session; its refresh token is unchanged (none is sent). */
export const AccessTokenResponse = Type.Object(accessTokenFields)
export type AccessTokenResponse = Static<typeof AccessTokenResponse>

export const ReauthenticateBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 1, maxLength: 1024 })
})
export type ReauthenticateBody = Static<typeof ReauthenticateBody>

const SessionView = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
  binding: Type.Union([Type.Literal('dbsc'), Type.Literal('dpop'), Type.Null()], { description: 'the kind of device key the session is bound to; null: not bound' }),
  authTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'when the user last proved who they are in this session (sign-in or re-authentication); null for a session from before this was kept' }),
  amr: Type.Array(Type.String(), { description: 'how (RFC 8176 method names such as pwd, hwk, otp); empty when authTime is null' })
})
export const SessionsResponse = Type.Object({ sessions: Type.Array(SessionView) })
export type SessionsResponse = Static<typeof SessionsResponse>

export const SessionParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
export type SessionParams = Static<typeof SessionParams>

export const JwksResponse = Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) })

/** A success response with the description and headers the document shows. */
export function documented (schema: TSchema, description: string, headers?: ResponseHeaders): TSchema {
  return { ...schema, description, ...(headers !== undefined && { headers }) }
}

export const NoContent = (description = 'No Content', headers?: ResponseHeaders): TSchema => Type.Null({ description, ...(headers !== undefined && { headers }) })

/**
 * OpenAPI words for a route (read by @fastify/swagger when the app registers it). Typed loosely on
 * purpose: `summary` and `security` exist in FastifySchema only once @fastify/swagger is installed.
 */
export function describe (summary: string, options: { bearer?: boolean, optionalBody?: boolean } = {}): object {
  return {
    summary,
    tags: ['auth'],
    ...(options.bearer === true && { security: [{ bearerAuth: [] }] }),
    ...(options.optionalBody === true && { [OPTIONAL_BODY]: true })
  }
}
