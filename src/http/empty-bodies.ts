/**
 * Refresh and logout usually carry their token in the cookie, and clients send them without a
 * body, but not always without a content type: axios posts an empty body as
 * application/x-www-form-urlencoded, fetch wrappers add application/json. In the scope of those
 * routes only (the app's parsers are untouched): an empty body of any type, or none, is no body.
 * A non-empty body is parsed as everywhere else: JSON (with the app's prototype-poisoning
 * settings), text, the app's own parsers, or 415 FST_ERR_CTP_INVALID_MEDIA_TYPE.
 */
import { errorCodes, type FastifyInstance } from 'fastify'

export function acceptEmptyBodies (scope: FastifyInstance): void {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = scope.initialConfig as { onProtoPoisoning?: 'error' | 'remove' | 'ignore', onConstructorPoisoning?: 'error' | 'remove' | 'ignore' }
  const json = scope.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning)
  scope.removeContentTypeParser(['application/json', 'text/plain'])
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, null)
    else json(request, body as string, done)
  })
  scope.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body === '' ? null : body)
  })
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if (body.length === 0) done(null, null)
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined)
  })
}
