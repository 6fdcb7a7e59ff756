/**
 * The DPoP scenarios' server: the plugin on the runner's Redis with DPoP on or off, and sessions
 * minted by real logins, each with a proof by the runner's key when DPoP is on. The iat window is
 * widened (`5m`) so that proofs the runner signs before a run stay valid through it: the proof
 * checks cost the same whatever the window.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { CompactSign, importJWK, type JWK } from 'jose'
import { randomUUID } from 'node:crypto'
import refreshSessions from '../../src/index.js'
import { CHEAP_ARGON2, HS256_SECRET, hashPassword, PASSWORD, redisFor, userName, usersWithHash } from './fixtures.js'
import { REFRESH_COOKIE, setCookieValue } from '../../support/set-cookie.js'

export const DPOP_IAT_WINDOW = '5m'

export function dpopMode (): { on: boolean, jwk: JWK } {
  const jwk = JSON.parse(process.env.BENCH_DPOP_JWK ?? 'null') as JWK | null
  if (jwk === null) throw new Error('BENCH_DPOP_JWK is not set: run these scenarios with bench/dpop.ts')
  return { on: process.env.BENCH_DPOP === 'on', jwk }
}

export async function dpopApp (redisUrl: string, on: boolean): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(refreshSessions, {
    accessToken: { secret: HS256_SECRET, ttl: '15m' },
    redis: redisFor(app, redisUrl),
    prefix: `bench-dpop${process.pid}:`,
    argon2: CHEAP_ARGON2,
    dpop: on ? { iatWindow: DPOP_IAT_WINDOW } : false,
    findUser: usersWithHash(/^user-\d+$/, await hashPassword(CHEAP_ARGON2))
  })
  app.get('/me', { preHandler: app.authenticate }, async (request) => ({ id: request.user.id }))
  return app
}

/** A DPoP proof by the private `jwk` (ES256). */
export async function signProof (jwk: JWK, htm: string, htu: string, ath?: string): Promise<string> {
  const { d: _d, ...publicJwk } = jwk
  const payload = { htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...(ath !== undefined && { ath }) }
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
    .sign(await importJWK(jwk, 'ES256'))
}

/** `count` sessions of distinct users by real logins, bound to the key when DPoP is on. */
export async function mintDpopSessions (app: FastifyInstance, count: number, on: boolean, jwk: JWK): Promise<Array<{ accessToken: string, refreshToken: string }>> {
  const sessions = []
  for (let i = 0; i < count; i++) {
    const dpop = on ? await signProof(jwk, 'POST', 'http://127.0.0.1/auth/login') : undefined
    const response = await app.inject({ method: 'POST', url: '/auth/login', headers: { host: '127.0.0.1', ...(dpop !== undefined && { dpop }) }, payload: { username: userName(i), password: PASSWORD } })
    if (response.statusCode !== 200) throw new Error(`login for minting answered ${response.statusCode}: ${response.body}`)
    sessions.push({ accessToken: (response.json() as { accessToken: string }).accessToken, refreshToken: setCookieValue(response.headers['set-cookie'], REFRESH_COOKIE)! })
  }
  return sessions
}
