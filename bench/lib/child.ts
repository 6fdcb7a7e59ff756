/**
 * The scenario side of the runner's protocol (one scenario server per process, over IPC):
 *
 *   child  -> runner  { type: 'ready', port, data }   listening on 127.0.0.1:port; data: tokens etc.
 *   runner -> child   { type: 'stats' }               child -> runner { type: 'stats', stats, at, cpu }
 *                                                     (at: nowUs(); cpu: process.cpuUsage(), all threads)
 *   runner -> child   { type: 'stop' }                close, then exit 0 (so --cpu-prof writes its file)
 *
 * A child whose runner is gone (IPC closed) exits at once: no orphan keeps a port or a core.
 */
import type { FastifyInstance } from 'fastify'

export interface ReadyMessage { type: 'ready', port: number, data: unknown }
export type RunnerMessage = { type: 'stats' } | { type: 'stop' } | { type: 'run', [key: string]: unknown }

export function send (message: object): void {
  if (process.send === undefined) throw new Error('bench scenarios run as children of bench/run.ts (they need an IPC channel)')
  process.send(message)
}

/** Exit when the runner goes away, and report a crash instead of dying silently. */
export function guardChild (): void {
  process.on('disconnect', () => process.exit(1))
  process.on('uncaughtException', (error) => {
    try { send({ type: 'error', message: error.stack ?? String(error) }) } catch {}
    process.exit(1)
  })
}

/** Listen on a free loopback port, hand `data` to the runner, answer stats, stop on request. */
export async function serve (app: FastifyInstance, data: unknown = null, stats: () => unknown = () => ({})): Promise<void> {
  guardChild()
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  onMessage(async (message) => {
    if (message.type === 'stats') send({ type: 'stats', stats: stats(), at: nowUs(), cpu: process.cpuUsage() })
    if (message.type === 'stop') {
      await app.close()
      process.exit(0)
    }
  })
  send({ type: 'ready', port: address.port, data } satisfies ReadyMessage)
}

export function onMessage (handler: (message: RunnerMessage) => void | Promise<void>): void {
  process.on('message', (message: RunnerMessage) => {
    Promise.resolve(handler(message)).catch((error: unknown) => {
      send({ type: 'error', message: (error as Error).stack ?? String(error) })
      process.exit(1)
    })
  })
}

/** Scenario settings the runner passes through the environment. */
export const env = {
  redisUrl (): string {
    const url = process.env.BENCH_REDIS_URL
    if (url === undefined || url === '') throw new Error('BENCH_REDIS_URL is not set: this scenario needs the Redis the runner starts')
    return url
  },
  /** How many distinct tokens / sessions to mint at start (default 1000). */
  tokens (): number {
    return Number(process.env.BENCH_TOKENS ?? 1000)
  },
  /** The login scenarios' argon2Queue: BENCH_ARGON2_QUEUE=off, or `concurrency,maxQueued`; unset: the plugin's default. */
  argon2Queue (): false | { concurrency: number, maxQueued: number } | undefined {
    const value = process.env.BENCH_ARGON2_QUEUE
    if (value === undefined || value === '') return undefined
    if (value === 'off') return false
    const [concurrency, maxQueued] = value.split(',').map(Number)
    return { concurrency: concurrency!, maxQueued: maxQueued! }
  }
}

/** The monotonic clock V8 stamps CPU profile samples with, in µs: the runner marks the measured window with it. */
function nowUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}
