/**
 * Issue 9's "Done when", as a new user meets the package: `npm pack` of this tree (prepack builds
 * dist/), the tarball installed into fresh apps under the OS tmp dir with the latest fastify 5,
 * ioredis 6 (and, in a second app, ioredis 5) and TypeScript strict + NodeNext. Then:
 * - the README's Usage snippet compiles verbatim on the latest TypeScript;
 * - the type tests in test/package/fixtures run with tstyche (TypeScript 5.9) and with tsc (latest);
 * - a small app on the installed package logs in, refreshes (fetch and axios) and logs out over
 *   real HTTP against a throw-away redis-server;
 * - a CommonJS file can require() the package (Node's require(esm)).
 */
import t from 'tap'
import axios from 'axios'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { redisForTest } from '../../support/redis-harness.js'

// Two npm installs, a build, tstyche fetching TypeScript once: minutes on a loaded 2-core machine.
t.setTimeout(900_000)

const root = fileURLToPath(new URL('../..', import.meta.url))
const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url))
const own = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}
const [nodeMajor] = process.versions.node.split('.').map(Number) as [number]
const STEP_TIMEOUT_MS = 600_000

interface Run { code: number | null, output: string }

// The children are a user's plain Node: tap's process tracking puts its TypeScript loader hooks
// into NODE_OPTIONS of every child it sees spawned, so `env -u` drops them past that point.
const PLAIN = ['-u', 'NODE_OPTIONS']

function run (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile('env', [...PLAIN, command, ...args], { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, output: `${stdout}\n${stderr}` })
    })
  })
}

/** The first ```ts block under the README's `## Usage` heading, verbatim. */
function usageSnippet (readme: string): string {
  const lines = readme.split('\n')
  const heading = lines.findIndex((line) => /^## Usage\s*$/.test(line))
  if (heading === -1) throw new Error('README has no "## Usage" heading')
  const start = lines.findIndex((line, index) => index > heading && line.startsWith('```ts'))
  const end = lines.findIndex((line, index) => index > start && line.startsWith('```'))
  if (start === -1 || end === -1) throw new Error('no ```ts block under "## Usage"')
  return lines.slice(start + 1, end).join('\n') + '\n'
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'frs-package-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
const app6 = path.join(scratch, 'app')
const app5 = path.join(scratch, 'app5')
let tarball = ''

t.before(async () => {
  // prepack cleans and builds dist/: the tarball is what a fresh clone would publish.
  const pack = await run('npm', ['pack', '--json', '--pack-destination', scratch], root)
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`)
  const json = pack.output.slice(pack.output.indexOf('[\n'))
  const [packed] = JSON.parse(json.slice(0, json.lastIndexOf(']') + 1)) as Array<{ filename: string, files: Array<{ path: string }> }>
  tarball = path.join(scratch, packed!.filename)
  writeFileSync(path.join(scratch, 'files.json'), JSON.stringify(packed!.files.map((file) => file.path)))

  cpSync(path.join(fixtures, 'app'), app6, { recursive: true })
  cpSync(path.join(fixtures, 'app5'), app5, { recursive: true })
  writeFileSync(path.join(app6, 'usage.ts'), usageSnippet(readFileSync(path.join(root, 'README.md'), 'utf8')))
  for (const dir of [app6, app5]) writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true, type: 'module' }))

  const common = [tarball, 'fastify@5', '@types/node', 'typescript@latest', `tstyche@${own.devDependencies.tstyche}`]
  const installs = await Promise.all([
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...common, 'ioredis@6', `@fastify/jwt@${own.dependencies['@fastify/jwt']}`], app6),
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...common, 'ioredis@5'], app5)
  ])
  for (const install of installs) if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`)
})

t.test('the tarball ships dist/ with declarations and Lua, LICENSE and README, and no source maps', async (t) => {
  const files = JSON.parse(readFileSync(path.join(scratch, 'files.json'), 'utf8')) as string[]
  const lua = readdirSync(new URL('../../src/redis/lua/', import.meta.url)).filter((file) => file.endsWith('.lua')).map((file) => `dist/redis/lua/${file}`)
  t.ok(lua.length > 5, `${lua.length} Lua scripts to ship`)
  for (const file of ['package.json', 'LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/types.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', ...lua]) {
    t.ok(files.includes(file), `ships ${file}`)
  }
  t.same(files.filter((file) => !file.startsWith('dist/') && !['package.json', 'LICENSE', 'README.md'].includes(file)), [], 'nothing outside dist/ but package.json, LICENSE and README.md')
  t.same(files.filter((file) => file.endsWith('.map')), [], 'no .map files')
  const installed = path.join(app6, 'node_modules', own.name, 'dist')
  t.notMatch(readFileSync(path.join(installed, 'index.js'), 'utf8'), /sourceMappingURL/, 'no sourceMappingURL in the JavaScript')
  t.match(readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^MIT License/, 'the LICENSE is MIT, as package.json says')
})

t.test('the README Usage snippet compiles verbatim (strict, NodeNext, latest TypeScript, ioredis 6)', async (t) => {
  const snippet = readFileSync(path.join(app6, 'usage.ts'), 'utf8')
  t.match(snippet, /app\.register\(refreshSessions/, 'the snippet registers the plugin')
  const tsc = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--pretty', 'false'], app6)
  t.equal(tsc.code, 0, 'tsc --noEmit passes on usage.ts and the demo app', { output: tsc.output.trim() })
})

t.test('the type tests compile on the latest TypeScript (tsc)', async (t) => {
  const version = JSON.parse(readFileSync(path.join(app6, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }
  for (const [dir, project] of [[app6, 'typetests'], [app6, 'own-jwt'], [app5, '.']] as const) {
    const tsc = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project, '--pretty', 'false'], dir)
    t.equal(tsc.code, 0, `TypeScript ${version.version}: ${path.basename(dir)}/${project}`, { output: tsc.output.trim() })
  }
})

t.test('the type tests pass in tstyche (TypeScript 5.9: error messages checked too)', { skip: nodeMajor < 22 ? `tstyche ${own.devDependencies.tstyche} needs Node >= 22; this is ${process.version}` : false }, async (t) => {
  for (const dir of [app6, app5]) {
    const tstyche = await run(process.execPath, ['node_modules/tstyche/dist/bin.js', '--target', '5.9'], dir, { ...process.env, NO_COLOR: '1' })
    t.equal(tstyche.code, 0, `tstyche in ${path.basename(dir)}`, { output: tstyche.output.trim().split('\n').slice(-40).join('\n') })
    t.match(tstyche.output, /Test files:\s+\d+ passed, \d+ total/, 'test files ran')
    t.notMatch(tstyche.output, /failed/, 'nothing failed')
  }
})

t.test('a CommonJS file can require() the package', {
  skip: (process.features as { require_module?: boolean }).require_module === true ? false : `require(esm) is not available on Node ${process.version} (it is from 20.19 and 22.12)`
}, async (t) => {
  const required = await run(process.execPath, ['require.cjs'], app6)
  t.equal(required.code, 0, 'node require.cjs exits 0', { output: required.output.trim() })
  const result = JSON.parse(required.output.trim().split('\n')[0]!) as { plugin: string, errors: string, parseDuration: number, client: string[] }
  t.same(result, { plugin: 'function', errors: 'object', parseDuration: 900_000, client: ['ClientError', 'RefreshSessionsClient'] }, 'the plugin and the client entry, through require()')
})

t.test('an app on the installed package logs in, refreshes (fetch and axios) and logs out against Redis', async (t) => {
  const redis = await redisForTest(t)
  const tsx = import.meta.resolve('tsx/esm')
  const server = spawn('env', [...PLAIN, process.execPath, '--import', tsx, 'server.ts'], { cwd: app6, env: { ...process.env, REDIS_URL: redis.url }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => stop(server))
  const base = await listening(server)

  const refreshCookie = (headers: Headers): string | undefined => headers.getSetCookie().find((cookie) => cookie.startsWith('refresh_token='))
  const pair = (setCookie: string | undefined): string => (setCookie ?? '').split(';')[0]!
  const me = async (accessToken: string) => {
    const response = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${accessToken}` } })
    return { status: response.status, body: await response.json() as { id: string, roles: string[] } }
  }

  const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'alice-password-1' }) })
  t.equal(login.status, 200, 'login: 200')
  const loggedIn = await login.json() as { accessToken: string, tokenType: string }
  t.equal(loggedIn.tokenType, 'Bearer')
  let cookie = pair(refreshCookie(login.headers))
  t.match(cookie, /^refresh_token=.+/, 'login sets the refresh cookie')
  t.same(await me(loggedIn.accessToken), { status: 200, body: { id: 'u-1', roles: ['user'] } }, 'GET /me with the access token')

  const viaFetch = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { cookie } })
  t.equal(viaFetch.status, 200, 'refresh through fetch (no body): 200')
  const refreshed = await viaFetch.json() as { accessToken: string }
  const afterFetch = pair(refreshCookie(viaFetch.headers))
  t.match(afterFetch, /^refresh_token=.+/, 'a new refresh cookie')
  t.not(afterFetch, cookie, 'rotated')
  cookie = afterFetch
  t.same(await me(refreshed.accessToken), { status: 200, body: { id: 'u-1', roles: ['user', 'refreshed'] } }, 'the refreshed access token carries loadUser\'s roles')

  // axios' post() with no body: the form content type most apps send by default (issue 9).
  const viaAxios = await axios.post(`${base}/auth/refresh`, undefined, { headers: { Cookie: cookie }, validateStatus: () => true })
  t.equal(viaAxios.status, 200, `refresh through axios (content-type ${String(viaAxios.config.headers['Content-Type'])}): 200`, { body: viaAxios.data })
  const axiosCookie = ([] as string[]).concat(viaAxios.headers['set-cookie'] ?? []).find((c) => c.startsWith('refresh_token='))
  if (viaAxios.status === 200) {
    t.not(pair(axiosCookie), cookie, 'rotated')
    cookie = pair(axiosCookie)
  }

  const logout = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie } })
  t.equal(logout.status, 204, 'logout: 204')
  t.match(refreshCookie(logout.headers), /Max-Age=0/i, 'the cookie is cleared')
  const afterLogout = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { cookie } })
  t.equal(afterLogout.status, 401, 'the logged-out refresh token is refused')
})

function listening (child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match !== null) resolve(match[1]!)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening:\n${output}`)))
  })
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}
