/**
 * The binding hooks as DBSC fires them: `onSessionBound` when a registration binds a session,
 * `onProofRefused` when a proof (or its absence) is refused. The one place this module reaches
 * the app's callbacks.
 */
import type { FastifyRequest } from 'fastify'
import { runCallback } from '../../app-callbacks.js'
import type { PluginContext } from '../../context.js'

export interface SessionBoundEvent { userId: string, sessionId: string, binding: 'dbsc' | 'dpop', ip: string, userAgent: string | null }
export interface ProofRefusedEvent { binding: 'dbsc' | 'dpop', reason: string, userId?: string, sessionId?: string, ip: string, userAgent: string | null }

type Hook<E> = (event: E, request: FastifyRequest) => unknown
interface BindingHooks { onSessionBound?: Hook<SessionBoundEvent>, onProofRefused?: Hook<ProofRefusedEvent> }

function hooks (context: PluginContext): BindingHooks {
  return context.callbacks as BindingHooks
}

export async function sessionBound (request: FastifyRequest, context: PluginContext, subject: { userId: string, sessionId: string }): Promise<void> {
  await runCallback(request, 'onSessionBound', hooks(context).onSessionBound, { ...subject, binding: 'dbsc', ip: request.ip, userAgent: request.headers['user-agent'] ?? null })
}

export async function proofRefused (request: FastifyRequest, context: PluginContext, reason: string, subject: { userId?: string, sessionId?: string } = {}): Promise<void> {
  await runCallback(request, 'onProofRefused', hooks(context).onProofRefused, { binding: 'dbsc', reason, ...subject, ip: request.ip, userAgent: request.headers['user-agent'] ?? null })
}
