/** The DBSC routes' OpenAPI words: the session configuration and every refusal. */
import { Type, type TSchema } from '@sinclair/typebox'
import { documented, errorResponse, header, INTERNAL_ERROR, STORE_UNAVAILABLE, type ResponseHeaders } from '../../http/schemas.js'

export const SessionConfigResponse = Type.Object({
  session_identifier: Type.String({ description: 'the session id (as in the token response and the session list)' }),
  refresh_url: Type.String({ description: 'where the browser gets a fresh bound cookie' }),
  scope: Type.Object({ include_site: Type.Boolean(), scope_specification: Type.Array(Type.Object({})) }),
  credentials: Type.Array(Type.Object({
    type: Type.Literal('cookie'),
    name: Type.String(),
    attributes: Type.String({ description: 'the bound cookie\'s attributes, exactly as its Set-Cookie carries them after Max-Age' })
  }))
})

/** On a login's 200, when DBSC is on and the refresh token is a cookie. */
export const registrationOffer = (): ResponseHeaders => ({
  'Secure-Session-Registration': { type: 'string', description: 'DBSC: `(ES256 RS256);path="<registration route>";challenge="<single-use challenge>"`' },
  'Sec-Session-Registration': { type: 'string', description: 'the same offer under the name older Chromium reads' }
})

const challenge = (): ResponseHeaders => ({ 'Secure-Session-Challenge': { type: 'string', description: 'a new single-use challenge for this session: `"<challenge>";id="<session id>"`' } })

/** 400 from a body the route does not read, and from a malformed proof. */
const badRequest = (codes: [string, ...string[]]): TSchema => errorResponse(400, 'A malformed proof, or a body that is not JSON or text', [...codes, 'FST_ERR_CTP_INVALID_JSON_BODY'])
const bodyLimits = {
  413: errorResponse(413, 'The body is over the limit of the auth routes (16 KiB)', ['FST_ERR_CTP_BODY_TOO_LARGE']),
  415: errorResponse(415, 'A non-empty body that is neither JSON nor text', ['FST_ERR_CTP_INVALID_MEDIA_TYPE'])
}
const config = (description: string): TSchema => documented(SessionConfigResponse, description, { ...header.setCookie('The bound cookie (short-lived, HttpOnly)'), 'Cache-Control': { type: 'string', description: 'no-store' } })

export const registerResponses = {
  200: config('The session is bound to the proof\'s key: its configuration, and a bound cookie'),
  400: badRequest(['AUTH_DBSC_PROOF_MISSING', 'AUTH_DBSC_PROOF_INVALID']),
  401: errorResponse(401, 'The challenge names a session that is no longer live', ['AUTH_DBSC_SESSION_UNKNOWN']),
  403: errorResponse(403, 'The proof does not sign an unused registration challenge', ['AUTH_DBSC_CHALLENGE_INVALID']),
  409: errorResponse(409, 'The session is already bound to another key', ['AUTH_DBSC_ALREADY_BOUND']),
  ...bodyLimits,
  500: INTERNAL_ERROR(),
  503: STORE_UNAVAILABLE()
}

export const refreshResponses = {
  200: config('The proof is by the session\'s key: a fresh bound cookie, and the configuration again'),
  400: badRequest(['AUTH_DBSC_PROOF_INVALID']),
  401: errorResponse(401, 'No such live device-bound session, or a proof by another key', ['AUTH_DBSC_SESSION_UNKNOWN', 'AUTH_DBSC_KEY_MISMATCH']),
  403: errorResponse(403, 'No proof, or one of a challenge that is not an unused one of this session: sign the new challenge', ['AUTH_DBSC_PROOF_REQUIRED', 'AUTH_DBSC_CHALLENGE_INVALID'], challenge()),
  ...bodyLimits,
  500: INTERNAL_ERROR(),
  503: STORE_UNAVAILABLE()
}
