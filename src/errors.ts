/**
 * Every error code of the plugin, once. Messages never contain a token, a hash or a password:
 * they reach logs and clients.
 */
import createError from '@fastify/error'

export const InvalidCredentialsError = createError('AUTH_INVALID_CREDENTIALS', 'Invalid username or password', 401)
export const TooManyAttemptsError = createError('AUTH_TOO_MANY_ATTEMPTS', 'Too many failed login attempts, retry in %s seconds', 429)
export const RefreshMissingError = createError('AUTH_REFRESH_MISSING', 'No refresh token was sent', 401)
export const RefreshInvalidError = createError('AUTH_REFRESH_INVALID', 'The refresh token is invalid or expired', 401)
export const RefreshReusedError = createError('AUTH_REFRESH_REUSED', 'The refresh token was already used; the session has been revoked', 401)
export const RefreshUnboundError = createError('AUTH_REFRESH_UNBOUND', 'The session is bound to a device key this request did not prove', 401)
export const DbscProofMissingError = createError('AUTH_DBSC_PROOF_MISSING', 'No Secure-Session-Response proof was sent', 400)
export const DbscProofInvalidError = createError('AUTH_DBSC_PROOF_INVALID', 'The Secure-Session-Response proof is not a valid dbsc+jwt (%s)', 400)
export const DbscProofRequiredError = createError('AUTH_DBSC_PROOF_REQUIRED', 'Sign the challenge in Secure-Session-Challenge with the session key and retry', 403)
export const DbscChallengeInvalidError = createError('AUTH_DBSC_CHALLENGE_INVALID', 'The proof does not sign an unused challenge issued for this session', 403)
export const DbscKeyMismatchError = createError('AUTH_DBSC_KEY_MISMATCH', 'The proof is not signed by the key the session is bound to', 401)
export const DbscSessionUnknownError = createError('AUTH_DBSC_SESSION_UNKNOWN', 'No live device-bound session has this id', 401)
export const DbscAlreadyBoundError = createError('AUTH_DBSC_ALREADY_BOUND', 'The session is already bound to another key', 409)
export const DpopProofInvalidError = createError('AUTH_DPOP_PROOF_INVALID', 'The DPoP proof is invalid', 401)
export const DpopNonceRequiredError = createError('AUTH_DPOP_NONCE_REQUIRED', 'A DPoP proof with the nonce of the DPoP-Nonce header is required', 401)
export const DpopRequiredError = createError('AUTH_DPOP_REQUIRED', 'The access token is bound to a DPoP key: send it with the DPoP scheme and a proof', 401)
export const BindingRequiredError = createError('AUTH_BINDING_REQUIRED', 'A session bound to a device key is required', 401)
export const CsrfRejectedError = createError('AUTH_CSRF_REJECTED', 'Cross-site request refused', 403)
export const StoreUnavailableError = createError('AUTH_STORE_UNAVAILABLE', 'The session store is unavailable', 503)
/** The argon2 queue is full (or the client left while its login waited): answered with `Retry-After: 1`; the attempt is not counted. */
export const LoginBusyError = createError('AUTH_LOGIN_BUSY', 'Too many logins in progress, retry in a second', 503)
export const TokenMissingError = createError('AUTH_TOKEN_MISSING', 'No access token was sent', 401)
export const TokenInvalidError = createError('AUTH_TOKEN_INVALID', 'The access token is invalid', 401)
export const TokenExpiredError = createError('AUTH_TOKEN_EXPIRED', 'The access token has expired', 401)
export const SessionRevokedError = createError('AUTH_SESSION_REVOKED', 'The session of this access token has been revoked', 401)
export const ForbiddenError = createError('AUTH_FORBIDDEN', 'Missing a required role', 403)
export const StepUpRequiredError = createError('AUTH_STEP_UP_REQUIRED', 'A more recent or a different sign-in is required: re-authenticate and retry', 401)
export const SessionNotFoundError = createError('AUTH_SESSION_NOT_FOUND', 'No such session', 404)
export const RouteNotFoundError = createError('AUTH_ROUTE_NOT_FOUND', 'No such route', 404)
export const JwksNotFoundError = createError('AUTH_JWKS_NOT_FOUND', 'No public keys: access tokens are signed with a shared secret', 404)
/**
 * A bad option: `register` fails with it, its message naming the option
 * (`fastify-refresh-sessions: option accessToken.ttl must be at least 1s`). A TypeError named
 * OptionsError, as it was before it had a code; never sent to a client.
 */
export class OptionsError extends createError('AUTH_INVALID_OPTION', 'fastify-refresh-sessions: %s', 500, TypeError) {
  constructor (message: string) {
    super(message)
    this.name = 'OptionsError'
  }
}
/** A fault of ours or of the app's callbacks; never caused by what a client sends. Details go to the log only. */
export const InternalError = createError('AUTH_INTERNAL_ERROR', 'Internal server error', 500)
/** At registration: Redis may evict the store's keys (its maxmemory-policy is not noeviction). */
export const RedisEvictionPolicyError = createError('AUTH_REDIS_EVICTION_POLICY', '%s', 500)
