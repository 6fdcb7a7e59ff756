/**
 * Puts libuv's thread pool, where argon2 runs, below the event loop in the CPU scheduler's eyes:
 * on a saturated machine a verify then waits for the event loop, never the reverse, so the routes
 * keep their latency while argon2 still gets every cycle the event loop leaves. The argon2 queue
 * can then run a verify per core (the logins/s of an unbounded pool) instead of keeping one core
 * free for the event loop.
 *
 * Linux only: there a nice value belongs to each thread (setpriority takes a thread id), and Node
 * 22 and later name the pool's threads `libuv-worker`. No library does this; it is /proc and
 * os.setPriority. A lowered priority cannot be raised back without privileges, so it lasts as long
 * as the process (the pool is the process's, as is the decision).
 */
import { randomFill } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/** Niceness added to the event loop's: CPU weight 110 against 1 024, enough to lose every wakeup race, not so little that a saturated core starves logins. */
export const POOL_NICENESS = 10
const LOWEST_PRIORITY = 19
const POOL_THREAD_NAME = 'libuv-worker\n'

/** How many of the pool's threads now run below the event loop (0: none found, nothing changed). */
export async function lowerThreadPoolPriority (): Promise<number> {
  if (process.platform !== 'linux') return 0
  // libuv starts its pool on first use: one tiny job makes sure its threads exist.
  await new Promise((resolve) => { randomFill(new Uint8Array(1), resolve) })
  let tasks: string[]
  try {
    tasks = readdirSync('/proc/self/task')
  } catch {
    return 0
  }
  const target = Math.min(LOWEST_PRIORITY, getPriority() + POOL_NICENESS)
  let below = 0
  for (const task of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${task}/comm`, 'latin1') !== POOL_THREAD_NAME) continue
      const threadId = Number(task)
      // A thread the app already put lower stays there.
      if (getPriority(threadId) < target) setPriority(threadId, target)
      below++
    } catch {
      // A thread that ended meanwhile, or a sandbox that refuses: left as it is.
    }
  }
  return below
}
