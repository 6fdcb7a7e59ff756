/**
 * P4's baseline: argon2.verify of a hash with the default parameters, as fast as this machine
 * goes at the load's concurrency (50 verifies in flight, on libuv's default 4 threads, as in the
 * server), in a process of its own. Not a server: the runner sends `run` and gets `result`.
 */
import argon2 from 'argon2'
import { guardChild, onMessage, send } from '../lib/child.js'
import { DEFAULT_ARGON2, PASSWORD } from '../lib/fixtures.js'

guardChild()
const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, ...DEFAULT_ARGON2 })

async function verifyFor (ms: number, concurrency: number): Promise<{ count: number, seconds: number, latencies: number[] }> {
  const start = performance.now()
  const end = start + ms
  const latencies: number[] = []
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now()
      if (!await argon2.verify(hash, PASSWORD)) throw new Error('argon2 verify failed')
      latencies.push(performance.now() - t0)
    }
  }))
  return { count: latencies.length, seconds: (performance.now() - start) / 1000, latencies }
}

onMessage(async (message) => {
  if (message.type === 'stop') process.exit(0)
  if (message.type !== 'run') return
  const { warmupMs, measureMs, concurrency } = message as unknown as { warmupMs: number, measureMs: number, concurrency: number }
  if (warmupMs > 0) await verifyFor(warmupMs, concurrency)
  const cpu = process.cpuUsage()
  const { count, seconds, latencies } = await verifyFor(measureMs, concurrency)
  const used = process.cpuUsage(cpu)
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  send({ type: 'result', result: { total: count, seconds, rps: count / seconds, p50: at(0.5), p99: at(0.99), serverCpuUs: used.user + used.system } })
})
send({ type: 'ready', port: 0, data: null })
