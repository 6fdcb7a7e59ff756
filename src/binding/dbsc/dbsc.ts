/**
 * Device Bound Session Credentials, the server side: what login, the two DBSC routes and
 * /refresh share. Built once at registration when `dbsc.enabled`; null otherwise.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { ResolvedDbscOptions, ResolvedOptions } from '../../options.js'
import { boundCookieAttributes, setBoundCookie } from '../../http/cookies.js'
import type { Binding } from '../../session/binding.js'
import type { Session } from '../../session/store.js'
import { mintBoundCookie, readBoundCookie } from './bound-cookie.js'
import { issueChallenge } from './challenges.js'
import { LEGACY_REGISTRATION, REGISTRATION, registrationHeader } from './headers.js'
import { MemoryDbscStore } from './memory-store.js'
import { RedisDbscStore } from './redis-store.js'
import type { DbscStore } from './store.js'

/** The session configuration a registration (and a refresh) answers with. */
export interface SessionConfig {
  session_identifier: string
  refresh_url: string
  scope: { include_site: boolean, scope_specification: [] }
  credentials: Array<{ type: 'cookie', name: string, attributes: string }>
}

export class Dbsc {
  readonly store: DbscStore
  readonly settings: ResolvedDbscOptions & { secret: Buffer }
  readonly #cookie: ResolvedOptions['cookie']
  readonly #registerPath: string
  readonly #refreshPath: string

  constructor (options: ResolvedOptions, store: DbscStore) {
    this.store = store
    this.settings = options.dbsc as ResolvedDbscOptions & { secret: Buffer }
    this.#cookie = options.cookie
    this.#registerPath = options.routePrefix + options.dbsc.routes.register
    this.#refreshPath = options.routePrefix + options.dbsc.routes.refresh
  }

  static create (options: ResolvedOptions, redis: Redis | Cluster | undefined): Dbsc | null {
    if (!options.dbsc.enabled) return null
    const store = redis === undefined ? new MemoryDbscStore() : new RedisDbscStore({ redis, prefix: options.prefix, commandTimeoutMs: options.commandTimeoutMs })
    return new Dbsc(options, store)
  }

  /** At login: offer the browser to bind the new session (`Secure-Session-Registration`, and its older name). */
  async offerRegistration (reply: FastifyReply, session: Session): Promise<void> {
    const challenge = await issueChallenge(this.store, this.settings.challengeTtlMs, { purpose: 'register', userId: session.userId, sessionId: session.id })
    const value = registrationHeader(this.#registerPath, challenge)
    reply.header(REGISTRATION, value)
    reply.header(LEGACY_REGISTRATION, value)
  }

  /** A fresh bound cookie for a session whose device just proved its key; returns the session configuration. */
  issueBoundCookie (reply: FastifyReply, sessionId: string, thumbprint: string): SessionConfig {
    const { boundCookieName, boundCookieMaxAgeSeconds, secret } = this.settings
    // Rounded up: the browser keeps the cookie Max-Age seconds from now, and must never send one
    // this server already counts as expired (it would not know to refresh it first).
    const expiresAt = Math.ceil(Date.now() / 1000) + boundCookieMaxAgeSeconds
    setBoundCookie(reply, this.#cookie, boundCookieName, mintBoundCookie(secret, sessionId, thumbprint, expiresAt), boundCookieMaxAgeSeconds)
    reply.header('cache-control', 'no-store')
    return {
      session_identifier: sessionId,
      refresh_url: this.#refreshPath,
      scope: { include_site: false, scope_specification: [] },
      credentials: [{ type: 'cookie', name: boundCookieName, attributes: boundCookieAttributes(this.#cookie) }]
    }
  }

  /** The key a refresh request proved through its bound cookie, for the session `sessionId`; null when it proved none. */
  provedBinding (request: FastifyRequest, sessionId: string | null): Binding | null {
    if (sessionId === null) return null
    return readBoundCookie(this.settings.secret, request.cookies[this.settings.boundCookieName], sessionId, Date.now())
  }
}
