/**
 * A signal that aborts when the client closes its connection before its answer is sent: a login
 * still waiting for argon2 then gives up its place. Not `request.signal`: Node emits the
 * request's own 'close' once its body has been read, so a signal taken in a handler never aborts;
 * the response's 'close' comes with the connection's (or after the answer, when nothing waits).
 */
import type { FastifyReply } from 'fastify'

const signals = new WeakMap<FastifyReply, AbortSignal>()

/** One signal per reply, however often asked (the password check, then the rehash). */
export function clientGone (reply: FastifyReply): AbortSignal {
  let signal = signals.get(reply)
  if (signal === undefined) {
    const controller = new AbortController()
    const response = reply.raw
    response.once('close', () => { if (!response.writableFinished) controller.abort() })
    signal = controller.signal
    signals.set(reply, signal)
  }
  return signal
}
