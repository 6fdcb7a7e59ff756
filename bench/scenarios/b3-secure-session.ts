/**
 * B3: @fastify/secure-session, the stateless peer of `authenticateSession`: the session lives in
 * an encrypted cookie (libsodium secretbox), so reading it costs no Redis round trip, and it
 * cannot be revoked before it expires. GET /me decrypts the cookie of one of 1 000 sessions
 * created at start (round-robin over the connections) and answers with its user.
 */
import fastifySecureSession from '@fastify/secure-session'
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import { env, serve } from '../lib/child.js'
import { mintSessionCookies, userSessionRoutes } from '../lib/cookie-sessions.js'

const COOKIE = 'session'
const app = Fastify()
await app.register(fastifySecureSession, {
  key: randomBytes(32),
  cookieName: COOKIE,
  // As B2 and our refresh cookie: httpOnly, strict; not Secure, since the bench speaks plain HTTP.
  cookie: { path: '/', httpOnly: true, sameSite: 'strict', secure: false, maxAge: 7 * 86_400 }
})

userSessionRoutes(app)
await app.ready()
await serve(app, { cookies: await mintSessionCookies(app, COOKIE, env.tokens()) })
