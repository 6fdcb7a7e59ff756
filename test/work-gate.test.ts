/**
 * The work gate in front of argon2: at most `concurrency` jobs run, the rest wait first come first
 * served, exactly `maxQueued` of them; one more is refused at once, and a waiter whose signal
 * aborts leaves the queue. Jobs are finished by hand, so every count is exact (no timing).
 */
import t from 'tap'
import { setImmediate as tick } from 'node:timers/promises'
import { WorkGate } from '../src/work-gate.js'

const BUSY = { message: 'busy' }
const refuse = (): Error => new Error('busy')

/** Jobs the test finishes one by one; `started` lists them in the order they got a slot. */
function jobs (gate: WorkGate): { submit: (id: number, signal?: AbortSignal) => Promise<number>, started: number[], finish: (id: number) => void, peak: () => number } {
  const finishers = new Map<number, () => void>()
  const started: number[] = []
  let running = 0
  let peak = 0
  const submit = async (id: number, signal?: AbortSignal): Promise<number> => await gate.run(async () => {
    started.push(id)
    peak = Math.max(peak, ++running)
    await new Promise<void>((resolve) => finishers.set(id, resolve))
    running--
    return id
  }, signal)
  return { submit, started, finish: (id) => { finishers.get(id)!() }, peak: () => peak }
}

t.test('at most `concurrency` jobs run at once; each finished one lets exactly one waiter in', async (t) => {
  const gate = new WorkGate({ concurrency: 3, maxQueued: 100 }, refuse)
  const { submit, started, finish, peak } = jobs(gate)
  const results = Array.from({ length: 20 }, async (_, id) => await submit(id))
  await tick()
  t.same(started, [0, 1, 2], 'three started')
  t.same({ running: gate.running, queued: gate.queued }, { running: 3, queued: 17 })
  for (let done = 0; done < 20; done++) {
    finish(started[done]!)
    await tick()
    t.equal(started.length, Math.min(20, done + 4), `after ${done + 1} finished, ${Math.min(20, done + 4)} started`)
  }
  t.same(await Promise.all(results), Array.from({ length: 20 }, (_, id) => id), 'every job ran and returned its value')
  t.equal(peak(), 3, 'never more than 3 at once')
  t.same({ running: gate.running, queued: gate.queued }, { running: 0, queued: 0 })
})

t.test('waiters start first come, first served', async (t) => {
  const gate = new WorkGate({ concurrency: 1, maxQueued: 10 }, refuse)
  const { submit, started, finish } = jobs(gate)
  const results = [5, 3, 8, 1, 9, 2].map(async (id) => await submit(id))
  for (let i = 0; i < 6; i++) {
    await tick()
    finish(started[i]!)
  }
  await Promise.all(results)
  t.same(started, [5, 3, 8, 1, 9, 2])
})

t.test('the queue holds exactly maxQueued waiters: the next one is refused at once and never runs', async (t) => {
  const gate = new WorkGate({ concurrency: 2, maxQueued: 5 }, refuse)
  const { submit, started, finish } = jobs(gate)
  const accepted = Array.from({ length: 7 }, async (_, id) => await submit(id))
  await tick()
  t.same({ running: gate.running, queued: gate.queued }, { running: 2, queued: 5 })

  t.equal(gate.full, true, 'full: the next one would be refused')
  await t.rejects(submit(7), BUSY, 'the 6th waiter is refused')
  t.notOk(started.includes(7), 'its work never ran')
  t.same({ running: gate.running, queued: gate.queued }, { running: 2, queued: 5 }, 'nothing changed')

  finish(0)
  await tick()
  t.equal(gate.queued, 4, 'a finished job frees one place in the queue')
  t.equal(gate.full, false)
  const eighth = submit(8)
  await t.rejects(submit(9), BUSY, 'and only one')

  for (const id of [1, 2, 3, 4, 5, 6, 8]) {
    await tick()
    finish(id)
  }
  t.same(await Promise.all([...accepted, eighth]), [0, 1, 2, 3, 4, 5, 6, 8])
})

t.test('maxQueued 0: refused as soon as every slot is taken', async (t) => {
  const gate = new WorkGate({ concurrency: 1, maxQueued: 0 }, refuse)
  const { submit, finish } = jobs(gate)
  const first = submit(0)
  await t.rejects(submit(1), BUSY)
  finish(0)
  t.equal(await first, 0)
})

t.test('a waiter whose signal aborts leaves the queue, refused, and never runs; a running job is not interrupted', async (t) => {
  const gate = new WorkGate({ concurrency: 1, maxQueued: 2 }, refuse)
  const { submit, started, finish } = jobs(gate)
  const running = new AbortController()
  const waiting = new AbortController()
  const first = submit(0, running.signal)
  const second = submit(1, waiting.signal)
  const third = submit(2)
  await tick()
  t.equal(gate.queued, 2)

  waiting.abort()
  await t.rejects(second, BUSY, 'the aborted waiter is refused')
  t.equal(gate.queued, 1, 'and out of the queue')
  const fourth = submit(3)
  await tick()
  t.equal(gate.queued, 2, 'its place is free for another')

  running.abort()
  finish(0)
  t.equal(await first, 0, 'an abort once running changes nothing')
  await tick()
  finish(2)
  await tick()
  finish(3)
  t.same(await Promise.all([third, fourth]), [2, 3])
  t.same(started, [0, 2, 3], 'job 1 never ran')
})

t.test('an already aborted signal is refused even with a free slot', async (t) => {
  const gate = new WorkGate({ concurrency: 1, maxQueued: 1 }, refuse)
  await t.rejects(gate.run(async () => 1, AbortSignal.abort()), BUSY)
  t.same({ running: gate.running, queued: gate.queued }, { running: 0, queued: 0 })
})

t.test('a job that throws frees its slot for the next waiter', async (t) => {
  const gate = new WorkGate({ concurrency: 1, maxQueued: 1 }, refuse)
  let fail: (error: Error) => void = () => {}
  const failing = gate.run(async () => await new Promise((_resolve, reject) => { fail = reject }))
  const next = gate.run(async () => 'ran')
  await tick()
  fail(new Error('argon2 failed'))
  await t.rejects(failing, { message: 'argon2 failed' })
  t.equal(await next, 'ran')
  t.same({ running: gate.running, queued: gate.queued }, { running: 0, queued: 0 })
})

t.test('limits are positive integers (concurrency) and non-negative integers (maxQueued)', async (t) => {
  for (const concurrency of [0, -1, 1.5, Number.NaN]) t.throws(() => new WorkGate({ concurrency, maxQueued: 1 }, refuse), TypeError, `concurrency ${concurrency}`)
  for (const maxQueued of [-1, 0.5]) t.throws(() => new WorkGate({ concurrency: 1, maxQueued }, refuse), TypeError, `maxQueued ${maxQueued}`)
})

t.test('limit: a higher bound admits that many waiters at once, in order; a lower one lets running jobs finish', async (t) => {
  const gate = new WorkGate({ concurrency: 1, maxQueued: 10 }, refuse)
  const { submit, started, finish, peak } = jobs(gate)
  const results = Array.from({ length: 6 }, async (_, id) => await submit(id))
  await tick()
  t.same(started, [0])
  gate.limit(3)
  await tick()
  t.same(started, [0, 1, 2], 'two waiters admitted at once, first come first served')
  t.same({ concurrency: gate.concurrency, running: gate.running, queued: gate.queued }, { concurrency: 3, running: 3, queued: 3 })
  gate.limit(1)
  finish(0)
  finish(1)
  await tick()
  t.same(started, [0, 1, 2], 'no one admitted while more than the new bound still run')
  finish(2)
  await tick()
  t.same(started, [0, 1, 2, 3], 'one at a time again')
  for (const id of [3, 4, 5]) {
    finish(id)
    await tick()
  }
  await Promise.all(results)
  t.equal(peak(), 3)
  t.throws(() => { gate.limit(0) }, TypeError, 'a bound below 1 is refused')
})
