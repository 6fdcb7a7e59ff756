/**
 * The demo (examples/tasks-api) in-process on 127.0.0.1, on port 0 unless told, for the tests that
 * talk to it over real HTTP (the Node client, Chromium). It counts what reached the server:
 * every POST /auth/refresh, and a log of every request with its status.
 */
import { createHash } from 'node:crypto'
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
