/**
 * @fastify/swagger documents every declared body as required; refresh and logout take theirs
 * only with the body transport. Their schemas carry `x-body-optional`, which @fastify/swagger
 * copies onto the operation; pass this as its `transformObject` to honour it:
 *
 *   app.register(fastifySwagger, { openapi: {...}, transformObject: optionalBodies })
 */
type Operation = { requestBody?: { required?: boolean }, 'x-body-optional'?: boolean }
type OpenApiDocument = { paths?: Record<string, Record<string, Operation>> }

export const OPTIONAL_BODY = 'x-body-optional'

export function optionalBodies (documentObject: { openapiObject?: unknown, swaggerObject?: unknown }): never {
  const document = (documentObject.openapiObject ?? documentObject.swaggerObject) as OpenApiDocument
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (operation?.[OPTIONAL_BODY] !== true) continue
      if (operation.requestBody !== undefined) operation.requestBody.required = false
      delete operation[OPTIONAL_BODY]
    }
  }
  return document as never
}
