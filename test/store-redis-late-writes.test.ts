/**
 * A command that runs after its caller gave up changes nothing. Redis is frozen (SIGSTOP) while a
 * write is on the socket: the caller gets 503 at the command timeout; then Redis resumes and runs
 * the script, which is now past its deadline and must write nothing. Checked for every write of
 * the store and of the login limiter, and over HTTP for refresh and login.
 */
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import { RedisLoginLimiter } from '../src/login-limiter/redis-limiter.js'
import { RedisStore } from '../src/redis/redis-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { buildApp, login, refreshCookie } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const TIMEOUT_MS = 300
const GRACE_MS = 200
const LIMITS = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: GRACE_MS, maxSessionsPerUser: 2 }
const unavailable = { code: 'AUTH_STORE_UNAVAILABLE', statusCode: 503 }

const server = await redisForTest(t, { allowExternal: false })
const admin = await connectRedis(t, server)

/** Scripts run so far: EVALSHA, and EVAL (what ioredis sends when Redis answers NOSCRIPT). */
async function scriptCalls (): Promise<number> {
  const stats = await admin.info('commandstats')
  const calls = (command: string): number => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
  return calls('evalsha') + calls('eval')
}

/** Waits (by polling, bounded) until Redis has run more scripts than `before`. */
async function scriptsRanSince (before: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await scriptCalls() > before) return true
    await sleep(10)
  }
  return false
}

/**
 * Runs `write` with Redis frozen: it must answer 503; then Redis resumes, and the script that was
 * on the socket runs (counted by INFO commandstats) before this returns.
 */
async function frozenWrite (t: Test, redis: Redis, write: () => Promise<unknown>): Promise<void> {
  const before = await scriptCalls()
  process.kill(server.pid!, 'SIGSTOP')
  const started = performance.now()
  let answeredAfter = 0
  try {
    await t.rejects(write().finally(() => { answeredAfter = performance.now() - started }), unavailable, 'answered 503 while Redis is frozen')
  } finally {
    process.kill(server.pid!, 'SIGCONT')
  }
  t.ok(await scriptsRanSince(before), 'the late script did reach Redis and run')
  t.comment(`503 after ${Math.round(answeredAfter)} ms (timeout ${TIMEOUT_MS} ms); Redis resumed, ran the script ${Math.round(performance.now() - started)} ms after the call, past its deadline`)
  await redis.ping() // the client's connection is in order: anything it sent before has run
}

async function core (t: Test): Promise<{ sessions: SessionCore, redis: Redis }> {
  const redis = await connectRedis(t, server)
  const store = new RedisStore({ redis, prefix: uniquePrefix('late'), ...LIMITS, commandTimeoutMs: TIMEOUT_MS })
  t.teardown(() => store.close())
  await store.measureClock()
  return { sessions: new SessionCore(store), redis }
}

t.test('refresh: a rotation that arrives late does not happen; the same token refreshes after the grace window', async (t) => {
  const { sessions, redis } = await core(t)
  const { token, session } = await sessions.create('late-rotate')
  await frozenWrite(t, redis, () => sessions.rotate(token))
  await sleep(GRACE_MS + 100) // past the grace window of a rotation that would have happened
  const retry = await sessions.rotate(token)
  t.equal(retry.outcome, 'rotated', 'the same token rotates: not reuse, not grace')
  t.equal(await sessions.isLive('late-rotate', session.id), true, 'the session is intact')
})

t.test('login: a session created late does not exist and evicts nothing', async (t) => {
  const { sessions, redis } = await core(t)
  const first = await sessions.create('late-create')
  const second = await sessions.create('late-create') // at the cap of 2
  await frozenWrite(t, redis, () => sessions.create('late-create'))
  const listed = (await sessions.list('late-create')).map((s) => s.id).sort()
  t.same(listed, [first.session.id, second.session.id].sort(), 'no orphan session, nothing evicted')
})

t.test('logout, revoke and revoke-all that arrive late revoke nothing', async (t) => {
  const { sessions, redis } = await core(t)
  const { token, session } = await sessions.create('late-revoke')
  await frozenWrite(t, redis, () => sessions.revokeByToken(token))
  t.equal(await sessions.isLive('late-revoke', session.id), true, 'after a late logout')
  await frozenWrite(t, redis, () => sessions.revoke('late-revoke', session.id))
  t.equal(await sessions.isLive('late-revoke', session.id), true, 'after a late revoke')
  await frozenWrite(t, redis, () => sessions.revokeAll('late-revoke'))
  t.equal(await sessions.isLive('late-revoke', session.id), true, 'after a late revoke-all')
  t.equal((await sessions.rotate(token)).outcome, 'rotated', 'and the token still refreshes')
})

t.test('login limiter: an attempt counted late is not counted, a release given back late is not given', async (t) => {
  const redis = await connectRedis(t, server)
  const limiter = new RedisLoginLimiter({ redis, prefix: uniquePrefix('late-limit'), commandTimeoutMs: TIMEOUT_MS, limits: { perUserIp: { max: 1, windowMs: 60_000 }, perIp: { max: 100, windowMs: 60_000 } } })
  t.teardown(() => limiter.close())
  await frozenWrite(t, redis, () => limiter.reserve('mallory', '203.0.113.5'))
  t.equal(await limiter.reserve('mallory', '203.0.113.5'), 0, 'the late reservation counted nothing: the one allowed attempt is still there')
  await frozenWrite(t, redis, () => limiter.release('mallory', '203.0.113.5'))
  t.ok(await limiter.reserve('mallory', '203.0.113.5') > 0, 'the late release gave nothing back')
})

t.test('over HTTP: a refresh answered 503 changes nothing, and the client that retries after the grace window is not taken for a thief', async (t) => {
  const redis = await connectRedis(t, server)
  const reuses: unknown[] = []
  const { app } = await buildApp(t, { options: { redis, prefix: uniquePrefix('late-http'), commandTimeout: `${TIMEOUT_MS}ms`, refreshToken: { reuseGrace: `${GRACE_MS}ms` }, onReuseDetected: (event) => { reuses.push(event) } } })
  await (app.refreshSessions.store as RedisStore).measureClock()
  const { refreshToken, sessionId } = await login(app)
  const refresh = async (): Promise<Awaited<ReturnType<typeof app.inject>>> => await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshToken } })
  const before = await scriptCalls()
  process.kill(server.pid!, 'SIGSTOP')
  let frozen
  try {
    frozen = await refresh()
  } finally {
    process.kill(server.pid!, 'SIGCONT')
  }
  t.equal(frozen.statusCode, 503)
  t.equal(frozen.json().code, 'AUTH_STORE_UNAVAILABLE')
  t.equal(refreshCookie(frozen), undefined, 'the 503 neither sets nor clears the refresh cookie')
  t.ok(await scriptsRanSince(before), 'the late rotation reached Redis')
  await redis.ping()
  await sleep(GRACE_MS + 100)
  const retry = await refresh()
  t.equal(retry.statusCode, 200, 'the same cookie refreshes')
  t.equal(retry.json().sessionId, sessionId, 'the same session')
  t.same(reuses, [], 'no reuse alarm')
  const sessions = await app.inject({ method: 'GET', url: '/auth/sessions', headers: { authorization: `Bearer ${retry.json().accessToken}` } })
  t.equal(sessions.json().sessions.length, 1, 'one session, no branch')
})
