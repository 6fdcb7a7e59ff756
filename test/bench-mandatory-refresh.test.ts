/**
 * The bench's P3-mandatory stands for "the least a correct refresh costs": its figures only mean
 * that if it keeps the promises it claims to. Each is checked here over HTTP against a real Redis:
 * rotation, grace answered with the same newest token, reuse of an older token revoking the
 * session, the Origin check, the cookie's Max-Age, and only hashes at rest.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { REPO_ROOT, startScenario } from '../bench/lib/spawn.js'
import { REFRESH_COOKIE, setCookieValue } from '../support/set-cookie.js'
import { redisForTest } from '../support/redis-harness.js'

const WEEK_SECONDS = 7 * 86_400

const server = await redisForTest(t, { allowExternal: false })
const redis = new Redis(server.url)
t.teardown(() => { redis.disconnect() })
const scenario = await startScenario(`${REPO_ROOT}bench/scenarios/p3-mandatory.ts`, { env: { BENCH_REDIS_URL: server.url, BENCH_TOKENS: '3' } })
t.teardown(async () => { await scenario.stop() })
const [first = '', second = '', third = ''] = (scenario.data as { refreshTokens: string[] }).refreshTokens

/** The newest token of the third session, for the check at rest. */
let newest = ''

interface Answer { status: number, code: unknown, next: string | null, maxAge: number | null }

async function refresh (token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${scenario.port}/auth/refresh`, { method: 'POST', headers: { cookie: `${REFRESH_COOKIE}=${token}`, ...headers } })
  const body = await response.json() as { code?: unknown }
  const cookie = response.headers.get('set-cookie') ?? undefined
  const maxAge = /Max-Age=(\d+)/.exec(cookie ?? '')?.[1]
  return { status: response.status, code: body.code, next: setCookieValue(cookie, REFRESH_COOKIE), maxAge: maxAge === undefined ? null : Number(maxAge) }
}

t.test('rotation: a new token each time, the cookie living as long as the session', async (t) => {
  const rotated = await refresh(first)
  t.equal(rotated.status, 200)
  t.not(rotated.next, null)
  t.not(rotated.next, first)
  t.ok(rotated.maxAge! > WEEK_SECONDS - 60 && rotated.maxAge! <= WEEK_SECONDS, `Max-Age ${String(rotated.maxAge)}: the idle TTL`)
})

t.test('grace, then reuse: the retired token gets the same newest one; an older one revokes the session', async (t) => {
  const b = (await refresh(second)).next!
  const c = (await refresh(b)).next!
  const replay = await refresh(b)
  t.equal(replay.status, 200, 'the just-retired token, within the grace window')
  t.equal(replay.next, c, 'is answered with the same newest token')
  t.same(await refresh(second), { status: 401, code: 'AUTH_REFRESH_REUSED', next: null, maxAge: null }, 'a token two rotations old is reuse')
  t.equal((await refresh(c)).status, 401, 'and the newest token stops working with the session')
})

t.test('a cross-site POST and a malformed token are refused before any store work', async (t) => {
  t.equal((await refresh(third, { origin: 'https://evil.example' })).status, 403)
  t.same(await refresh('not.a.token'), { status: 401, code: 'AUTH_REFRESH_INVALID', next: null, maxAge: null })
  const after = await refresh(third)
  t.equal(after.status, 200, 'the token still works after both')
  newest = after.next!
})

t.test('at rest: no secret in Redis, only its SHA-256', async (t) => {
  const keys = await redis.keys('bench-min:*')
  const values = await Promise.all(keys.filter((key) => key.includes(':s:')).map(async (key) => await redis.getBuffer(key)))
  t.equal(values.length, 2, 'the records of the two live sessions (the reused one is gone)')
  const secret = newest.split('.')[2]!
  for (const value of values) {
    t.notOk(value!.includes(secret), 'the secret as sent')
    t.notOk(value!.includes(Buffer.from(secret, 'base64url')), 'the secret as bytes')
  }
})
