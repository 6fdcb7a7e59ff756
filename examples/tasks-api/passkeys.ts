/**
 * Passkeys (WebAuthn, with @simplewebauthn/server): a signed-in user adds one (a sensitive
 * action: it needs a recent sign-in), then signs in with it, or re-authenticates with it for a
 * step-up. Each ceremony is two calls: options (a challenge kept server side, single-use, 60 s),
 * then the browser's response, verified against that challenge, the demo's RP id and origin.
 *
 * A passkey sign-in starts a session through `startSession` with RFC 8176 amr values: `hwk` (proof
 * of possession of a hardware-secured key: a passkey that stays on its authenticator) or `swk` (a
 * software-secured one: a synced passkey, backed up to the platform's cloud), and `user` (user
 * verification: the demo requires the authenticator's PIN or biometrics at every ceremony).
 */
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server'
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { CHALLENGE_TTL_MS, Challenges, type Ceremony } from './challenges.js'
import type { DemoConfig } from './config.js'
import { bodyErrors, errorBody, stepUpRequired, unauthorized } from './error-schemas.js'
import type { DemoUser, Passkey, Users } from './users.js'

/** The amr values of a passkey sign-in or re-authentication, whichever kind the passkey is: what the passkey guard asks for. */
export const PASSKEY_METHODS = ['hwk', 'swk']

/** What a passkey sign-in or re-authentication puts in the access token's amr. */
function passkeyAmr (deviceType: Passkey['deviceType']): string[] {
  return [deviceType === 'multiDevice' ? 'swk' : 'hwk', 'user']
}

const base64url = (maxLength: number): TSchema => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' })
// Browsers add members to these nested objects as WebAuthn grows: they stay open, the top level does not.
const open = { additionalProperties: true }
const Attachment = Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]))

/** What @simplewebauthn/browser's startRegistration() resolves to. Credential ids are at most 1023 bytes. */
const RegistrationResponse = Type.Object({
  id: base64url(1366),
  rawId: base64url(1366),
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: base64url(8192),
    attestationObject: base64url(32_768),
    authenticatorData: Type.Optional(base64url(32_768)),
    transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
    publicKeyAlgorithm: Type.Optional(Type.Integer()),
    publicKey: Type.Optional(base64url(8192))
  }, open),
  clientExtensionResults: Type.Object({}, open),
  authenticatorAttachment: Attachment
}, { additionalProperties: false })

/** What startAuthentication() resolves to. */
const AuthenticationResponse = Type.Object({
  id: base64url(1366),
  rawId: base64url(1366),
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: base64url(8192),
    authenticatorData: base64url(32_768),
    signature: base64url(8192),
    userHandle: Type.Optional(Type.String({ maxLength: 128, pattern: '^[A-Za-z0-9_-]*$' }))
  }, open),
  clientExtensionResults: Type.Object({}, open),
  authenticatorAttachment: Attachment
}, { additionalProperties: false })

/** The plugin's token response (POST /auth/login's), as startSession returns it; reauthenticate's has no refreshToken. */
const TokenBody = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')]),
  expiresIn: Type.Integer(),
  sessionId: Type.String(),
  refreshToken: Type.Optional(Type.String())
})

const PasskeyView = Type.Object({
  id: Type.String(),
  deviceType: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')]),
  backedUp: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
})

/** The options objects are WebAuthn's own JSON (PublicKeyCredential*OptionsJSON), passed to the browser package as is. */
const webauthnOptions = (description: string): TSchema => Type.Unsafe<object>({ type: 'object', additionalProperties: true, description })
const challengeInvalid = (): TSchema => errorBody(400, ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'DEMO_PASSKEY_CHALLENGE_INVALID'])
const refused = (): TSchema => errorBody(401, ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_SESSION_REVOKED', 'DEMO_PASSKEY_REFUSED'], {
  'WWW-Authenticate': { type: 'string', description: 'With an access token refused by authenticate: its RFC 6750 challenge' }
})

function demoError (reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  const error = { 400: 'Bad Request', 401: 'Unauthorized', 409: 'Conflict' }[statusCode] ?? 'Error'
  return reply.code(statusCode).send({ statusCode, code, error, message })
}

/** The challenge the browser signed, read from its clientDataJSON; null when unreadable. */
function signedChallenge (clientDataJSON: string): string | null {
  try {
    const { challenge } = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }
    return typeof challenge === 'string' && challenge.length > 0 ? challenge : null
  } catch {
    return null
  }
}

/** The library's reason (origin, RP id, signature, counter...) for the server's log, without the challenges and ids it quotes. */
function refusalReason (error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/"[A-Za-z0-9_-]{16,}"/g, '"…"')
}

/** `recentAuth`: the preHandler (after authenticateSession) of a sensitive action; adding a passkey is one. */
export function passkeyRoutes (app: FastifyInstance, users: Users, config: DemoConfig, recentAuth: preHandlerAsyncHookHandler): void {
  const challenges = new Challenges()
  const rpID = config.webauthnRpId
  // The port is known once the demo listens (tests use port 0).
  const expectedOrigin = (): string => {
    if (config.webauthnOrigin !== null) return config.webauthnOrigin
    const address = app.server.address()
    return `http://localhost:${address !== null && typeof address === 'object' ? address.port : config.port}`
  }
  const security = [{ bearerAuth: [] }]

  /**
   * Takes the challenge the response signed (whatever comes next, it is used up) and checks it
   * was issued for this ceremony and user. Null when it was not.
   */
  const takeChallenge = (clientDataJSON: string, ceremony: Ceremony, userId: string | null): string | null => {
    const challenge = signedChallenge(clientDataJSON)
    return challenge !== null && challenges.take(challenge, ceremony, userId) ? challenge : null
  }
  const challengeRefused = (reply: FastifyReply): FastifyReply =>
    demoError(reply, 400, 'DEMO_PASSKEY_CHALLENGE_INVALID', 'That passkey challenge is unknown, used, expired or for another ceremony: start again')

  /** A verified assertion of one of `owner`'s passkeys (any user's when null), or null. */
  const verifyAssertion = async (request: FastifyRequest, body: AuthenticationResponseJSON, challenge: string, owner: string | null): Promise<{ user: DemoUser, passkey: Passkey } | null> => {
    const passkey = users.passkey(body.id)
    const user = passkey === null ? null : users.byId(passkey.userId)
    if (passkey === null || user === null || (owner !== null && passkey.userId !== owner)) return null
    // A discoverable credential names its user: it must be the passkey's.
    if (body.response.userHandle !== undefined && body.response.userHandle !== user.webauthnUserId) return null
    try {
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response: body,
        expectedChallenge: challenge,
        expectedOrigin: expectedOrigin(),
        expectedRPID: rpID,
        credential: { id: passkey.id, publicKey: passkey.publicKey, counter: passkey.counter, transports: passkey.transports },
        requireUserVerification: true
      })
      if (!verified) return null
      users.passkeyUsed(passkey.id, authenticationInfo.newCounter, authenticationInfo.credentialDeviceType, authenticationInfo.credentialBackedUp)
      return { user, passkey }
    } catch (error) {
      request.log.info({ reason: refusalReason(error) }, 'passkey assertion refused')
      return null
    }
  }

  const passkeyRefused = (reply: FastifyReply): FastifyReply => demoError(reply, 401, 'DEMO_PASSKEY_REFUSED', 'That passkey could not be verified')

  const authenticationOptions = async (ceremony: Ceremony, userId: string | null): Promise<object> => {
    const allowCredentials = userId === null ? [] : users.passkeysOf(userId).map((passkey) => ({ id: passkey.id, transports: passkey.transports }))
    const result = await generateAuthenticationOptions({ rpID, allowCredentials, userVerification: 'required', timeout: CHALLENGE_TTL_MS })
    challenges.issue(result.challenge, ceremony, userId)
    return result
  }

  app.get('/passkeys', {
    preHandler: app.authenticate,
    schema: { tags: ['passkeys'], security, response: { 200: Type.Object({ passkeys: Type.Array(PasskeyView) }), 401: unauthorized() } } as object
  }, async (request) => ({ passkeys: users.passkeysOf(request.user.id).map(view) }))

  app.post('/passkeys/registration-options', {
    preHandler: [app.authenticateSession, recentAuth],
    schema: {
      tags: ['passkeys'],
      summary: 'Options to add a passkey (a sensitive action: needs a recent sign-in)',
      security,
      response: { 200: webauthnOptions('PublicKeyCredentialCreationOptionsJSON, for startRegistration()'), 401: stepUpRequired() }
    } as object
  }, async (request) => {
    const user = users.byId(request.user.id)!
    const result = await generateRegistrationOptions({
      rpName: 'Tasks (fastify-refresh-sessions demo)',
      rpID,
      userName: user.username,
      userID: new Uint8Array(Buffer.from(user.webauthnUserId, 'base64url')),
      attestationType: 'none',
      // Not the same authenticator twice.
      excludeCredentials: users.passkeysOf(user.id).map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      timeout: CHALLENGE_TTL_MS
    })
    challenges.issue(result.challenge, 'register', user.id)
    return result
  })

  app.post<{ Body: Static<typeof RegistrationResponse> }>('/passkeys', {
    preHandler: [app.authenticateSession, recentAuth],
    schema: {
      tags: ['passkeys'],
      summary: 'Add a passkey: the response of startRegistration() (a sensitive action: needs a recent sign-in)',
      security,
      body: RegistrationResponse,
      response: {
        201: PasskeyView,
        ...bodyErrors(),
        400: errorBody(400, ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'DEMO_PASSKEY_CHALLENGE_INVALID', 'DEMO_PASSKEY_INVALID']),
        401: stepUpRequired(),
        409: errorBody(409, ['DEMO_PASSKEY_EXISTS', 'DEMO_TOO_MANY_PASSKEYS'])
      }
    } as object
  }, async (request, reply) => {
    const body = request.body as RegistrationResponseJSON
    const userId = request.user.id
    const challenge = takeChallenge(body.response.clientDataJSON, 'register', userId)
    if (challenge === null) return challengeRefused(reply)
    let info
    try {
      const result = await verifyRegistrationResponse({ response: body, expectedChallenge: challenge, expectedOrigin: expectedOrigin(), expectedRPID: rpID, requireUserVerification: true })
      if (!result.verified) throw new Error('not verified')
      info = result.registrationInfo
    } catch (error) {
      request.log.info({ reason: refusalReason(error) }, 'passkey registration refused')
      return demoError(reply, 400, 'DEMO_PASSKEY_INVALID', 'That passkey could not be verified')
    }
    const passkey: Passkey = {
      id: info.credential.id,
      userId,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      createdAt: new Date().toISOString(),
      lastUsedAt: null
    }
    const added = users.addPasskey(passkey)
    if (added === 'exists') return demoError(reply, 409, 'DEMO_PASSKEY_EXISTS', 'That passkey is already registered')
    if (added === 'limit') return demoError(reply, 409, 'DEMO_TOO_MANY_PASSKEYS', 'Too many passkeys: remove one first')
    request.log.info({ userId }, 'passkey added')
    return reply.code(201).send(view(passkey))
  })

  app.post('/auth/passkey/login-options', {
    schema: { tags: ['passkeys'], summary: 'Options to sign in with a passkey (any of the browser\'s passkeys for this site)', response: { 200: webauthnOptions('PublicKeyCredentialRequestOptionsJSON, for startAuthentication()') } } as object
  }, async () => await authenticationOptions('login', null))

  app.post<{ Body: Static<typeof AuthenticationResponse> }>('/auth/passkey/login', {
    schema: {
      tags: ['passkeys'],
      summary: 'Sign in with a passkey: the response of startAuthentication(); a new session with amr [hwk or swk, user]',
      body: AuthenticationResponse,
      response: { 200: TokenBody, ...bodyErrors(), 400: challengeInvalid(), 401: errorBody(401, ['DEMO_PASSKEY_REFUSED']) }
    } as object
  }, async (request, reply) => {
    const body = request.body as AuthenticationResponseJSON
    const challenge = takeChallenge(body.response.clientDataJSON, 'login', null)
    if (challenge === null) return challengeRefused(reply)
    const verified = await verifyAssertion(request, body, challenge, null)
    if (verified === null) return passkeyRefused(reply)
    const { user, passkey } = verified
    return await app.refreshSessions.startSession(request, reply, { id: user.id, roles: user.roles }, { amr: passkeyAmr(passkey.deviceType) })
  })

  app.post('/auth/passkey/reauthenticate-options', {
    preHandler: app.authenticateSession,
    schema: { tags: ['passkeys'], summary: 'Options to confirm it is you with one of your passkeys (a step-up)', security, response: { 200: webauthnOptions('PublicKeyCredentialRequestOptionsJSON, for startAuthentication()'), 401: unauthorized() } } as object
  }, async (request) => await authenticationOptions('reauthenticate', request.user.id))

  app.post<{ Body: Static<typeof AuthenticationResponse> }>('/auth/passkey/reauthenticate', {
    preHandler: app.authenticateSession,
    schema: {
      tags: ['passkeys'],
      summary: 'Confirm it is you with one of your passkeys: this session\'s auth_time becomes now and its amr [hwk or swk, user]; a fresh access token',
      security,
      body: AuthenticationResponse,
      response: { 200: TokenBody, ...bodyErrors(), 400: challengeInvalid(), 401: refused() }
    } as object
  }, async (request, reply) => {
    const body = request.body as AuthenticationResponseJSON
    const challenge = takeChallenge(body.response.clientDataJSON, 'reauthenticate', request.user.id)
    if (challenge === null) return challengeRefused(reply)
    const verified = await verifyAssertion(request, body, challenge, request.user.id)
    if (verified === null) return passkeyRefused(reply)
    return await app.refreshSessions.reauthenticate(request, reply, { amr: passkeyAmr(verified.passkey.deviceType) })
  })
}

function view ({ id, deviceType, backedUp, createdAt, lastUsedAt }: Passkey): Static<typeof PasskeyView> {
  return { id, deviceType, backedUp, createdAt, lastUsedAt }
}
