/**
 * A bound on concurrent CPU-heavy work (argon2) with a bounded first-come-first-served queue: at
 * most `concurrency` jobs run at once, at most `maxQueued` wait, and one more is refused at once
 * (`refuse()`), rather than every job waiting longer as a flood grows. argon2 runs on libuv's
 * thread pool: left alone, a login flood keeps every pool thread busy, and on a machine with few
 * cores the event loop, which serves every other route, waits for a core behind them.
 *
 * A waiting job whose `signal` aborts (its client went away) leaves the queue and is refused too:
 * a flood of abandoned requests does not pile up verifies nobody will read.
 */
export interface WorkGateLimits {
  /** Jobs running at once. */
  concurrency: number
  /** Jobs waiting for a slot; the next one is refused. */
  maxQueued: number
}

interface Waiter {
  admit: () => void
  refuse: () => void
}

export class WorkGate {
  #concurrency: number
  readonly #maxQueued: number
  readonly #refuse: () => Error
  #running = 0
  /** A Set keeps insertion order (FIFO) and drops an aborted waiter in O(1). */
  readonly #queue = new Set<Waiter>()

  constructor ({ concurrency, maxQueued }: WorkGateLimits, refuse: () => Error) {
    if (!Number.isSafeInteger(maxQueued) || maxQueued < 0) throw new TypeError(`maxQueued must be a non-negative integer, got ${String(maxQueued)}`)
    this.#concurrency = 0
    this.limit(concurrency)
    this.#maxQueued = maxQueued
    this.#refuse = refuse
  }

  get concurrency (): number { return this.#concurrency }
  get running (): number { return this.#running }
  get queued (): number { return this.#queue.size }
  /** `run` would refuse now: every slot taken and the queue full. */
  get full (): boolean { return this.#running >= this.#concurrency && this.#queue.size >= this.#maxQueued }

  /** A new bound: more slots admit waiters at once; fewer let running jobs finish. */
  limit (concurrency: number): void {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new TypeError(`concurrency must be a positive integer, got ${String(concurrency)}`)
    this.#concurrency = concurrency
    while (this.#running < this.#concurrency && this.#queue.size > 0) {
      const waiter = this.#queue.values().next().value!
      this.#queue.delete(waiter)
      this.#running++
      waiter.admit()
    }
  }

  /** Runs `work` when a slot is free; rejects with `refuse()` when the queue is full or `signal` aborts first. */
  async run<T> (work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#enter(signal)
    try {
      return await work()
    } finally {
      this.#leave()
    }
  }

  #enter (signal: AbortSignal | undefined): Promise<void> | undefined {
    if (signal?.aborted === true) throw this.#refuse()
    if (this.#running < this.#concurrency) {
      this.#running++
      return undefined
    }
    if (this.#queue.size >= this.#maxQueued) throw this.#refuse()
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener('abort', waiter.refuse)
          resolve()
        },
        refuse: () => {
          this.#queue.delete(waiter)
          reject(this.#refuse())
        }
      }
      this.#queue.add(waiter)
      signal?.addEventListener('abort', waiter.refuse, { once: true })
    })
  }

  #leave (): void {
    const next = this.#queue.values().next()
    // Beyond a bound lowered meanwhile (limit), the slot closes instead.
    if (next.done === true || this.#running > this.#concurrency) {
      this.#running--
      return
    }
    // The slot passes to the next waiter: `running` is unchanged.
    this.#queue.delete(next.value)
    next.value.admit()
  }
}
