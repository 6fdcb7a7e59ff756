/**
 * The demo (examples/tasks-api) in-process on 127.0.0.1, on port 0 unless told, for the tests that
 * talk to it over real HTTP (the Node client, Chromium). It counts what reached the server:
 * every POST /auth/refresh, and a log of every request with its status.
 *
 * `spawnDemo` runs it as `npm run demo` does instead (examples/tasks-api/server.ts in its own
 * process), for the tests of what a person sees on the console.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { buildTasksApi } from '../../examples/tasks-api/app.js'
import { readConfig } from '../../examples/tasks-api/config.js'
import type { Users } from '../../examples/tasks-api/users.js'

export interface SeenRequest {
  method: string
  path: string
  statusCode: number
  /** ms since the epoch, when the response was sent */
  at: number
  /** A short sha256 fingerprint of the Bearer token sent, or null: tells tabs' tokens apart without logging them. */
  bearer: string | null
}

export interface DemoServer {
  /** http://127.0.0.1:PORT */
  readonly url: string
  readonly port: number
  readonly app: FastifyInstance
  readonly users: Users
  /** POST /auth/refresh requests that reached the server since start (or the last reset). */
  refreshRequests (): number
  resetRefreshRequests (): void
  /** Every answered request since start, in order. */
  requests (): SeenRequest[]
  /** Log lines (JSON) at level warn and above, when started with `captureLogs`. */
  logs (): string[]
  /** Idempotent. */
  close (): Promise<void>
}

export interface DemoServerOptions {
  /** SPEC 7 environment (PORT / HOST are ignored: 127.0.0.1 and `port`). */
  env?: Record<string, string>
  /** Default 0: a free port. Give the port of a closed demo to "restart" it. */
  port?: number
  /** Keep warn+ log lines for `logs()` (default: logger off). */
  captureLogs?: boolean
  serverOptions?: FastifyServerOptions
}

interface Teardownable { teardown (fn: () => unknown): void }

export async function startDemo (t: Teardownable, options: DemoServerOptions = {}): Promise<DemoServer> {
  const lines: string[] = []
  const logger = options.captureLogs === true
    ? { level: 'warn', stream: new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done() } }) }
    : false
  const { app, users } = await buildTasksApi(readConfig({ ...options.env }), { logger, ...options.serverOptions })

  let refreshes = 0
  const seen: SeenRequest[] = []
  const pathOf = (url: string): string => url.split('?')[0]!
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && pathOf(request.url) === '/auth/refresh') refreshes++
  })
  app.addHook('onResponse', async (request, reply) => {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1]
    const bearer = token === undefined ? null : createHash('sha256').update(token).digest('hex').slice(0, 12)
    seen.push({ method: request.method, path: pathOf(request.url), statusCode: reply.statusCode, at: Date.now(), bearer })
  })

  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await app.close()
  }
  t.teardown(close)
  try {
    await app.listen({ host: '127.0.0.1', port: options.port ?? 0 })
  } catch (error) {
    await close()
    throw error
  }
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the demo is not listening on a TCP port')

  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    app,
    users,
    refreshRequests: () => refreshes,
    resetRefreshRequests: () => { refreshes = 0 },
    requests: () => [...seen],
    logs: () => [...lines],
    close
  }
}

export interface SpawnedDemo {
  /** http://127.0.0.1:PORT, read from the demo's own log */
  readonly url: string
  /** Everything the process wrote to stdout so far, split into lines (ANSI colours kept). */
  stdout (): string[]
  stderr (): string
  /** Waits (polling, up to `timeoutMs`) until a stdout line matches; returns it. */
  waitForLine (pattern: RegExp, timeoutMs?: number): Promise<string>
  /** SIGTERM to the process group we started; idempotent. */
  stop (): Promise<void>
}

export interface SpawnDemoOptions {
  /** The demo's environment besides PORT=0 and HOST=127.0.0.1. */
  env?: Record<string, string>
  /** Run under `script`, so the demo's stdout is a pseudo-terminal (as on a person's console). */
  tty?: boolean
  /** How long the demo may take to listen (default 120 s: argon2 seeds two users, tsx compiles). */
  startTimeoutMs?: number
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g
/** A line without its ANSI colours and carriage return. */
export const plain = (line: string): string => line.replace(ANSI, '').replace(/\r$/, '')

export async function spawnDemo (t: Teardownable, options: SpawnDemoOptions = {}): Promise<SpawnedDemo> {
  // The demo runs as a user's plain Node with tsx: tap puts its loader hooks into NODE_OPTIONS.
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, PORT: '0', HOST: '127.0.0.1' }
  delete env.NODE_OPTIONS
  delete env.LOG_LEVEL
  const node = [process.execPath, '--import', import.meta.resolve('tsx/esm'), 'examples/tasks-api/server.ts']
  const [command, args] = options.tty === true
    ? ['script', ['-qfec', node.map((part) => `'${part}'`).join(' '), '/dev/null']] as const
    : [node[0]!, node.slice(1)] as const
  // detached: its own process group, so stop() reaches the demo under `script` too, and nothing else.
  const child = spawn(command, [...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try { process.kill(-child.pid, 'SIGTERM') } catch {}
      await exited
    }
  }
  t.teardown(stop)

  const stdout = (): string[] => out.split('\n').filter((line) => line.trim() !== '')
  const waitForLine = async (pattern: RegExp, timeoutMs = 60_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = stdout().find((candidate) => pattern.test(plain(candidate)))
      if (line !== undefined) return line
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the demo exited (${child.exitCode ?? child.signalCode}) before a line matched ${pattern}:\n${out}\n${err}`)
      if (Date.now() > deadline) throw new Error(`no line matched ${pattern} within ${timeoutMs} ms:\n${out}\n${err}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const listening = plain(await waitForLine(/Server listening at http:\/\/127\.0\.0\.1:\d+/, options.startTimeoutMs ?? 120_000))
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(listening)![1]!
  return { url, stdout, stderr: () => err, waitForLine, stop }
}
