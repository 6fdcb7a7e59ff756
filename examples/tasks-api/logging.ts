/**
 * The demo's logs, for a person at a terminal and for a machine otherwise:
 *
 * - pretty (pino-pretty) when stdout is a TTY, JSON lines otherwise (tests, CI, a log shipper);
 * - one line per request, `POST /auth/login 401 AUTH_INVALID_CREDENTIALS`, instead of Fastify's
 *   "incoming request" + "request completed" pair;
 * - an expected client error (4xx: a wrong password, an expired token, a validation error, a 429)
 *   is that one line at info with its code, never a stack trace. Fastify's default error handler
 *   logs every error it is handed with `err` (stack included), and the plugin's own error handler
 *   hands its 4xx on to it; only 5xx keep Fastify's error line with the stack.
 */
import type { Writable } from 'node:stream'
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'

/** The fields of the one-line request log; pretty mode shows them through the message only. */
const REQUEST_FIELDS = ['method', 'url', 'statusCode', 'code', 'ms'] as const

export class DemoLogController extends LogController {
  /** The code of the 4xx error a request was answered with, handed from the error log to the request line. */
  readonly #codes = new WeakMap<FastifyRequest, string>()

  override incomingRequest (): void {}

  override routeNotFound (): void {}

  override defaultErrorLog (error: Error, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (reply.statusCode >= 500) {
      super.defaultErrorLog(error, request, reply, metadata)
      return
    }
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') this.#codes.set(request, code)
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error !== null && error !== undefined) {
      super.requestCompleted(error, request, reply, metadata)
      return
    }
    if (this.isLogDisabled(request)) return
    const code = this.#codes.get(request)
    const { method, url } = request
    const statusCode = reply.statusCode
    const ms = Math.round(reply.elapsedTime * 10) / 10
    reply.log.info({ method, url, statusCode, ...(code !== undefined && { code }), ms }, `${method} ${url} ${statusCode}${code === undefined ? '' : ` ${code}`} (${ms} ms)`)
  }
}

export interface DemoLoggingOptions {
  level: string
  /** Pretty output (pino-pretty) instead of JSON lines: `process.stdout.isTTY` in `npm run demo`. */
  pretty: boolean
  /** Where JSON lines go (default stdout); ignored when pretty. */
  stream?: Writable
}

/** The logger options of the demo's Fastify server. */
export async function demoLogging (options: DemoLoggingOptions): Promise<Pick<FastifyServerOptions, 'logger' | 'logController'>> {
  const logController = new DemoLogController()
  if (!options.pretty) {
    return { logger: { level: options.level, ...(options.stream !== undefined && { stream: options.stream }) }, logController }
  }
  // In the main thread (no transport worker), so nothing is lost when the demo exits on Ctrl-C.
  const { default: pretty } = await import('pino-pretty')
  const stream = pretty({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: ['pid', 'hostname', 'reqId', ...REQUEST_FIELDS].join(','),
    sync: true
  })
  return { logger: { level: options.level, stream }, logController }
}
