/** GET /.well-known/jwks.json: the public keys of an asymmetric key set, for other resource servers. */
import type { FastifyInstance } from 'fastify'
import type { PluginContext } from '../../context.js'
import { JwksNotFoundError } from '../../errors.js'
import { describe, documented, errorResponse, JwksResponse } from '../schemas.js'

export function jwksRoute (fastify: FastifyInstance, context: PluginContext, path: string): void {
  fastify.get(path, {
    schema: {
      ...describe('Public keys that verify access tokens (asymmetric keys only)'),
      response: {
        200: documented(JwksResponse, 'The public keys (JWKS)', { 'Cache-Control': { type: 'string', description: 'public, max-age=300' } }),
        404: errorResponse(404, 'Access tokens are signed with a shared secret: no public keys', ['AUTH_JWKS_NOT_FOUND'])
      }
    }
  }, async function jwks (_request, reply) {
    if (context.tokens.jwks === null) throw new JwksNotFoundError()
    reply.header('cache-control', 'public, max-age=300')
    return context.tokens.jwks
  })
}
