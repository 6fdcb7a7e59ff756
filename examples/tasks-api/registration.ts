/**
 * POST /auth/register and the rules around it: bodies checked without coercion (as the plugin's
 * own routes are), at most REGISTRATIONS_PER_MINUTE attempts per client ip, and a password rule.
 * Every refusal is a 4xx with a stable code.
 */
import fastifyRateLimit from '@fastify/rate-limit'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { FastifyInstance, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import { bodyErrors, errorBody } from './error-schemas.js'
import type { Users } from './users.js'

/** Each attempt that passes schema validation costs an argon2 hash: counted per ip, per minute. */
export const REGISTRATIONS_PER_MINUTE = 5
export const MIN_PASSWORD_LENGTH = 12

/** A few of the most common passwords of 12+ characters; a real service would check a breach corpus. */
const COMMON_PASSWORDS = new Set([
  '123456789012', '1234567890123', '12345678901234', '111111111111', '000000000000', 'password1234',
  'password12345', 'password123456', 'passwordpassword', 'qwertyuiopas', 'qwerty123456', 'qwertyqwerty',
  'iloveyou1234', 'letmein12345', 'welcome12345', 'changeme1234', 'administrator', 'abcdefghijkl',
  'abc123abc123', 'trustno1trustno1', 'football1234', 'baseball1234', 'monkey123456', 'dragon123456'
])

const Registration = Type.Object({
  username: Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
  password: Type.String({ minLength: 1, maxLength: 256 })
}, { additionalProperties: false })

/** Why a password is refused, or null when it passes. */
export function weakPassword (username: string, password: string): string | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `The password must have at least ${MIN_PASSWORD_LENGTH} characters`
  const lower = password.toLowerCase()
  if (COMMON_PASSWORDS.has(lower)) return 'That password is too common'
  if (new Set(lower).size === 1) return 'The password must not repeat one character'
  if (lower === username.toLowerCase()) return 'The password must not be the username'
  return null
}

/**
 * Fastify's default Ajv coerces (`{"password":["12345678"]}` became a string): the demo's routes
 * are checked with TypeBox's compiler instead, errors shaped as Ajv's so Fastify answers 400
 * FST_ERR_VALIDATION as before.
 */
export const strictValidator: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const checker = TypeCompiler.Compile(schema)
  const validate = (data: unknown): boolean => {
    if (checker.Check(data)) return true
    const error = checker.Errors(data).First()
    validate.errors = [{ keyword: 'type', schemaPath: '', params: {}, instancePath: error?.path ?? '', message: (error?.message ?? 'is invalid').replace(/^Expected/, 'expected') }]
    return false
  }
  validate.errors = [] as FastifySchemaValidationError[]
  return validate
}

export async function registrationRoute (app: FastifyInstance, users: Users): Promise<void> {
  // In memory, per process: the demo runs one instance (several would share a Redis store).
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => Object.assign(new Error(`Too many registrations: retry in ${context.after}`), { statusCode: 429, code: 'DEMO_RATE_LIMITED' })
  })

  app.post<{ Body: Static<typeof Registration> }>('/auth/register', {
    // preHandler: a body refused by validation costs nothing and is not counted.
    config: { rateLimit: { max: REGISTRATIONS_PER_MINUTE, timeWindow: 60_000, hook: 'preHandler' } },
    schema: {
      tags: ['demo'],
      body: Registration,
      response: {
        201: Type.Object({ id: Type.String(), username: Type.String() }),
        ...bodyErrors(),
        400: errorBody(400, ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'DEMO_WEAK_PASSWORD']),
        409: errorBody(409, ['DEMO_USERNAME_TAKEN']),
        429: errorBody(429, ['DEMO_RATE_LIMITED'], { 'Retry-After': { type: 'string', description: 'Seconds until registrations are accepted again' } })
      }
    } as object
  }, async (request, reply) => {
    const { username, password } = request.body
    if (users.byName(username) !== null) return reply.code(409).send(taken())
    const weak = weakPassword(username, password)
    if (weak !== null) return reply.code(400).send({ statusCode: 400, code: 'DEMO_WEAK_PASSWORD', error: 'Bad Request', message: weak })
    const user = users.add(username, await app.refreshSessions.hashPassword(password), ['user'])
    if (user === null) return reply.code(409).send(taken())
    return reply.code(201).send({ id: user.id, username: user.username })
  })
}

function taken (): object {
  return { statusCode: 409, code: 'DEMO_USERNAME_TAKEN', error: 'Conflict', message: 'That username is taken' }
}

/** Unknown URLs outside the plugin's prefix (which has its own handler): a body with a code too. */
export function notFoundHandler (app: FastifyInstance): void {
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({ statusCode: 404, code: 'DEMO_NOT_FOUND', error: 'Not Found', message: `Route ${request.method} ${request.url.split('?')[0]!} not found` }))
}
