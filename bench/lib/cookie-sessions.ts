/**
 * The cookie-session peers (B2 @fastify/session, B3 @fastify/secure-session) serve the same two
 * routes: POST /login puts the user in the session, GET /me reads it back or answers 401. Both
 * plugins give `request.session` a get / set of that shape.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { userName } from './fixtures.js'
import { setCookieValue } from '../../support/set-cookie.js'

interface SessionUser { id: string, roles: string[] }
interface UserSession {
  get (key: 'user'): SessionUser | undefined
  set (key: 'user', value: SessionUser): void
}
const sessionOf = (request: FastifyRequest): UserSession => (request as unknown as { session: UserSession }).session

export function userSessionRoutes (app: FastifyInstance): void {
  app.post<{ Body: { username: string } }>('/login', async (request) => {
    sessionOf(request).set('user', { id: request.body.username, roles: ['user'] })
    return { ok: true }
  })
  app.get('/me', async (request, reply) => {
    const user = sessionOf(request).get('user')
    if (user === undefined) return await reply.code(401).send({ error: 'no session' })
    return { id: user.id }
  })
}

/** `count` sessions of distinct users through POST /login, as the Cookie headers that carry them. */
export async function mintSessionCookies (app: FastifyInstance, cookie: string, count: number): Promise<string[]> {
  const cookies: string[] = []
  for (let i = 0; i < count; i++) {
    const response = await app.inject({ method: 'POST', url: '/login', payload: { username: userName(i) } })
    const value = setCookieValue(response.headers['set-cookie'], cookie)
    if (response.statusCode !== 200 || value === null) throw new Error(`session login answered ${response.statusCode}`)
    cookies.push(`${cookie}=${encodeURIComponent(value)}`)
  }
  return cookies
}
