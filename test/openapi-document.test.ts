/**
 * Issue 9, item 6: an OpenAPI document that tells the truth, as the demo serves it at /docs/json.
 *
 * 1. It is a valid OpenAPI document (@apidevtools/swagger-parser).
 * 2. It says what the routes do: the refresh cookie as a cookie parameter, the response headers
 *    where they are sent, 413 / 415 on routes that read bodies, `code` as an enum per response.
 * 3. openapi-typescript makes types of it, and a small openapi-fetch client type-checks against
 *    them under strict TypeScript: the cookie parameter is a string (not `never`) and the error
 *    codes are a closed union (an exhaustive switch compiles).
 * 4. That same client drives the demo over real HTTP: login, refresh with the cookie, sessions,
 *    logout; every answer it got, and a set of bad requests, match the document (status listed,
 *    code in the enum, documented headers present).
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { pathToFileURL } from 'node:url'
import SwaggerParser from '@apidevtools/swagger-parser'
import fastifySwagger from '@fastify/swagger'
import Fastify from 'fastify'
import openapiTS, { astToString } from 'openapi-typescript'
import refreshSessions, { optionalBodies } from '../src/index.js'
import { HS256_SECRET } from './helpers/build-app.js'
import { startDemo } from './helpers/demo-server.js'

const ROOT = resolve(import.meta.dirname, '..')

interface Operation {
  parameters?: Array<{ in: string, name: string, required?: boolean, schema?: { type?: string } }>
  responses: Record<string, { headers?: Record<string, unknown>, content?: { 'application/json'?: { schema?: { properties?: { code?: { enum?: string[] } } } } } }>
}
type Document = { openapi: string, paths: Record<string, Record<string, Operation>> }

/** The client a user would write, against the generated types; compiled by tsc, then run. */
const CLIENT = `
import createClient from 'openapi-fetch'
import type { paths } from './schema.js'

export interface Seen { method: string, path: string, status: number, code: string | null, headers: Record<string, string> }

export async function flow (baseUrl: string, username: string, password: string): Promise<Seen[]> {
  const client = createClient<paths>({ baseUrl })
  const seen: Seen[] = []
  const record = (method: string, path: string, response: Response, error: unknown): void => {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : null
    seen.push({ method, path, status: response.status, code, headers: Object.fromEntries(response.headers) })
  }
  const origin = { origin: baseUrl }

  const login = await client.POST('/auth/login', { body: { username, password } })
  record('post', '/auth/login', login.response, login.error)
  if (login.data === undefined) throw new Error('login failed: ' + login.response.status)
  const accessToken: string = login.data.accessToken
  const expiresIn: number = login.data.expiresIn
  const cookie = login.response.headers.getSetCookie()[0]!.split(';')[0]!
  const refreshToken = cookie.slice(cookie.indexOf('=') + 1)

  // The cookie parameter is typed (a string): a browser sends it by itself, Node sends the header.
  const refresh = await client.POST('/auth/refresh', { params: { cookie: { refresh_token: refreshToken } }, headers: { ...origin, cookie } })
  record('post', '/auth/refresh', refresh.response, refresh.error)
  if (refresh.data === undefined) throw new Error('refresh failed: ' + refresh.response.status)
  const newCookie = refresh.response.headers.getSetCookie()[0]!.split(';')[0]!

  const sessions = await client.GET('/auth/sessions', { headers: { authorization: 'Bearer ' + refresh.data.accessToken } })
  record('get', '/auth/sessions', sessions.response, sessions.error)
  const current: boolean | undefined = sessions.data?.sessions.find((session) => session.current)?.current

  const noCookie = await client.POST('/auth/refresh', { headers: origin })
  record('post', '/auth/refresh', noCookie.response, noCookie.error)
  if (noCookie.error !== undefined) {
    // Exhaustive over the codes the document lists for refresh: compiles only if they are a closed union.
    const code = noCookie.error.code
    switch (code) {
      case 'AUTH_REFRESH_MISSING': case 'AUTH_REFRESH_INVALID': case 'AUTH_REFRESH_REUSED': case 'AUTH_REFRESH_UNBOUND': case 'AUTH_CSRF_REJECTED':
      case 'AUTH_DPOP_PROOF_INVALID': case 'AUTH_DPOP_NONCE_REQUIRED': case 'AUTH_BINDING_REQUIRED':
      case 'FST_ERR_VALIDATION': case 'FST_ERR_CTP_INVALID_JSON_BODY': case 'FST_ERR_CTP_BODY_TOO_LARGE':
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': case 'AUTH_INTERNAL_ERROR': case 'AUTH_STORE_UNAVAILABLE':
        break
      default: {
        const unknown: never = code
        throw new Error('undocumented code ' + String(unknown))
      }
    }
  }

  const logout = await client.POST('/auth/logout', { params: { cookie: { refresh_token: newCookie.slice(newCookie.indexOf('=') + 1) } }, headers: { ...origin, cookie: newCookie } })
  record('post', '/auth/logout', logout.response, logout.error)

  const afterLogout = await client.POST('/auth/refresh', { headers: { ...origin, cookie: newCookie } })
  record('post', '/auth/refresh', afterLogout.response, afterLogout.error)

  const strictBody = await client.DELETE('/auth/sessions/{id}', { params: { path: { id: refresh.data.sessionId } }, headers: { authorization: 'Bearer ' + accessToken } })
  record('delete', '/auth/sessions/{id}', strictBody.response, strictBody.error)

  void expiresIn
  void current
  return seen
}

// @ts-expect-error: a code the document does not list for this response
export const notACode: paths['/auth/refresh']['post']['responses'][401]['content']['application/json']['code'] = 'AUTH_NOPE'
// @ts-expect-error: the refresh cookie is a string
export const notAString: NonNullable<paths['/auth/refresh']['post']['parameters']['cookie']>['refresh_token'] = 42
`

t.test('the demo document: valid, truthful, typed, and a typed client drives the demo', async (t) => {
  const demo = await startDemo(t)
  const doc = await (await fetch(`${demo.url}/docs/json`)).json() as Document

  await t.test('swagger-parser validates it', async (t) => {
    const api = await SwaggerParser.validate(structuredClone(doc) as never)
    t.match(api, { openapi: /^3\./ })
  })

  await t.test('the refresh cookie is a cookie parameter of refresh and logout', async (t) => {
    for (const path of ['/auth/refresh', '/auth/logout']) {
      t.same(doc.paths[path]!.post!.parameters?.filter((p) => p.in === 'cookie').map(({ name, required, schema }) => ({ name, required, type: schema?.type })), [{ name: 'refresh_token', required: false, type: 'string' }], path)
    }
  })

  await t.test('response headers where they are sent', async (t) => {
    const headers = (path: string, method: string, status: number): string[] => Object.keys(doc.paths[path]![method]!.responses[status]?.headers ?? {}).sort()
    t.same(headers('/auth/login', 'post', 200), ['Cache-Control', 'Pragma', 'Sec-Session-Registration', 'Secure-Session-Registration', 'Set-Cookie'], 'the DBSC offer: the demo turns DBSC on')
    t.same(headers('/auth/dbsc/register', 'post', 200), ['Cache-Control', 'Set-Cookie'])
    t.same(headers('/auth/dbsc/refresh', 'post', 200), ['Cache-Control', 'Set-Cookie'])
    t.same(headers('/auth/dbsc/refresh', 'post', 403), ['Secure-Session-Challenge'])
    t.same(headers('/auth/login', 'post', 429), ['Retry-After'])
    t.same(headers('/auth/refresh', 'post', 200), ['Cache-Control', 'Pragma', 'Set-Cookie'])
    t.same(headers('/auth/refresh', 'post', 401), ['Set-Cookie'], 'the cleared cookie')
    t.same(headers('/auth/logout', 'post', 204), ['Set-Cookie'])
    t.same(headers('/auth/logout-all', 'post', 204), ['Set-Cookie'])
    t.same(headers('/auth/logout-all', 'post', 401), ['WWW-Authenticate'])
    t.same(headers('/auth/sessions', 'get', 401), ['WWW-Authenticate'])
    t.same(headers('/auth/sessions/{id}', 'delete', 401), ['WWW-Authenticate'])
    t.same(headers('/auth/reauthenticate', 'post', 200), ['Cache-Control', 'Pragma'], 'no Set-Cookie: the refresh token is unchanged')
    t.same(headers('/auth/reauthenticate', 'post', 401), ['WWW-Authenticate'])
    t.same(headers('/auth/reauthenticate', 'post', 429), ['Retry-After'])
    t.same(headers('/.well-known/jwks.json', 'get', 200), ['Cache-Control'])
  })

  await t.test('413 and 415 on the routes that read a body; code is an enum on every error response, the demo routes too', async (t) => {
    for (const [path, method] of [['/auth/login', 'post'], ['/auth/refresh', 'post'], ['/auth/logout', 'post'], ['/auth/logout-all', 'post'], ['/auth/sessions/{id}', 'delete'], ['/auth/reauthenticate', 'post']] as const) {
      const responses = doc.paths[path]![method]!.responses
      t.same(responses[413]?.content?.['application/json']?.schema?.properties?.code?.enum, ['FST_ERR_CTP_BODY_TOO_LARGE'], `${method} ${path} 413`)
      t.same(responses[415]?.content?.['application/json']?.schema?.properties?.code?.enum, ['FST_ERR_CTP_INVALID_MEDIA_TYPE'], `${method} ${path} 415`)
    }
    t.same(doc.paths['/auth/refresh']!.post!.responses[401]!.content!['application/json']!.schema!.properties!.code!.enum, ['AUTH_REFRESH_MISSING', 'AUTH_REFRESH_INVALID', 'AUTH_REFRESH_REUSED', 'AUTH_REFRESH_UNBOUND', 'AUTH_DPOP_PROOF_INVALID', 'AUTH_DPOP_NONCE_REQUIRED', 'AUTH_BINDING_REQUIRED'])
    t.same(doc.paths['/auth/login']!.post!.responses[401]!.content!['application/json']!.schema!.properties!.code!.enum, ['AUTH_INVALID_CREDENTIALS', 'AUTH_DPOP_PROOF_INVALID', 'AUTH_DPOP_NONCE_REQUIRED', 'AUTH_BINDING_REQUIRED'])
    t.same(doc.paths['/auth/sessions']!.get!.responses[401]!.content!['application/json']!.schema!.properties!.code!.enum, ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_DPOP_PROOF_INVALID', 'AUTH_DPOP_NONCE_REQUIRED', 'AUTH_DPOP_REQUIRED'])
    const codes = (path: string, status: number): string[] | undefined => doc.paths[path]!.post!.responses[status]?.content?.['application/json']?.schema?.properties?.code?.enum
    t.same(codes('/auth/reauthenticate', 401), ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_DPOP_PROOF_INVALID', 'AUTH_DPOP_NONCE_REQUIRED', 'AUTH_DPOP_REQUIRED', 'AUTH_SESSION_REVOKED', 'AUTH_INVALID_CREDENTIALS'])
    t.same(codes('/auth/reauthenticate', 429), ['AUTH_TOO_MANY_ATTEMPTS'])
    t.same(codes('/auth/reauthenticate', 403), ['AUTH_CSRF_REJECTED'])
    t.same(codes('/auth/login', 503), ['AUTH_STORE_UNAVAILABLE', 'AUTH_LOGIN_BUSY'], 'login: a full argon2 queue is a 503 of its own code')
    t.same(codes('/auth/reauthenticate', 503), ['AUTH_STORE_UNAVAILABLE', 'AUTH_LOGIN_BUSY'], 're-authentication too')
    t.same(codes('/auth/dbsc/register', 400), ['AUTH_DBSC_PROOF_MISSING', 'AUTH_DBSC_PROOF_INVALID', 'FST_ERR_CTP_INVALID_JSON_BODY'])
    t.same(codes('/auth/dbsc/register', 403), ['AUTH_DBSC_CHALLENGE_INVALID'])
    t.same(codes('/auth/dbsc/register', 409), ['AUTH_DBSC_ALREADY_BOUND'])
    t.same(codes('/auth/dbsc/refresh', 401), ['AUTH_DBSC_SESSION_UNKNOWN', 'AUTH_DBSC_KEY_MISMATCH'])
    t.same(codes('/auth/dbsc/refresh', 403), ['AUTH_DBSC_PROOF_REQUIRED', 'AUTH_DBSC_CHALLENGE_INVALID'])
    t.same(doc.paths['/auth/login']!.post!.responses[400]!.content!['application/json']!.schema!.properties!.code!.enum, ['FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY'])
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue
          const codes = response.content?.['application/json']?.schema?.properties?.code?.enum
          t.ok(Array.isArray(codes) && codes.length > 0, `${method} ${path} ${status}: code is an enum (${codes?.join(', ')})`)
        }
      }
    }
  })

  const dir = await mkdtemp(join(tmpdir(), 'openapi-client-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))

  await t.test('openapi-typescript types it; an openapi-fetch client type-checks against them', async (t) => {
    const types = astToString(await openapiTS(doc as never))
    t.match(types, /cookie\?: \{\s*\/\*\*[^*]*\*\/\s*refresh_token\?: string;\s*\}/, 'refresh and logout get a typed cookie, not `cookie?: never`')
    await writeFile(join(dir, 'schema.d.ts'), types)
    await writeFile(join(dir, 'client.ts'), CLIENT)
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], noEmit: true, skipLibCheck: true, noUncheckedIndexedAccess: true },
      files: ['client.ts']
    }))
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(() => ({ code: 0, stdout: '' }), (error: { code: number, stdout: string }) => ({ code: error.code, stdout: error.stdout }))
    t.equal(result.code, 0, `tsc strict on the client: ${result.stdout}`)
  })

  await t.test('the typed client drives the demo; every answer matches the document', async (t) => {
    const { flow } = await import(pathToFileURL(join(dir, 'client.ts')).href) as { flow: (baseUrl: string, username: string, password: string) => Promise<Array<{ method: string, path: string, status: number, code: string | null, headers: Record<string, string> }>> }
    const seen = await flow(demo.url, 'alice', 'alice-password-1')
    t.same(seen.map(({ method, path, status, code }) => `${method} ${path} ${status} ${code ?? ''}`.trim()), [
      'post /auth/login 200',
      'post /auth/refresh 200',
      'get /auth/sessions 200',
      'post /auth/refresh 401 AUTH_REFRESH_MISSING',
      'post /auth/logout 204',
      'post /auth/refresh 401 AUTH_REFRESH_INVALID',
      'delete /auth/sessions/{id} 404 AUTH_SESSION_NOT_FOUND'
    ])

    // And a set of bad requests, over HTTP too.
    const raw = async (method: string, path: string, init: RequestInit = {}): Promise<void> => {
      const response = await fetch(demo.url + path.replace('{id}', 'x'.repeat(65)), { method: method.toUpperCase(), ...init })
      const body = response.status >= 400 ? await response.json() as { code?: string } : null
      seen.push({ method, path, status: response.status, code: body?.code ?? null, headers: Object.fromEntries(response.headers) })
    }
    const json = { 'content-type': 'application/json' }
    await raw('post', '/auth/login', { headers: json, body: '{"username":' })
    await raw('post', '/auth/login', { headers: json, body: '' })
    await raw('post', '/auth/login', { headers: json, body: JSON.stringify({ username: 'alice' }) })
    await raw('post', '/auth/login', { headers: json, body: JSON.stringify({ username: 'alice', password: 'x'.repeat(20_000) }) })
    await raw('post', '/auth/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=alice' })
    await raw('post', '/auth/login', { headers: json, body: JSON.stringify({ username: 'alice', password: 'wrong' }) })
    await raw('post', '/auth/refresh', { headers: { 'content-type': 'application/octet-stream' }, body: 'xyz' })
    await raw('post', '/auth/refresh', { headers: { cookie: 'refresh_token=garbage', origin: 'http://evil.example' } })
    await raw('post', '/auth/refresh', { headers: { cookie: 'refresh_token=garbage' } })
    await raw('post', '/auth/logout', { headers: json, body: '[' })
    await raw('post', '/auth/logout-all')
    await raw('post', '/auth/logout-all', { headers: { authorization: 'Bearer nope' } })
    await raw('get', '/auth/sessions')
    await raw('post', '/auth/reauthenticate', { headers: json, body: JSON.stringify({ username: 'alice', password: 'alice-password-1' }) })
    await raw('delete', '/auth/sessions/{id}', { headers: { authorization: 'Bearer nope' } })
    await raw('get', '/.well-known/jwks.json')

    const codesSeen = new Set<string>()
    for (const { method, path, status, code, headers } of seen) {
      const label = `${method} ${path} ${status} ${code ?? ''}`
      const documented = doc.paths[path]?.[method]?.responses[status]
      if (documented === undefined) {
        t.fail(`${label}: status not in the document`)
        continue
      }
      if (status >= 400) {
        t.ok(documented.content?.['application/json']?.schema?.properties?.code?.enum?.includes(code!), `${label}: code in the enum`)
        codesSeen.add(`${status} ${code}`)
      }
      for (const name of Object.keys(documented.headers ?? {})) {
        t.ok(headers[name.toLowerCase()] !== undefined, `${label}: documented header ${name} was sent`)
      }
    }
    t.same([...codesSeen].sort(), [
      '400 FST_ERR_CTP_EMPTY_JSON_BODY', '400 FST_ERR_CTP_INVALID_JSON_BODY', '400 FST_ERR_VALIDATION', '401 AUTH_INVALID_CREDENTIALS',
      '401 AUTH_REFRESH_INVALID', '401 AUTH_REFRESH_MISSING', '401 AUTH_TOKEN_INVALID', '401 AUTH_TOKEN_MISSING', '403 AUTH_CSRF_REJECTED',
      '404 AUTH_JWKS_NOT_FOUND', '404 AUTH_SESSION_NOT_FOUND', '413 FST_ERR_CTP_BODY_TOO_LARGE', '415 FST_ERR_CTP_INVALID_MEDIA_TYPE'
    ], 'the error answers exercised')
  })
})

t.test('with the body transport the document has no refresh cookie: no cookie parameter, no Set-Cookie', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySwagger, { openapi: { info: { title: 'body transport', version: '1.0.0' }, components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } } }, transformObject: optionalBodies })
  await app.register(refreshSessions, { accessToken: { secret: HS256_SECRET }, transport: 'body', findUser: () => null })
  await app.ready()
  const doc = app.swagger() as unknown as Document
  await SwaggerParser.validate(structuredClone(doc) as never)
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.same(operation.parameters?.filter((p) => p.in === 'cookie') ?? [], [], `${method} ${path}: no cookie parameter`)
      for (const [status, response] of Object.entries(operation.responses)) t.notOk('Set-Cookie' in (response.headers ?? {}), `${method} ${path} ${status}: no Set-Cookie`)
    }
  }
  t.same(Object.keys(doc.paths['/auth/refresh']!.post!.responses[200]!.headers ?? {}).sort(), ['Cache-Control', 'Pragma'], 'no-store stays')
})
