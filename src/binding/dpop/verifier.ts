/**
 * DPoP for the routes and authenticate: finds the request's proof, checks it (proof.ts) against
 * the URL the client called, and answers a refusal as RFC 9449 says: 401 with
 * `WWW-Authenticate: DPoP error="invalid_dpop_proof", algs="..."`, or `error="use_dpop_nonce"`
 * and a fresh `DPoP-Nonce`. Each refusal is reported to onProofRefused, each with a stable code.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { runCallback } from '../../app-callbacks.js'
import type { AppCallbacks } from '../../context.js'
import { DpopNonceRequiredError, DpopProofInvalidError } from '../../errors.js'
import type { ProofRefusedReason } from '../../options.js'
import { checkDpopProof, type DpopRules } from './proof.js'

export interface DpopSettings extends DpopRules {
  /** The public origins htu may name; null: the request's own (`request.protocol` and `request.host`, which follow trustProxy). */
  origins: readonly string[] | null
}

export interface ProofContext {
  /** The access token presented with the proof (its hash must be the proof's `ath`). */
  accessToken?: string
  userId?: string
  sessionId?: string
}

export class DpopVerifier {
  readonly #settings: DpopSettings
  readonly #callbacks: AppCallbacks
  /** `algs="ES256 RS256 ..."`: the algorithms a proof may use, in every DPoP challenge. */
  readonly algs: string

  constructor (settings: DpopSettings, callbacks: AppCallbacks) {
    this.#settings = settings
    this.#callbacks = callbacks
    this.algs = `algs="${settings.algorithms.join(' ')}"`
  }

  /** The request's proof, or undefined when it sent none (or sent the header twice, which is no proof). */
  proofOf (request: FastifyRequest): string | undefined {
    const proof = request.headers.dpop
    return typeof proof === 'string' ? proof : undefined
  }

  /** The thumbprint of the key that signed a valid proof; otherwise throws a 401 with its challenge, after onProofRefused. */
  async verify (request: FastifyRequest, reply: FastifyReply, context: ProofContext = {}): Promise<string> {
    const result = await checkDpopProof(request.headers.dpop, {
      method: request.method,
      origins: this.#origins(request),
      path: request.url,
      ...(context.accessToken !== undefined && { accessToken: context.accessToken })
    }, this.#settings)
    const { nonces } = this.#settings
    if (nonces !== null) reply.header('dpop-nonce', nonces.current())
    if (result.ok) return result.thumbprint
    await this.refused(request, result.reason, context)
    if (result.reason === 'nonce') {
      reply.header('www-authenticate', `DPoP error="use_dpop_nonce", ${this.algs}`)
      throw new DpopNonceRequiredError()
    }
    reply.header('www-authenticate', `DPoP error="invalid_dpop_proof", ${this.algs}`)
    throw new DpopProofInvalidError()
  }

  /** onProofRefused for a DPoP refusal decided here or by the caller (`key`, `unproved`). */
  async refused (request: FastifyRequest, reason: ProofRefusedReason, context: ProofContext = {}): Promise<void> {
    await runCallback(request, 'onProofRefused', this.#callbacks.onProofRefused, {
      binding: reason === 'unproved' ? null : 'dpop',
      reason,
      ...(context.userId !== undefined && { userId: context.userId }),
      ...(context.sessionId !== undefined && { sessionId: context.sessionId }),
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null
    })
  }

  /** Where the client may have called us: the configured public origins, or Fastify's view (`request.protocol` and `request.host` follow trustProxy). */
  #origins (request: FastifyRequest): readonly string[] {
    if (this.#settings.origins !== null) return this.#settings.origins
    const origin = `${request.protocol}://${request.host}`
    return URL.canParse(origin) ? [new URL(origin).origin] : []
  }
}
