/** TypeBox schemas for the routes' requests and responses, shared by routes, OpenAPI and tests. */
import { Type, type Static } from '@sinclair/typebox'
import { OPTIONAL_BODY } from './openapi.js'

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
}, { $id: 'RefreshSessionsError' })

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

export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds' }),
  sessionId: Type.String(),
  refreshToken: Type.Optional(Type.String({ description: 'only with the body or both transport' }))
})
export type TokenResponse = Static<typeof TokenResponse>

export const SessionView = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean()
})
export const SessionsResponse = Type.Object({ sessions: Type.Array(SessionView) })
export type SessionsResponse = Static<typeof SessionsResponse>

export const SessionParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
export type SessionParams = Static<typeof SessionParams>

export const JwksResponse = Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) })

export const NoContent = Type.Null({ description: 'No Content' })

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
