/**
 * `argon2Queue: { lowerPoolPriority: false }` leaves libuv's thread pool at the event loop's CPU
 * priority, and the queue keeps a core free for the event loop (the cores less one).
 */
import t from 'tap'
import { availableParallelism, getPriority } from 'node:os'
import { buildApp } from './helpers/build-app.js'
import { poolThreads } from './helpers/pool-threads.js'

t.test('lowerPoolPriority false: the pool keeps the event loop\'s priority; the cores less one at once', async (t) => {
  const { app } = await buildApp(t, { options: { argon2Queue: { lowerPoolPriority: false } } })
  await app.ready()
  const threads = await poolThreads()
  t.same(threads.map((thread) => getPriority(thread)), threads.map(() => getPriority()))
  t.equal(app.refreshSessions.argon2Queue!.concurrency, Math.max(1, availableParallelism() - 1))
})
