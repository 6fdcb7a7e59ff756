/**
 * The plugin's routes, in an encapsulated (non-fp) scope registered with { prefix }: their error
 * handler, body limit and cookie parser stay theirs and never change the app's.
 */
import fastifyCookie from '@fastify/cookie'
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { ValueError } from '@sinclair/typebox/errors'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { PluginContext } from '../../context.js'
import { InternalError, RouteNotFoundError } from '../../errors.js'
import { loggableError, redact, requestSecrets } from '../../redact.js'
import { acceptEmptyBodies } from '../empty-bodies.js'
import { dbscRoutes } from '../../binding/dbsc/routes.js'
import { loginRoute } from './login.js'
import { logoutRoutes } from './logout.js'
import { reauthenticateRoute } from './reauthenticate.js'
import { refreshRoute } from './refresh.js'
import { sessionRoutes } from './sessions.js'

/** Far above any legitimate login or refresh body; a 2 MB body is refused before it is parsed. */
const ROUTE_BODY_LIMIT = 16 * 1024

export async function authRoutes (fastify: FastifyInstance, { context }: { context: PluginContext }): Promise<void> {
  if (!fastify.hasRequestDecorator('cookies')) await fastify.register(fastifyCookie)
  fastify.setErrorHandler(authErrorHandler)
  // The prefix is ours: an unmatched URL under it gets a stable code too (the app's routes still match first).
  fastify.setNotFoundHandler(async (_request, reply) => reply.code(404).send(new RouteNotFoundError()))
  fastify.setValidatorCompiler(strictValidator)
  fastify.addHook('onRoute', (route) => { route.bodyLimit ??= ROUTE_BODY_LIMIT })
  loginRoute(fastify, context)
  await fastify.register(async function tokenRoutes (scope) {
    acceptEmptyBodies(scope)
    refreshRoute(scope, context)
    logoutRoutes(scope, context)
    if (context.dbsc !== null) dbscRoutes(scope, context, context.dbsc)
  })
  sessionRoutes(fastify, context)
  if (context.options.routes.reauthenticate !== false) reauthenticateRoute(fastify, context, context.options.routes.reauthenticate)
}

/**
 * Our request schemas are checked without coercion. Fastify's default Ajv coerces types, so
 * `{ "username": ["alice"], "password": ["..."] }` logged in and `{ "password": 12345678 }` was
 * compared as a string: an auth API refuses such bodies (400 FST_ERR_VALIDATION) instead of
 * guessing. Errors go out Ajv-shaped, so the app's schemaErrorFormatter still applies.
 */
const strictValidator: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const checker = TypeCompiler.Compile(schema)
  const validate = (data: unknown): boolean => {
    if (checker.Check(data)) return true
    const error = deepest(checker.Errors(data).First())
    validate.errors = [{ keyword: 'type', schemaPath: '', params: {}, instancePath: error?.path ?? '', message: (error?.message ?? 'is invalid').replace(/^Expected/, 'expected') }]
    return false
  }
  validate.errors = [] as FastifySchemaValidationError[]
  return validate
}

/** A union's own error says only "Expected union value": report its first branch's first error. */
function deepest (error: ValueError | undefined): ValueError | undefined {
  const inner = error?.errors[0]?.First()
  return inner === undefined ? error : deepest(inner)
}

/**
 * Client errors keep their stable code; our 5xx keep theirs (503 AUTH_STORE_UNAVAILABLE, 503
 * AUTH_LOGIN_BUSY with Retry-After);
 * anything else (a throwing findUser, a bug) is logged and answered without its details.
 */
export function authErrorHandler (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500 && typeof error.code === 'string') {
    void reply.code(status).send(error)
    return
  }
  if (status === 503 && error.code === 'AUTH_LOGIN_BUSY') {
    // Load shed, not a fault (Retry-After is set where it is thrown): Fastify's response log line is enough.
    void reply.code(503).send(error)
    return
  }
  if (status === 503 && error.code === 'AUTH_STORE_UNAVAILABLE') {
    const cause = (error.cause as Error | undefined)?.message
    request.log.warn({ code: error.code, cause: cause === undefined ? undefined : redact(cause, requestSecrets(request)) }, 'session store unavailable')
    void reply.code(503).send(error)
    return
  }
  request.log.error({ err: loggableError(error, requestSecrets(request)) }, 'fastify-refresh-sessions: request failed')
  void reply.code(500).send(new InternalError())
}
