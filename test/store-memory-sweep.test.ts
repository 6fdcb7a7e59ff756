/**
 * The MemoryStore's periodic sweep: expired sessions leave memory even when nobody touches them
 * again (as Redis drops expired keys), so a process that runs for months holds only live ones.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryStore } from '../src/session/memory-store.js'
import { SessionCore } from '../src/session/session-core.js'

const LIMITS = { idleTtlMs: 1_000, absoluteTtlMs: 5_000, reuseGraceMs: 100, maxSessionsPerUser: 10 }

t.test('expired sessions are swept out without being touched; live ones stay', async (t) => {
  let now = Date.now()
  const store = new MemoryStore({ ...LIMITS, clock: () => now, sweepIntervalMs: 20 })
  t.teardown(() => store.close())
  const sessions = new SessionCore(store)
  for (let i = 0; i < 20; i++) await sessions.create(`sweep-${i % 4}`)
  t.equal(store.size, 20, 'all held')
  now += 500
  const { session: fresh } = await sessions.create('sweep-fresh')
  now += 600 // the first 20 are past their idle TTL, the fresh one is not
  // Nothing touches the store now: only the sweep can drop them. It runs every 20 ms; wait for it by counting, not by a deadline.
  for (let i = 0; i < 500 && store.size !== 1; i++) await sleep(20)
  t.equal(store.size, 1, 'only the live session is held')
  t.equal(await sessions.isLive('sweep-fresh', fresh.id), true)
})

t.test('close stops the sweep', async (t) => {
  let now = Date.now()
  const store = new MemoryStore({ ...LIMITS, clock: () => now, sweepIntervalMs: 20 })
  await new SessionCore(store).create('closed')
  await store.close()
  now += 2_000
  await sleep(100)
  t.equal(store.size, 1, 'no sweep ran after close')
})
