/**
 * Serves the web page, the client compiled from its TypeScript source at start, and
 * @simplewebauthn/browser's ES modules from node_modules (no build step).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import type { FastifyInstance } from 'fastify'
import type { DemoConfig } from './config.js'

const here = (path: string): URL => new URL(path, import.meta.url)

function clientModule (): string {
  const source = readFileSync(here('../../src/client/index.ts'), 'utf8')
  return ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText
}

/** Where the page imports @simplewebauthn/browser from: `${WEBAUTHN_BROWSER}/index.js`. */
const WEBAUTHN_BROWSER = '/vendor/simplewebauthn/browser'

/** Every .js file of the package's ESM build (they import each other by relative paths), by URL path. */
function webauthnBrowserModules (): Record<string, string> {
  const root = dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser')))
  const modules: Record<string, string> = {}
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue
    const path = join(entry.parentPath, entry.name)
    modules[`${WEBAUTHN_BROWSER}/${relative(root, path).split(sep).join('/')}`] = readFileSync(path, 'utf8')
  }
  return modules
}

export function pageRoutes (app: FastifyInstance, config: DemoConfig): void {
  const files: Record<string, { type: string, body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: readFileSync(here('./public/index.html'), 'utf8') },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(here('./public/app.js'), 'utf8') },
    '/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(here('./public/style.css'), 'utf8') },
    '/client.js': { type: 'text/javascript; charset=utf-8', body: clientModule() },
    '/config.json': { type: 'application/json', body: JSON.stringify({ transport: config.transport === 'body' ? 'body' : 'cookie', webauthnRpId: config.webauthnRpId }) },
    ...Object.fromEntries(Object.entries(webauthnBrowserModules()).map(([path, body]) => [path, { type: 'text/javascript; charset=utf-8', body }]))
  }
  app.get('/favicon.ico', { schema: { hide: true } as object }, async (_request, reply) => reply.code(204).send())
  for (const [path, file] of Object.entries(files)) {
    app.get(path, { schema: { hide: true } as object }, async (_request, reply) => {
      reply.header('content-type', file.type)
      reply.header('cache-control', 'no-cache')
      reply.header('content-security-policy', "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
      return file.body
    })
  }
}
