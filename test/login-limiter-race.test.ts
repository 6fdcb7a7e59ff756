/**
 * The login limiter race, through the route: N attempts sent at the same instant must not all
 * pass the limit before any failure is counted. The attempt is reserved (counted) before the
 * password is verified, so against max 10, exactly 10 of 30 parallel wrong-password logins get
 * a 401 and 20 get a 429, in memory and on Redis (there also spread over two app instances).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ALICE, buildApp } from './helpers/build-app.js'
import { redisForTest } from '../support/redis-harness.js'
import { connectRedis, uniquePrefix } from './helpers/redis-clients.js'

const LIMITS = { perUserIp: { max: 10, window: '1m' }, perIp: { max: 100, window: '1m' } }
const PARALLEL = 30

const attempt = (app: FastifyInstance, password: string, remoteAddress: string): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { username: ALICE.username, password } })

function tally (responses: LightMyRequestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const response of responses) counts[response.statusCode] = (counts[response.statusCode] ?? 0) + 1
  return counts
}

async function race (t: Test, apps: FastifyInstance[], ip: string): Promise<void> {
  const responses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => attempt(apps[i % apps.length]!, 'wrong-password', ip)))
  const counts = tally(responses)
  t.comment(`${PARALLEL} parallel wrong-password logins: ${JSON.stringify(counts)}`)
  t.same(counts, { 401: 10, 429: 20 }, 'exactly max (10) x 401 and the rest x 429')
  for (const response of responses.filter((r) => r.statusCode === 429)) {
    if (response.json().code !== 'AUTH_TOO_MANY_ATTEMPTS' || !/^\d+$/.test(String(response.headers['retry-after']))) t.fail(`a bad 429: ${response.body}`)
  }
  const after = await attempt(apps[0]!, ALICE.password, ip)
  t.equal(after.statusCode, 429, 'then even the right password is refused')
}

/**
 * Successes racing failures. An attempt counts from the moment it is admitted until a success
 * gives it back, so at most max attempts of one username+ip are in flight at once: a burst of
 * more than max parallel logins gets 429s even for the right password (the price of closing the
 * race). What must hold: only 200/401/429, no more 401s than wrong passwords, at least max admitted.
 */
async function mixed (t: Test, apps: FastifyInstance[], ip: string): Promise<void> {
  const responses = await Promise.all(Array.from({ length: 28 }, (_, i) => attempt(apps[i % apps.length]!, i < 20 ? ALICE.password : 'wrong-password', ip)))
  const counts = tally(responses)
  t.comment(`20 right + 8 wrong in parallel: ${JSON.stringify(counts)}`)
  t.ok((counts[401] ?? 0) <= 8, 'no more 401s than wrong passwords')
  t.equal((counts[200] ?? 0) + (counts[401] ?? 0) + (counts[429] ?? 0), 28, 'only 200, 401 and 429')
  t.ok((counts[200] ?? 0) + (counts[401] ?? 0) >= 10, 'at least max attempts admitted')
}

t.test('memory store: 30 parallel wrong-password logins against max 10', async (t) => {
  const { app } = await buildApp(t, { options: { loginLimits: LIMITS } })
  await race(t, [app], '198.51.100.201')
  await mixed(t, [app], '198.51.100.202')
})

t.test('redis, two app instances: 30 parallel wrong-password logins against max 10', async (t) => {
  const server = await redisForTest(t, { allowExternal: false })
  const prefix = uniquePrefix('login-race')
  const one = await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, loginLimits: LIMITS } })
  const two = await buildApp(t, { options: { redis: await connectRedis(t, server), prefix, loginLimits: LIMITS } })
  await race(t, [one.app, two.app], '203.0.113.201')
  await race(t, [one.app], '203.0.113.202')
  await mixed(t, [one.app, two.app], '203.0.113.203')
})
