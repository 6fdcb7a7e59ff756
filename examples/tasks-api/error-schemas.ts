/**
 * Error bodies of the demo's own routes, as the OpenAPI document shows them: `code` is an enum of
 * the codes that status can carry on that route, so a generated client can switch on it.
 */
import { Type, type TSchema } from '@sinclair/typebox'

export function errorBody (status: number, codes: readonly [string, ...string[]], headers?: Record<string, { type: 'string', description: string }>): TSchema {
  return Type.Object({
    statusCode: Type.Unsafe<number>({ type: 'integer', enum: [status] }),
    code: Type.Unsafe<string>({ type: 'string', enum: [...codes] }),
    error: Type.String(),
    message: Type.String()
  }, headers === undefined ? {} : { headers })
}

/** 401 from the plugin's authenticate, with its RFC 6750 challenge. */
export const unauthorized = (): TSchema => errorBody(401, ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED'], {
  'WWW-Authenticate': { type: 'string', description: '`Bearer` when no token was sent, `Bearer error="invalid_token"` when one was refused' }
})

/** 401 from authenticateSession then requireRecentAuth: a refused token, or a sign-in too old (or of another method) for this action. */
export const stepUpRequired = (): TSchema => errorBody(401, ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_SESSION_REVOKED', 'AUTH_STEP_UP_REQUIRED'], {
  'WWW-Authenticate': { type: 'string', description: 'A refused token: RFC 6750\'s challenge; a step-up: `Bearer error="insufficient_user_authentication"` with `max_age` (and `acr_values` when a method is required), as RFC 9470 says' }
})

/** What Fastify answers for a JSON body it cannot take (the app's default parsers and body limit). */
export const bodyErrors = (): Record<number, TSchema> => ({
  400: errorBody(400, ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']),
  413: errorBody(413, ['FST_ERR_CTP_BODY_TOO_LARGE']),
  415: errorBody(415, ['FST_ERR_CTP_INVALID_MEDIA_TYPE'])
})
