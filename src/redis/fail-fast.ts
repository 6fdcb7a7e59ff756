/**
 * Fail fast instead of queueing behind a dead connection: shared by every Redis-backed part of
 * the plugin (session store, login limiter), so a Redis that is down or slow is a 503 within the
 * command timeout everywhere, never a hang and never a 500.
 */
import type { Cluster, Redis } from 'ioredis'
import { DEFAULTS } from '../defaults.js'
import { StoreUnavailableError } from '../errors.js'
import { batchWrites } from './write-batch.js'

/** ioredis states in which a command would wait for a connection instead of being sent. */
const DOWN_STATES = new Set(['reconnecting', 'close', 'end'])

/**
 * Runs `command`; every fault, and no answer within `timeoutMs`, becomes StoreUnavailableError
 * (with `cause`). Written to the socket with the other commands of this event-loop turn (see
 * write-batch.ts). One promise and one timer per command: this is on every refresh's path.
 */
export function failFast<T> (redis: Redis | Cluster, timeoutMs: number, command: () => Promise<T>): Promise<T> {
  if (DOWN_STATES.has(redis.status)) return Promise.reject(new StoreUnavailableError({ cause: new Error(`redis is ${redis.status}`) }))
  batchWrites(redis)
  // The timer's callback and the error mapping are module functions: fewer closures per command.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(giveUp, timeoutMs, reject, timeoutMs)
    let sent: Promise<T>
    try {
      sent = command()
    } catch (error) {
      clearTimeout(timer)
      reject(unavailable(error))
      return
    }
    sent.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (error: unknown) => {
      clearTimeout(timer)
      reject(unavailable(error))
    })
  })
}

/**
 * Timers run before I/O in Node's loop: after a stall both may be due at once. Giving up one turn
 * later lets an answer that has already arrived win, so a write that happened (see
 * write-deadline.ts) is never answered 503.
 */
function giveUp (reject: (error: unknown) => void, timeoutMs: number): void {
  setImmediate(() => reject(new StoreUnavailableError({ cause: new Error(`redis did not answer within ${timeoutMs} ms`) })))
}

function unavailable (error: unknown): Error {
  return error instanceof StoreUnavailableError ? error : new StoreUnavailableError({ cause: error })
}

/** A command timeout option, checked once at construction. */
export function validateCommandTimeout (value: number | undefined): number {
  const timeoutMs = value ?? DEFAULTS.commandTimeoutMs
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`commandTimeoutMs must be a positive integer, got ${String(value)}`)
  return timeoutMs
}
