/**
 * The Tasks API: the plugin, a user directory, per-user tasks, an admin route, passkeys, the
 * step-up-protected account actions, the OpenAPI document at /docs/json (UI at /docs) and the
 * web page at /.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { Cluster, Redis } from 'ioredis'
import { Type } from '@sinclair/typebox'
import refreshSessions, { optionalBodies } from '../../src/index.js'
import { accountRoutes, stepUpGuards } from './account.js'
import type { DemoConfig } from './config.js'
import { errorBody, unauthorized } from './error-schemas.js'
import { accessTokenKeys, dbscOptions } from './keys.js'
import { pageRoutes } from './page.js'
import { passkeyRoutes } from './passkeys.js'
import { notFoundHandler, registrationRoute, strictValidator } from './registration.js'
import { taskRoutes } from './tasks.js'
import { SEEDED_USERS, Users } from './users.js'

const Me = Type.Object({ id: Type.String(), username: Type.String(), roles: Type.Array(Type.String()), sessionId: Type.String() })

export async function buildTasksApi (config: DemoConfig, serverOptions: FastifyServerOptions = { logger: true }): Promise<{ app: FastifyInstance, users: Users }> {
  const app = Fastify({ trustProxy: '127.0.0.1', ...serverOptions })
  const users = new Users()

  let redis: Redis | Cluster | undefined
  if (config.redisClusterNodes !== null) {
    // What the README recommends for failovers: no command re-sent after its 503.
    redis = new Cluster(config.redisClusterNodes, {
      enableOfflineQueue: false,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      clusterRetryStrategy: () => 100,
      redisOptions: { maxRetriesPerRequest: 0 }
    })
  } else if (config.redisUrl !== null) {
    redis = new Redis(config.redisUrl, { enableOfflineQueue: false })
  }
  if (redis !== undefined) {
    const client = redis
    client.on('error', (error) => app.log.warn({ err: { message: error.message } }, 'redis connection error'))
    app.addHook('onClose', async () => { client.disconnect() })
  }

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Tasks API (fastify-refresh-sessions demo)', version: '1.0.0' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }
    },
    transformObject: optionalBodies
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })

  await app.register(refreshSessions, {
    ...(redis !== undefined && { redis }),
    accessToken: { ...accessTokenKeys(config, app.log), ttl: config.accessTokenTtl, issuer: 'tasks-api' },
    refreshToken: { idleTtl: config.refreshIdleTtl, absoluteTtl: config.refreshAbsoluteTtl, reuseGrace: config.refreshReuseGrace },
    maxSessionsPerUser: config.maxSessionsPerUser,
    transport: config.transport,
    cookie: { secure: config.cookieSecure },
    dbsc: dbscOptions(config),
    findUser: (username) => users.byName(username),
    loadUser: (id) => users.byId(id),
    onPasswordRehash: ({ userId, passwordHash }) => users.updateHash(userId, passwordHash),
    onReuseDetected: (event, request) => request.log.warn({ userId: event.userId, sessionId: event.sessionId, reuse: event.reuse }, 'refresh token reuse: session revoked')
  })

  for (const seeded of SEEDED_USERS) users.add(seeded.username, await app.refreshSessions.hashPassword(seeded.password), [...seeded.roles])

  // The demo's routes (registered below) are validated without coercion, as the plugin's are.
  app.setValidatorCompiler(strictValidator)
  notFoundHandler(app)
  await registrationRoute(app, users)

  app.get('/me', {
    preHandler: app.authenticate,
    schema: { tags: ['demo'], security: [{ bearerAuth: [] }], response: { 200: Me, 401: unauthorized() } } as object
  }, async (request) => ({ id: request.user.id, username: users.byId(request.user.id)?.username ?? '', roles: request.user.roles, sessionId: request.user.sessionId }))

  app.get('/admin/users', {
    preHandler: [app.authenticate, app.requireRoles('admin')],
    schema: {
      tags: ['demo'],
      security: [{ bearerAuth: [] }],
      response: { 200: Type.Object({ users: Type.Array(Type.Object({ id: Type.String(), username: Type.String(), roles: Type.Array(Type.String()), createdAt: Type.String() })) }), 401: unauthorized(), 403: errorBody(403, ['AUTH_FORBIDDEN']) }
    } as object
  }, async () => ({ users: users.all().map(({ id, username, roles, createdAt }) => ({ id, username, roles, createdAt })) }))

  const forgetTasks = taskRoutes(app)
  const guards = stepUpGuards(app, users, config)
  passkeyRoutes(app, users, config, guards.recentAuth)
  accountRoutes(app, users, guards, forgetTasks)
  pageRoutes(app, config)
  return { app, users }
}
