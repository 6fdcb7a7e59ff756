/**
 * argon2Queue's default on Linux with Node 22 and later: libuv's thread pool (where argon2 runs)
 * is lowered below the event loop's CPU priority when the app is ready, and the queue then runs a
 * verify per core. Read back from /proc, thread by thread; a pool thread the app had already put
 * lower stays where it was. (A lowered priority lasts for the process: the opposite case, the
 * option turned off, is argon2-pool-priority-off.test.ts, in a process of its own.)
 */
import t from 'tap'
import { availableParallelism, getPriority, setPriority } from 'node:os'
import { buildApp } from './helpers/build-app.js'
import { poolThreads } from './helpers/pool-threads.js'

const before = await poolThreads()
if (before.length === 0) {
  t.comment(`no thread named libuv-worker (${process.platform}, Node ${process.version}): the queue keeps a core free instead`)
  t.test('without named pool threads the queue falls back to the cores less one', async (t) => {
    const { app } = await buildApp(t)
    await app.ready()
    t.equal(app.refreshSessions.argon2Queue!.concurrency, Math.max(1, availableParallelism() - 1))
  })
} else {
  const eventLoop = getPriority()
  const atStart = before.map((thread) => getPriority(thread))
  const alreadyLower = before[0]!
  setPriority(alreadyLower, 19)

  t.test('once ready, every pool thread runs 10 nice levels below the event loop, and the queue takes a verify per core', async (t) => {
    t.same(atStart, before.map(() => eventLoop), 'the pool starts at the event loop\'s priority')
    const { app } = await buildApp(t)
    await app.ready()
    const threads = await poolThreads()
    t.same(threads, before, 'the same threads')
    t.same(threads.map((thread) => getPriority(thread)), threads.map((thread) => thread === alreadyLower ? 19 : Math.min(19, eventLoop + 10)), 'nice +10, and a thread already lower is left lower')
    t.equal(getPriority(), eventLoop, 'the event loop keeps its own')
    t.equal(app.refreshSessions.argon2Queue!.concurrency, availableParallelism())
  })
}
