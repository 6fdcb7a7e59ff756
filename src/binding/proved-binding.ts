/**
 * The device key a login or refresh request proved it holds, as the binding the session core
 * checks: a DPoP proof when the request carries one, else a valid DBSC bound cookie for the
 * session it refreshes. A DPoP proof that is there but wrong refuses the request (never "no
 * proof"). A client named in `requireBinding.clients` must prove one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { runCallback } from '../app-callbacks.js'
import type { PluginContext } from '../context.js'
import { BindingRequiredError } from '../errors.js'
import type { Session } from '../session/store.js'
import { parseBinding, type Binding } from '../session/binding.js'

export async function provedBinding (request: FastifyRequest, reply: FastifyReply, context: PluginContext, clientId: string | null, sessionId: string | null = null): Promise<Binding | null> {
  let binding: Binding | null = null
  const { dpop, dbsc } = context
  if (dpop !== null && dpop.proofOf(request) !== undefined) binding = { kind: 'dpop', thumbprint: await dpop.verify(request, reply) }
  else if (dbsc !== null) binding = dbsc.provedBinding(request, sessionId)
  if (binding === null && clientId !== null && context.options.requireBinding.clients.includes(clientId)) {
    if (dpop !== null) reply.header('www-authenticate', `DPoP ${dpop.algs}`)
    throw new BindingRequiredError()
  }
  return binding
}

/** onSessionBound, for a session bound by this request (at login, or by the refresh that first proved a key). */
export async function reportBound (request: FastifyRequest, context: PluginContext, session: Session): Promise<void> {
  const kind = parseBinding(session.binding)?.kind
  if (kind === undefined) return
  await runCallback(request, 'onSessionBound', context.callbacks.onSessionBound, {
    userId: session.userId, sessionId: session.id, binding: kind, ip: request.ip, userAgent: request.headers['user-agent'] ?? null
  })
}

/** A bound session's refresh without its key: onProofRefused with what the request did prove (`key`) or did not (`unproved`). */
export async function reportUnbound (request: FastifyRequest, context: PluginContext, proved: Binding | null, { userId, sessionId }: { userId: string, sessionId: string }): Promise<void> {
  await runCallback(request, 'onProofRefused', context.callbacks.onProofRefused, {
    binding: proved?.kind ?? null, reason: proved === null ? 'unproved' : 'key', userId, sessionId, ip: request.ip, userAgent: request.headers['user-agent'] ?? null
  })
}
