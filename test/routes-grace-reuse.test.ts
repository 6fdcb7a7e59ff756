/**
 * Grace and reuse detection over real HTTP (app.listen + fetch with explicit Cookie headers), with
 * real concurrency, against the Redis store on a real redis-server and against the memory store.
 */
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ALICE, buildApp, type BuildOptions, type BuiltApp } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const CLEARED = 'refresh_token=; Max-Age=0; Path=/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict'
const INVALID = { statusCode: 401, code: 'AUTH_REFRESH_INVALID', error: 'Unauthorized', message: 'The refresh token is invalid or expired' }
const REUSED = { statusCode: 401, code: 'AUTH_REFRESH_REUSED', error: 'Unauthorized', message: 'The refresh token was already used; the session has been revoked' }
const COOKIE_PATTERN = /^refresh_token=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}); Max-Age=\d+; Path=\/auth; HttpOnly; Secure; SameSite=Strict$/

interface HttpResult { status: number, body: Record<string, unknown> | null, setCookie: string[], token: string | null }

interface Served extends BuiltApp { post (path: string, headers?: Record<string, string>, body?: unknown): Promise<HttpResult> }

type Store = (t: Test) => Promise<BuildOptions['options']>

// One redis-server for the file; each test gets its own client and key prefix.
let redisServer: ReturnType<typeof redisForTest> | undefined
const stores: Array<[string, Store]> = [
  ['redis', async (sub) => {
    redisServer ??= redisForTest(t, { allowExternal: false })
    return { redis: await connectRedis(sub, await redisServer), prefix: uniquePrefix('routes-grace') }
  }],
  ['memory', async () => ({})]
]

async function serve (t: Test, store: Store, options: BuildOptions['options'] = {}): Promise<Served> {
  const built = await buildApp(t, { options: { ...await store(t), ...options } })
  const base = await built.app.listen({ host: '127.0.0.1', port: 0 })
  return {
    ...built,
    async post (path, headers = {}, body) {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) })
      })
      const text = await response.text()
      const setCookie = response.headers.getSetCookie()
      const token = setCookie.length === 1 ? COOKIE_PATTERN.exec(setCookie[0]!)?.[1] ?? null : null
      return { status: response.status, body: text === '' ? null : JSON.parse(text) as Record<string, unknown>, setCookie, token }
    }
  }
}

async function httpLogin (served: Served): Promise<{ token: string, sessionId: string, accessToken: string }> {
  const result = await served.post('/auth/login', {}, { username: ALICE.username, password: ALICE.password })
  if (result.status !== 200 || result.token === null) throw new Error(`login failed: ${result.status}`)
  return { token: result.token, sessionId: result.body!.sessionId as string, accessToken: result.body!.accessToken as string }
}

const cookie = (token: string) => ({ cookie: `refresh_token=${token}` })

for (const [name, store] of stores) {
  t.test(`${name}: 20 parallel refreshes with one cookie all get 200 and the same new refresh token`, async (t) => {
    const served = await serve(t, store)
    const { token, sessionId } = await httpLogin(served)
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => served.post('/auth/refresh', { ...cookie(token), 'user-agent': `tab/${i}` })))
    t.same(results.map((r) => r.status), Array(20).fill(200), 'every request got 200')
    t.ok(results.every((r) => r.setCookie.length === 1 && r.token !== null), 'every response set one well-formed refresh cookie')
    const tokens = new Set(results.map((r) => r.token))
    t.equal(tokens.size, 1, 'one new token: parallel requests converge instead of branching')
    const next = [...tokens][0]!
    t.not(next, token)
    t.ok(results.every((r) => r.body!.sessionId === sessionId))
    const graces = (served.events.onRefresh as Array<{ grace: boolean }>).map((e) => e.grace)
    t.equal(graces.filter((g) => !g).length, 1, 'exactly one real rotation')
    t.equal(graces.filter((g) => g).length, 19, 'the others were grace replays')
    t.equal(served.events.onReuseDetected, undefined)

    const after = await served.post('/auth/refresh', cookie(next))
    t.equal(after.status, 200, 'the converged token rotates on')
    t.not(after.token, next)
    t.same((await served.app.refreshSessions.listSessions(ALICE.id)).map((s) => s.id), [sessionId], 'still one session')
  })

  t.test(`${name}: the just-retired token after the grace window: 401 AUTH_REFRESH_REUSED, the whole session dies`, async (t) => {
    // A 1 s grace window (the real default is 10 s) so the test waits ~1.3 s.
    const served = await serve(t, store, { refreshToken: { reuseGrace: '1s' } })
    const { token: first, sessionId } = await httpLogin(served)
    const rotated = await served.post('/auth/refresh', cookie(first))
    t.equal(rotated.status, 200)
    const newest = rotated.token!
    const replay = await served.post('/auth/refresh', cookie(first))
    t.equal(replay.status, 200, 'inside the window: a grace replay')
    t.equal(replay.token, newest, 'the grace replay hands back the same newest token')

    await sleep(1300)
    const reused = await served.post('/auth/refresh', { ...cookie(first), 'user-agent': 'thief/1.0' })
    t.equal(reused.status, 401)
    t.same(reused.body, REUSED)
    t.same(reused.setCookie, [CLEARED], 'cookie cleared')
    t.same(served.events.onReuseDetected, [{ userId: ALICE.id, sessionId, ip: '127.0.0.1', userAgent: 'thief/1.0', reuse: 'predecessor' }])

    const victim = await served.post('/auth/refresh', cookie(newest))
    t.equal(victim.status, 401, 'the newest token of the session is dead too')
    t.same(victim.body, INVALID)
    t.same(victim.setCookie, [CLEARED])
    const again = await served.post('/auth/refresh', cookie(first))
    t.same(again.body, INVALID, 'the session is gone: the old token is now merely invalid')
    t.same(await served.app.refreshSessions.listSessions(ALICE.id), [])
    t.equal(served.events.onReuseDetected!.length, 1, 'one theft, one event')
  })

  t.test(`${name}: a token two rotations back inside its grace window: 401 AUTH_REFRESH_INVALID, cookie kept, session untouched`, async (t) => {
    // The late duplicate of a retried request (the client already holds a newer token).
    const served = await serve(t, store)
    const { token: a } = await httpLogin(served)
    const b = (await served.post('/auth/refresh', cookie(a))).token!
    const c = (await served.post('/auth/refresh', cookie(b))).token!
    const stale = await served.post('/auth/refresh', cookie(a))
    t.equal(stale.status, 401)
    t.same(stale.body, INVALID)
    t.same(stale.setCookie, [], 'no Set-Cookie: clearing would log out the tab holding the newest token')
    t.equal(served.events.onReuseDetected, undefined, 'not theft')
    t.equal((await served.post('/auth/refresh', cookie(c))).status, 200, 'the newest token still works')
  })

  t.test(`${name}: a token three rotations back: 401 AUTH_REFRESH_REUSED (older) even inside the grace window`, async (t) => {
    const served = await serve(t, store)
    const { token: a, sessionId } = await httpLogin(served)
    const z = (await served.post('/auth/refresh', cookie(a))).token!
    const b = (await served.post('/auth/refresh', cookie(z))).token!
    const c = (await served.post('/auth/refresh', cookie(b))).token!
    t.ok(a !== b && b !== c && a !== c && z !== c)
    const reused = await served.post('/auth/refresh', { ...cookie(a), 'user-agent': 'thief/2.0' })
    t.equal(reused.status, 401)
    t.same(reused.body, REUSED)
    t.same(reused.setCookie, [CLEARED])
    t.same(served.events.onReuseDetected, [{ userId: ALICE.id, sessionId, ip: '127.0.0.1', userAgent: 'thief/2.0', reuse: 'older' }])
    const newest = await served.post('/auth/refresh', cookie(c))
    t.equal(newest.status, 401, 'the newest token is dead')
    t.same(newest.body, INVALID)
    const predecessor = await served.post('/auth/refresh', cookie(b))
    t.same(predecessor.body, INVALID, 'and so is the one in its grace window')
  })

  t.test(`${name}: refreshes racing logout and logout-all: no token handed out works once the revoke has answered`, async (t) => {
    const served = await serve(t, store)
    for (const revoke of ['logout', 'logout-all'] as const) {
      const { token, accessToken } = await httpLogin(served)
      // Stagger the racers around the revoke so some land before it, some with it and some after.
      const racers = Array.from({ length: 12 }, (_, i) => sleep(i % 4).then(() => served.post('/auth/refresh', cookie(token))))
      const revoked = sleep(1).then(() => revoke === 'logout'
        ? served.post('/auth/logout', cookie(token))
        : served.post('/auth/logout-all', { authorization: `Bearer ${accessToken}` }))
      const [results, answer] = await Promise.all([Promise.all(racers), revoked])
      t.equal(answer.status, 204, `${revoke} answered 204`)
      t.ok(results.every((r) => r.status === 200 || r.status === 401), `${revoke}: every racer got 200 or 401, never 5xx`)
      const handedOut = new Set([token, ...results.flatMap((r) => r.token === null ? [] : [r.token])])
      for (const candidate of handedOut) {
        const after = await served.post('/auth/refresh', cookie(candidate))
        t.equal(after.status, 401, `${revoke}: a token handed out during the race is dead`)
      }
      t.same(await served.app.refreshSessions.listSessions(ALICE.id), [], `${revoke}: no session left`)
    }
  })
}
