/**
 * A write that reaches Redis after its caller gave up changes nothing. The app answers 503 when
 * a command has not answered within the command timeout, but the command may still be on the
 * socket (Redis frozen, a failover, ioredis re-sending it after a reconnect) and run later: a
 * rotation the client never received would turn its next refresh into "reuse", a login nobody
 * holds would take a slot of the per-user cap. So every write script gets a deadline on Redis'
 * clock and, past it, writes nothing and answers 'late' (see lua/clock.lua).
 *
 * The deadline sits `margin` before the app's own timeout, so that a write that did happen has
 * time to be answered before the app gives up. Redis' clock is not the app's: the offset is
 * measured with TIME on every master (at start, after every reconnect, and every minute) and
 * kept as a lower bound (Redis time minus the app time *after* the answer arrived), the smallest
 * over the masters, so that an error in it only ever makes a deadline earlier, never later.
 */
import type { Cluster, Redis } from 'ioredis'

const REMEASURE_MS = 60_000

/** Between the latest moment a script may write and the app's timeout: room for its answer to arrive. */
export function deadlineMargin (timeoutMs: number): number {
  return Math.min(100, Math.max(5, Math.round(timeoutMs / 10)))
}

export class WriteDeadlines {
  readonly #redis: Redis | Cluster
  readonly #timeoutMs: number
  readonly #clock: (() => number) | undefined
  readonly #timer: NodeJS.Timeout | undefined
  /** Redis clock minus app clock, a lower bound; 0 until first measured. */
  #offsetMs = 0

  /** clock: a controlled clock (tests) on which the scripts also run: no offset then. */
  constructor (redis: Redis | Cluster, timeoutMs: number, clock?: () => number) {
    this.#redis = redis
    this.#timeoutMs = timeoutMs
    this.#clock = clock
    if (clock === undefined) {
      const measure = (): void => { this.measure().catch(() => {}) }
      redis.on('ready', measure)
      if (redis.status === 'ready') measure()
      this.#timer = setInterval(measure, REMEASURE_MS).unref()
    }
  }

  /** Redis clock minus app clock as last measured (a lower bound). */
  get offsetMs (): number {
    return this.#offsetMs
  }

  /** The deadline for a write sent now, in epoch ms on the scripts' clock. */
  deadline (): string {
    const now = this.#clock?.() ?? Date.now() + this.#offsetMs
    return String(now + this.#timeoutMs - deadlineMargin(this.#timeoutMs))
  }

  async measure (): Promise<void> {
    const nodes = 'nodes' in this.#redis ? this.#redis.nodes('master') : [this.#redis]
    let lowest: number | null = null
    for (const node of nodes) {
      const [seconds, micros] = await node.time()
      const answeredAt = Date.now()
      const offset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - answeredAt
      lowest = lowest === null ? offset : Math.min(lowest, offset)
    }
    if (lowest !== null) this.#offsetMs = lowest
  }

  close (): void {
    clearInterval(this.#timer)
  }
}
