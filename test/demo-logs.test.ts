/**
 * What a person sees on the demo's console (`npm run demo`, examples/tasks-api/server.ts in its own
 * process): JSON lines when stdout is not a terminal, pino-pretty on a pseudo-terminal; expected
 * client errors as one line with their code and no stack trace; exactly one warning per real risk
 * at start. And, in-process, that a 5xx still keeps its stack (the compact lines are for 4xx only).
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { buildTasksApi } from '../examples/tasks-api/app.js'
import { readConfig } from '../examples/tasks-api/config.js'
import { demoLogging } from '../examples/tasks-api/logging.js'
import { redisForTest } from '../support/redis-harness.js'
import { plain, spawnDemo } from './helpers/demo-server.js'

interface LogLine { level: number, msg: string, [key: string]: unknown }

const WARN = 40
const MEMORY_WARNING = /in-memory store/
const SECRET_WARNING = /JWT_SECRET is not set/
/** A V8 stack frame, in any string of a line (a serialized `err.stack`, or printed by pino-pretty). */
const STACK_FRAME = /\n\s+at |^\s+at .+:\d+:\d+\)?$/m

/** Every string inside a parsed line, however deep. */
function strings (value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings)
  return []
}

function parse (lines: string[]): LogLine[] {
  return lines.map((line) => JSON.parse(line) as LogLine)
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

t.test('not a TTY (tests, CI): JSON lines, one warning (the in-memory store), 4xx without stacks', async (t) => {
  const demo = await spawnDemo(t)
  t.equal((await post(`${demo.url}/auth/login`, { username: 'alice', password: 'wrong-password' })).status, 401, 'wrong password: 401')
  t.equal((await fetch(`${demo.url}/me`)).status, 401, 'no token: 401')
  t.equal((await fetch(`${demo.url}/me`, { headers: { authorization: 'Bearer not.a.jwt' } })).status, 401, 'bad token: 401')
  t.equal((await post(`${demo.url}/auth/login`, { username: 5 })).status, 400, 'validation error: 400')
  t.equal((await fetch(`${demo.url}/no-such-page`)).status, 404, 'unknown URL: 404')
  await demo.waitForLine(/"url":"\/no-such-page"/)
  await demo.stop()

  const raw = demo.stdout()
  let lines: LogLine[] = []
  t.doesNotThrow(() => { lines = parse(raw) }, 'every stdout line is JSON')
  t.equal(demo.stderr().trim(), '', 'nothing on stderr')

  const warnings = lines.filter((line) => line.level >= WARN)
  t.equal(warnings.length, 1, 'one warning at start', { warnings })
  t.match(warnings[0]?.msg, MEMORY_WARNING, 'it is the in-memory store: sessions end with the process')
  t.notOk(lines.some((line) => SECRET_WARNING.test(line.msg) && line.level >= WARN), 'the random JWT secret is no second warning on the in-memory store')
  t.ok(lines.some((line) => SECRET_WARNING.test(line.msg) && line.level === 30), 'it is said at info')

  const login401 = lines.filter((line) => line.url === '/auth/login' && line.statusCode === 401)
  t.equal(login401.length, 1, 'the 401 login is one line')
  t.match(login401[0], { level: 30, method: 'POST', code: 'AUTH_INVALID_CREDENTIALS' }, 'at info, with its code')
  t.match(lines.find((line) => line.statusCode === 400), { level: 30, code: 'FST_ERR_VALIDATION' })
  t.match(lines.filter((line) => line.url === '/me').map((line) => line.code), ['AUTH_TOKEN_MISSING', 'AUTH_TOKEN_INVALID'])
  t.equal(lines.filter((line) => line.url === '/no-such-page').length, 1, 'the 404 is one line too')
  t.notOk(lines.some((line) => strings(line).some((value) => STACK_FRAME.test(value))), 'no stack trace anywhere')
  t.notOk(lines.some((line) => 'err' in line), 'no error object logged for an expected 4xx')
  t.notOk(lines.some((line) => line.msg === 'incoming request'), 'one line per request, not two')
})

t.test('on Redis without JWT_SECRET: one warning, the random secret (processes on one Redis refuse each other\'s tokens)', async (t) => {
  const redis = await redisForTest(t)
  const demo = await spawnDemo(t, { env: { REDIS_URL: redis.url } })
  await demo.stop()
  const warnings = parse(demo.stdout()).filter((line) => line.level >= WARN)
  t.equal(warnings.length, 1, 'one warning', { warnings })
  t.match(warnings[0]?.msg, SECRET_WARNING)
  t.notMatch(warnings[0]?.msg, MEMORY_WARNING)
})

t.test('on Redis with JWT_SECRET: no warning (in-process)', async (t) => {
  const redis = await redisForTest(t)
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done() } })
  const { app } = await buildTasksApi(
    readConfig({ REDIS_URL: redis.url, JWT_SECRET: 'a-demo-test-secret-of-at-least-32-bytes-long' }),
    await demoLogging({ level: 'info', pretty: false, stream })
  )
  t.teardown(() => app.close())
  await app.ready()
  t.same(parse(lines).filter((line) => line.level >= WARN), [], 'no warning')
})

t.test('a pseudo-terminal: pretty lines, the 401 without a stack', async (t) => {
  const demo = await spawnDemo(t, { tty: true })
  t.equal((await post(`${demo.url}/auth/login`, { username: 'alice', password: 'wrong-password' })).status, 401)
  const line = plain(await demo.waitForLine(/POST \/auth\/login 401/))
  await demo.stop()
  t.match(line, /^\[\d\d:\d\d:\d\d\] INFO: POST \/auth\/login 401 AUTH_INVALID_CREDENTIALS \(\d+(\.\d)? ms\)$/, 'one readable line')
  const lines = demo.stdout().map(plain)
  t.notOk(lines.some((candidate) => candidate.trimStart().startsWith('{')), 'no JSON on a terminal')
  t.equal(lines.filter((candidate) => / WARN: /.test(candidate)).length, 1, 'one warning')
  t.ok(lines.some((candidate) => / WARN: .*in-memory store/.test(candidate)), 'the in-memory store')
  t.notOk(lines.some((candidate) => STACK_FRAME.test(candidate)), 'no stack frame')
})

t.test('the demo\'s log controller keeps the stack of a 5xx and drops it for a 4xx', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done() } })
  const app = Fastify(await demoLogging({ level: 'info', pretty: false, stream }))
  app.get('/boom', async () => { throw new Error('a bug') })
  app.get('/teapot', async () => { throw Object.assign(new Error('short and stout'), { statusCode: 418, code: 'DEMO_TEAPOT' }) })
  t.teardown(() => app.close())
  t.equal((await app.inject('/boom')).statusCode, 500)
  t.equal((await app.inject('/teapot')).statusCode, 418)
  const logged = parse(lines)
  const boom = logged.filter((line) => line.url === '/boom' || (line.req as { url?: string } | undefined)?.url === '/boom')
  t.ok(boom.some((line) => line.level === 50 && typeof (line.err as { stack?: unknown } | undefined)?.stack === 'string'), 'the 500 is an error line with its stack')
  const teapot = logged.filter((line) => JSON.stringify(line).includes('teapot') || line.code === 'DEMO_TEAPOT')
  t.match(teapot, [{ level: 30, statusCode: 418, code: 'DEMO_TEAPOT', url: '/teapot' }], 'the 418 is one info line with its code')
  t.notOk(teapot.some((line) => 'err' in line), 'without the error or its stack')
})
