/**
 * The two DBSC routes a browser calls by itself:
 *
 * - registration (after a login that offered it): the proof's `jti` must be an unused registration
 *   challenge, which names the session; the session is bound to the proof's key for life.
 * - refresh (whenever the bound cookie is missing): without a proof, 403 and a challenge; with a
 *   proof of that challenge by the session's key, a fresh bound cookie.
 *
 * No CSRF guard: neither route reads a cookie, and nothing here works without the device's key.
 */
import type { ProofRefusedReason } from '../../options.js'
import type { FastifyInstance } from 'fastify'
import type { JWK } from 'jose'
import type { PluginContext } from '../../context.js'
import { DbscAlreadyBoundError, DbscChallengeInvalidError, DbscKeyMismatchError, DbscProofInvalidError, DbscProofMissingError, DbscProofRequiredError, DbscSessionUnknownError } from '../../errors.js'
import { describe } from '../../http/schemas.js'
import { verifyProofJwt } from '../proof-jwt.js'
import { issueChallenge, redeemChallenge } from './challenges.js'
import type { Dbsc } from './dbsc.js'
import { proofRefused, sessionBound } from './events.js'
import { CHALLENGE, challengeHeader, PROOF_ALGORITHMS, proofOf, sessionIdOf } from './headers.js'
import { refreshResponses, registerResponses } from './schemas.js'

const TYP = 'dbsc+jwt'
/** Session ids are ours (base64url); anything else is looked up nowhere. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/

export function dbscRoutes (fastify: FastifyInstance, context: PluginContext, dbsc: Dbsc): void {
  const { sessions, options } = context
  const { routes, challengeTtlMs } = dbsc.settings

  fastify.post(routes.register, {
    schema: { ...describe('DBSC registration: bind the session to the browser\'s key (called by the browser)'), response: registerResponses }
  }, async function register (request, reply) {
    const jwt = proofOf(request)
    if (jwt === null) {
      await proofRefused(request, context, 'missing')
      throw new DbscProofMissingError()
    }
    const verified = await verifyProofJwt(jwt, { typ: TYP, algorithms: PROOF_ALGORITHMS })
    if (!verified.ok) {
      await proofRefused(request, context, verified.refusal)
      throw new DbscProofInvalidError(verified.refusal)
    }
    const { thumbprint, header } = verified.proof
    const subject = await redeemChallenge(dbsc.store, verified.proof.payload.jti)
    if (subject === null || subject.purpose !== 'register') {
      await proofRefused(request, context, 'challenge')
      throw new DbscChallengeInvalidError()
    }
    const { userId, sessionId } = subject
    const outcome = await sessions.bind(userId, sessionId, { kind: 'dbsc', thumbprint })
    if (outcome !== 'bound') {
      await proofRefused(request, context, outcome === 'conflict' ? 'conflict' : 'session', { userId, sessionId })
      throw outcome === 'conflict' ? new DbscAlreadyBoundError() : new DbscSessionUnknownError()
    }
    // Kept as long as the session can live: a refresh proof carries no key, this is the one it is checked with.
    await dbsc.store.putSessionKey(sessionId, JSON.stringify([userId, header.jwk]), options.limits.absoluteTtlMs)
    await sessionBound(request, context, { userId, sessionId })
    return dbsc.issueBoundCookie(reply, sessionId, thumbprint)
  })

  fastify.post(routes.refresh, {
    schema: { ...describe('DBSC refresh: a fresh bound cookie for a proof by the session\'s key (called by the browser)'), response: refreshResponses }
  }, async function refresh (request, reply) {
    const sessionId = sessionIdOf(request)
    const record = sessionId !== null && SESSION_ID.test(sessionId) ? await dbsc.store.getSessionKey(sessionId) : null
    if (sessionId === null || record === null) {
      await proofRefused(request, context, 'session')
      throw new DbscSessionUnknownError()
    }
    const [userId, jwk] = JSON.parse(record) as [string, JWK]
    const challenge = async (): Promise<void> => {
      const issued = await issueChallenge(dbsc.store, challengeTtlMs, { purpose: 'refresh', userId, sessionId })
      reply.header(CHALLENGE, challengeHeader(issued, sessionId))
    }
    const refused = async (reason: ProofRefusedReason): Promise<void> => { await proofRefused(request, context, reason, { userId, sessionId }) }

    const jwt = proofOf(request)
    if (jwt === null) {
      await challenge()
      throw new DbscProofRequiredError()
    }
    const verified = await verifyProofJwt(jwt, { typ: TYP, algorithms: PROOF_ALGORITHMS, key: jwk })
    if (!verified.ok) {
      await refused(verified.refusal)
      if (verified.refusal === 'jwk' || verified.refusal === 'signature') throw new DbscKeyMismatchError()
      throw new DbscProofInvalidError(verified.refusal)
    }
    const subject = await redeemChallenge(dbsc.store, verified.proof.payload.jti)
    if (subject === null || subject.purpose !== 'refresh' || subject.sessionId !== sessionId) {
      await refused('challenge')
      await challenge()
      throw new DbscChallengeInvalidError()
    }
    if (!await sessions.isLive(userId, sessionId)) {
      await refused('session')
      throw new DbscSessionUnknownError()
    }
    return dbsc.issueBoundCookie(reply, sessionId, verified.proof.thumbprint)
  })
}
