/**
 * preHandlers in both of Fastify's styles from one check. Fastify calls a hook with `done`: then
 * no promise is made when the check finishes at once (an async preHandler costs a promise and a
 * microtask on every request). Called without `done` (an app awaiting it, a wrapper), it returns a
 * promise. The check throws to refuse, and returns a promise only when it has to wait.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'

export type Check = (request: FastifyRequest, reply: FastifyReply) => unknown

export function preHandler (check: Check): preHandlerAsyncHookHandler {
  return function preHandler (request: FastifyRequest, reply: FastifyReply, done?: (error?: Error) => void) {
    let pending: unknown
    try {
      pending = check(request, reply)
    } catch (error) {
      if (done === undefined) return Promise.reject(error)
      done(error as Error)
      return undefined
    }
    if (pending instanceof Promise) {
      if (done === undefined) return pending.then(noResult)
      pending.then(() => { done() }, done)
      return undefined
    }
    if (done === undefined) return Promise.resolve()
    done()
    return undefined
  } as preHandlerAsyncHookHandler
}

const noResult = (): void => {}
