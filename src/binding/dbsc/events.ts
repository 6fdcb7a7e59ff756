/**
 * The binding hooks as DBSC fires them: `onSessionBound` when a registration binds a session,
 * `onProofRefused` when a proof (or its absence) is refused. The one place this module reaches
 * the app's callbacks.
 */
import type { FastifyRequest } from 'fastify'
import { runCallback } from '../../app-callbacks.js'
import type { PluginContext } from '../../context.js'
import type { ProofRefusedReason } from '../../options.js'

export async function sessionBound (request: FastifyRequest, context: PluginContext, subject: { userId: string, sessionId: string }): Promise<void> {
  await runCallback(request, 'onSessionBound', context.callbacks.onSessionBound, { ...subject, binding: 'dbsc', ip: request.ip, userAgent: request.headers['user-agent'] ?? null })
}

export async function proofRefused (request: FastifyRequest, context: PluginContext, reason: ProofRefusedReason, subject: { userId?: string, sessionId?: string } = {}): Promise<void> {
  await runCallback(request, 'onProofRefused', context.callbacks.onProofRefused, { binding: 'dbsc', reason, ...subject, ip: request.ip, userAgent: request.headers['user-agent'] ?? null })
}
