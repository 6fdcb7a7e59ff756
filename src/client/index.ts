/**
 * fastify-refresh-sessions/client: a small fetch-based client for browsers and Node.
 *
 * - keeps the access token in memory (never in storage) and adds it as a Bearer header;
 * - refreshes ahead of expiry, and ONCE for any number of concurrent callers (single flight);
 * - in a browser, coordinates tabs: a Web Lock makes one tab refresh while the others wait, and a
 *   BroadcastChannel hands them its new access token, so N tabs make one refresh, not N;
 * - retries a request once after a refresh when the server refused its access token;
 * - retries a refresh answered 503 (or lost to the network) with bounded, jittered backoff: the
 *   server guarantees a 503 changed nothing, so the same refresh token is still the one to send;
 * - reports a lost session with a `session-lost` event;
 * - follows an RFC 9470 step-up challenge (401 `insufficient_user_authentication`) by asking the
 *   app to re-authenticate (`onStepUp`), then retries the request once;
 * - with `dpop`, holds a non-extractable WebCrypto ES256 key (IndexedDB in browsers, memory in
 *   Node) and signs a DPoP proof (RFC 9449) for login, refresh and, with a DPoP-bound token, every
 *   call through `fetch`; a `use_dpop_nonce` answer is retried once with the server's nonce.
 *
 * Self-contained on purpose (no imports): the demo serves it to browsers as is.
 */

export interface TokenResponse {
  accessToken: string
  /** 'DPoP': the session is bound to this client's key, and the token is sent with proofs. */
  tokenType: 'Bearer' | 'DPoP'
  expiresIn: number
  sessionId: string
  refreshToken?: string
}

export interface ClientOptions {
  /** Origin of the API ('' = same origin, the default in a browser); `fetch('/path')` goes there too. */
  baseUrl?: string
  /** Where the plugin's routes live (default '/auth'). */
  authPrefix?: string
  /** The fetch to use (default globalThis.fetch); Node callers may pass one with a cookie jar. */
  fetch?: typeof fetch
  /** Refresh when the access token has less than this many seconds left (default 30, at most a fifth of its life). */
  refreshAheadSeconds?: number
  /** Also refresh on a timer ahead of expiry, so an idle page keeps a fresh token (default false). */
  autoRefresh?: boolean
  /** 'cookie' (default): the refresh token is an httpOnly cookie; 'body': the client keeps it. */
  transport?: 'cookie' | 'body'
  /** With the body transport: where to keep the refresh token (default: memory only). */
  refreshTokenStore?: { get (): string | null, set (token: string | null): void }
  clientId?: string
  /** Coordinate refreshes across tabs with Web Locks + BroadcastChannel (default: when available). */
  crossTab?: boolean
  /** Channel / lock name, to run several clients on one origin (default 'fastify-refresh-sessions'). */
  name?: string
  /**
   * A refresh answered 503 or lost to the network is retried up to `attempts` more times, after
   * `baseDelayMs`, then twice that, and so on up to `maxDelayMs` (each jittered, and never sooner
   * than a Retry-After header asks). Defaults: 3, 250, 4000. `{ attempts: 0 }` turns it off.
   */
  refreshRetry?: { attempts?: number, baseDelayMs?: number, maxDelayMs?: number }
  /**
   * Bind the session to a device key with DPoP: `true` keeps a non-extractable ES256 key in
   * IndexedDB (browsers; shared by the origin's tabs) or in memory (Node); or give a store of
   * your own. Needs an absolute `baseUrl` outside a browser (proofs name the full URL).
   */
  dpop?: boolean | DpopKeyStore
  /**
   * Called when a request is refused for a sign-in too old or of the wrong method (401
   * AUTH_STEP_UP_REQUIRED, RFC 9470 `insufficient_user_authentication`): re-authenticate the user
   * (`client.reauthenticate(username, password)`, or your own passkey route then
   * `client.acceptTokens(body)`), and the request is retried once. Throw (or resolve without
   * re-authenticating) to give the 401 to the caller. Without it, the 401 goes to the caller.
   */
  onStepUp?: (challenge: StepUpChallenge) => Promise<void> | void
}

/** What a step-up challenge asks for: `maxAge` seconds since the sign-in, and / or one of the `amr` methods. */
export interface StepUpChallenge {
  maxAge: number | null
  amr: string[]
}

/** Where the client keeps its DPoP key pair (the private key non-extractable). */
export interface DpopKeyStore {
  load (): Promise<CryptoKeyPair | null>
  save (pair: CryptoKeyPair): Promise<void>
}

export type SessionLostReason = 'refresh-failed' | 'logged-out' | 'reused'

interface SharedToken { type: 'token', accessToken: string, expiresAt: number, sessionId: string, tokenType: 'Bearer' | 'DPoP' }
interface SharedLogout { type: 'logout' }
/** A tab's refresh ended without a token: wakes the tabs waiting for its result. */
interface SharedFailure { type: 'refresh-failed' }

/** How long a tab that waited for the refresh lock waits for the holder's result to arrive. */
const HANDOFF_MS = 1000
const WAITED = Symbol('waited')

export class RefreshSessionsClient extends EventTarget {
  readonly #origin: string
  readonly #base: string
  readonly #fetch: typeof fetch
  readonly #aheadMs: number
  readonly #transport: 'cookie' | 'body'
  readonly #refreshTokens: { get (): string | null, set (token: string | null): void }
  readonly #clientId: string | undefined
  readonly #lockName: string
  readonly #channel: BroadcastChannel | null
  readonly #locks: LockManager | null
  readonly #autoRefresh: boolean
  readonly #retry: { attempts: number, baseDelayMs: number, maxDelayMs: number }
  readonly #onStepUp: ClientOptions['onStepUp']
  #steppingUp: Promise<void> | null = null
  #timer: ReturnType<typeof setTimeout> | undefined
  #accessToken: string | null = null
  #expiresAt = 0
  /** When to refresh: expiresAt minus the refresh-ahead margin. */
  #refreshAt = 0
  #sessionId: string | null = null
  #tokenType: 'Bearer' | 'DPoP' = 'Bearer'
  readonly #dpop: DpopSigner | null
  #refreshing: Promise<string | null> | null = null
  /** Refresh results heard from other tabs, and who waits for the next one. */
  #heard = 0
  #onHeard: Array<() => void> = []

  constructor (options: ClientOptions = {}) {
    super()
    this.#origin = options.baseUrl ?? ''
    this.#base = this.#origin + (options.authPrefix ?? '/auth')
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.#aheadMs = (options.refreshAheadSeconds ?? 30) * 1000
    this.#transport = options.transport ?? 'cookie'
    let memory: string | null = null
    this.#refreshTokens = options.refreshTokenStore ?? { get: () => memory, set: (token) => { memory = token } }
    this.#clientId = options.clientId
    this.#autoRefresh = options.autoRefresh ?? false
    this.#retry = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4000, ...options.refreshRetry }
    this.#onStepUp = options.onStepUp
    this.#dpop = options.dpop === undefined || options.dpop === false ? null : new DpopSigner(options.dpop === true ? defaultKeyStore(options.name ?? 'fastify-refresh-sessions') : options.dpop)
    const name = options.name ?? 'fastify-refresh-sessions'
    this.#lockName = `${name}:refresh`
    // Not by default in Node: Node 24 has navigator.locks and BroadcastChannel too, and there every
    // client in a process (often one per user) would adopt the others' tokens as if they were tabs.
    const inNode = typeof globalThis.process?.versions?.node === 'string'
    const crossTab = options.crossTab ?? (!inNode && typeof BroadcastChannel === 'function' && typeof navigator !== 'undefined' && 'locks' in navigator)
    this.#locks = crossTab && typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : null
    this.#channel = crossTab && typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : null
    this.#channel?.addEventListener('message', (event: MessageEvent<SharedToken | SharedLogout | SharedFailure>) => {
      if (event.data?.type === 'token') this.#adopt(event.data.accessToken, event.data.expiresAt, event.data.sessionId, event.data.tokenType ?? 'Bearer', false)
      if (event.data?.type === 'logout') this.#forget('logged-out', false)
      this.#heard++
      for (const wake of this.#onHeard.splice(0)) wake()
    })
  }

  get accessToken (): string | null { return this.#accessToken }
  /** Epoch ms at which the access token expires (0 without one). */
  get expiresAt (): number { return this.#expiresAt }
  get sessionId (): string | null { return this.#sessionId }
  /** 'DPoP' once the session is bound to this client's key. */
  get tokenType (): 'Bearer' | 'DPoP' { return this.#tokenType }
  /** The RFC 7638 thumbprint of this client's DPoP key (null without dpop). */
  async dpopThumbprint (): Promise<string | null> { return await this.#dpop?.thumbprint() ?? null }

  async login (username: string, password: string): Promise<TokenResponse> {
    const response = await this.#post('/login', { username, password, ...(this.#clientId !== undefined && { clientId: this.#clientId }) }, true)
    if (!response.ok) throw await ClientError.from(response)
    const body = await response.json() as TokenResponse
    this.#accept(body)
    return body
  }

  /**
   * Prove the password again (POST /reauthenticate): this session's sign-in becomes recent, with
   * amr ['pwd']; the new access token is kept. Throws ClientError (401 AUTH_INVALID_CREDENTIALS...).
   */
  async reauthenticate (username: string, password: string): Promise<TokenResponse> {
    const response = await this.#send(`${this.#base}/reauthenticate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) }, false)
    if (!response.ok) throw await ClientError.from(response)
    const body = await response.json() as TokenResponse
    this.#accept(body)
    return body
  }

  /**
   * Adopt a token response the app got itself: from its own sign-in route that calls
   * startSession (a passkey, an OAuth callback), or from its re-authentication route.
   */
  acceptTokens (body: TokenResponse): void {
    this.#accept(body)
  }

  /** Log out this session (idempotent) and forget the tokens. */
  async logout (): Promise<void> {
    const token = this.#refreshTokens.get()
    try {
      await this.#post('/logout', this.#transport === 'body' && token !== null ? { refreshToken: token } : undefined)
    } finally {
      this.#forget('logged-out', true)
    }
  }

  /** Log out every session of the user. */
  async logoutAll (): Promise<void> {
    const response = await this.fetch(`${this.#base}/logout-all`, { method: 'POST' })
    if (!response.ok && response.status !== 401) throw await ClientError.from(response)
    this.#forget('logged-out', true)
  }

  /**
   * fetch with the Bearer token: refreshes first when the token is missing or about to expire,
   * and once more (then retries once) if the server still refuses it. A step-up challenge goes to
   * `onStepUp`, and the request is retried once after it.
   */
  async fetch (input: string | URL, init: RequestInit = {}): Promise<Response> {
    return await this.#send(input, init, true)
  }

  async #send (input: string | URL, init: RequestInit, stepUp: boolean): Promise<Response> {
    // A path is relative to baseUrl (Node's fetch has no page URL to resolve it against).
    if (typeof input === 'string' && input.startsWith('/') && !input.startsWith('//')) input = this.#origin + input
    let token = this.#accessToken
    if (token === null || Date.now() >= this.#refreshAt) token = await this.refresh()
    let response = await this.#call(input, init, token)
    if (response.status === 401 && isTokenRefusal(response)) {
      const renewed = await this.refresh(token)
      if (renewed === null || renewed === token) return response
      token = renewed
      response = await this.#call(input, init, renewed)
    }
    const challenge = response.status === 401 ? stepUpChallenge(response) : null
    if (challenge === null || !stepUp || this.#onStepUp === undefined) return response
    // Refused while another call's step-up was under way (or done): its new token is tried first, no second prompt.
    if (this.#steppingUp === null && this.#accessToken !== null && this.#accessToken !== token) return await this.#call(input, init, this.#accessToken)
    try {
      // One re-authentication for every request refused meanwhile (one prompt, not one per call).
      this.#steppingUp ??= (async () => { await this.#onStepUp!(challenge) })().finally(() => { this.#steppingUp = null })
      await this.#steppingUp
    } catch {
      return response
    }
    // Nothing new to send (the app did not re-authenticate): the caller gets the 401.
    if (this.#accessToken === null || this.#accessToken === token) return response
    return await this.#call(input, init, this.#accessToken)
  }

  /** One API call with the access token: Bearer, or DPoP with a proof (retried once for a nonce). */
  async #call (input: string | URL | Request, init: RequestInit, token: string | null): Promise<Response> {
    if (this.#dpop === null || token === null || this.#tokenType !== 'DPoP') return await this.#fetch(input, withBearer(init, token))
    const url = new URL(input instanceof Request ? input.url : input, pageUrl())
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    return await this.#withNonceRetry(async () => {
      const headers = new Headers(init.headers)
      headers.set('authorization', `DPoP ${token}`)
      headers.set('dpop', await this.#dpop!.proof(method, url, token))
      return await this.#fetch(input, { ...init, headers })
    })
  }

  /** RFC 9449 section 8: a server that asks for a nonce gets one more request, with it. */
  async #withNonceRetry (send: () => Promise<Response>): Promise<Response> {
    const response = await send()
    this.#dpop?.heard(response)
    if (this.#dpop === null || !isNonceRequest(response)) return response
    const retried = await send()
    this.#dpop.heard(retried)
    return retried
  }

  /**
   * Get a fresh access token: one refresh in flight per tab, one per origin with cross-tab
   * coordination. `stale` is the token a caller saw refused: a newer one is returned as is.
   */
  async refresh (stale?: string | null): Promise<string | null> {
    if (this.#refreshing !== null) return await this.#refreshing
    if (stale !== undefined && this.#accessToken !== null && this.#accessToken !== stale && this.#fresh()) return this.#accessToken
    this.#refreshing = (async () => {
      try {
        if (this.#locks === null) return await this.#refreshNow()
        const tokenBefore = this.#accessToken
        const heard = this.#heard
        const mine = await this.#locks.request(this.#lockName, { ifAvailable: true }, async (lock) => lock === null ? WAITED : await this.#refreshNow())
        if (mine !== WAITED) return mine
        return await this.#locks.request(this.#lockName, async () => {
          // Another tab held the lock: it refreshed, and its token may still be on its way here
          // (the lock can be granted before the BroadcastChannel message arrives).
          await this.#hearSince(heard)
          if (this.#accessToken !== tokenBefore && this.#fresh()) return this.#accessToken
          return await this.#refreshNow()
        })
      } finally {
        this.#refreshing = null
      }
    })()
    return await this.#refreshing
  }

  #fresh (): boolean {
    return this.#accessToken !== null && Date.now() < this.#refreshAt
  }

  /** Resolves once another tab has reported a refresh result since `heard`, or after HANDOFF_MS. */
  async #hearSince (heard: number): Promise<void> {
    if (this.#heard !== heard) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HANDOFF_MS)
      this.#onHeard.push(() => { clearTimeout(timer); resolve() })
    })
  }

  async #refreshNow (): Promise<string | null> {
    const token = await this.#refreshOnce()
    if (token === null) this.#channel?.postMessage({ type: 'refresh-failed' } satisfies SharedFailure)
    return token
  }

  async #refreshOnce (): Promise<string | null> {
    const token = this.#refreshTokens.get()
    if (this.#transport === 'body' && token === null) {
      this.#forget('refresh-failed', false)
      return null
    }
    const body = { ...(this.#transport === 'body' && { refreshToken: token }), ...(this.#clientId !== undefined && { clientId: this.#clientId }) }
    let response: Response | null = null
    for (let attempt = 0; ; attempt++) {
      try {
        response = await this.#post('/refresh', Object.keys(body).length > 0 ? body : undefined, true)
      } catch {
        response = null // network down
      }
      if ((response === null || response.status === 503) && attempt < this.#retry.attempts) {
        await sleep(this.#retryDelay(attempt, response))
        continue
      }
      break
    }
    // Still unavailable: keep the session, the next call tries again.
    if (response === null || response.status === 503) return null
    if (response.ok) {
      const accepted = await response.json() as TokenResponse
      this.#accept(accepted)
      return accepted.accessToken
    }
    if (response.status === 401 || response.status === 403) {
      const code = await errorCode(response)
      this.#forget(code === 'AUTH_REFRESH_REUSED' ? 'reused' : 'refresh-failed', true)
    }
    return null
  }

  /** Exponential, capped, with equal jitter (so that clients refused together do not return together), and never before Retry-After. */
  #retryDelay (attempt: number, response: Response | null): number {
    const { baseDelayMs, maxDelayMs } = this.#retry
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt)
    const jittered = backoff / 2 + Math.random() * (backoff / 2)
    const retryAfter = Number(response?.headers.get('retry-after'))
    return Number.isFinite(retryAfter) && retryAfter > 0 ? Math.max(jittered, Math.min(maxDelayMs, retryAfter * 1000)) : jittered
  }

  #accept (body: TokenResponse): void {
    if (this.#transport === 'body' && typeof body.refreshToken === 'string') this.#refreshTokens.set(body.refreshToken)
    this.#adopt(body.accessToken, Date.now() + body.expiresIn * 1000, body.sessionId, body.tokenType === 'DPoP' ? 'DPoP' : 'Bearer', true)
  }

  #adopt (accessToken: string, expiresAt: number, sessionId: string, tokenType: 'Bearer' | 'DPoP', share: boolean): void {
    this.#accessToken = accessToken
    this.#tokenType = tokenType
    this.#expiresAt = expiresAt
    this.#refreshAt = expiresAt - Math.min(this.#aheadMs, (expiresAt - Date.now()) / 5)
    this.#sessionId = sessionId
    clearTimeout(this.#timer)
    if (this.#autoRefresh) this.#timer = setTimeout(() => { void this.refresh(accessToken) }, Math.max(0, this.#refreshAt - Date.now()))
    if (share) this.#channel?.postMessage({ type: 'token', accessToken, expiresAt, sessionId, tokenType } satisfies SharedToken)
    this.dispatchEvent(new CustomEvent('token', { detail: { accessToken, expiresAt, sessionId } }))
  }

  #forget (reason: SessionLostReason, share: boolean): void {
    const had = this.#accessToken !== null || this.#refreshTokens.get() !== null
    this.#accessToken = null
    this.#expiresAt = 0
    this.#refreshAt = 0
    this.#sessionId = null
    clearTimeout(this.#timer)
    this.#refreshTokens.set(null)
    if (share && reason === 'logged-out') this.#channel?.postMessage({ type: 'logout' } satisfies SharedLogout)
    // Only a session this client knew can be lost: a failed refresh without one (a first visit,
    // calls after a logout) is answered by refresh() returning null, not by another event.
    if (had) this.dispatchEvent(new CustomEvent('session-lost', { detail: { reason } }))
  }

  /** `prove`: login and refresh carry a DPoP proof (a new one per attempt: each jti is used once). */
  async #post (path: string, body: unknown, prove = false): Promise<Response> {
    const url = this.#base + path
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
      if (prove && this.#dpop !== null) headers.dpop = await this.#dpop.proof('POST', new URL(url, pageUrl()))
      return await this.#fetch(url, { method: 'POST', credentials: 'include', headers, ...(body !== undefined && { body: JSON.stringify(body) }) })
    }
    return prove ? await this.#withNonceRetry(send) : await send()
  }

  /** Stop listening to other tabs. */
  close (): void {
    clearTimeout(this.#timer)
    this.#channel?.close()
  }
}

export class ClientError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ClientError'
  }

  static async from (response: Response): Promise<ClientError> {
    const body = await response.json().catch(() => ({})) as { code?: string, message?: string }
    return new ClientError(response.status, body.code ?? 'UNKNOWN', body.message ?? response.statusText)
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

function withBearer (init: RequestInit, token: string | null): RequestInit {
  const headers = new Headers(init.headers)
  if (token !== null) headers.set('authorization', `Bearer ${token}`)
  return { ...init, headers }
}

/** RFC 9449 section 8: the server wants a proof with the nonce it sent in DPoP-Nonce. */
function isNonceRequest (response: Response): boolean {
  return response.status === 401 && response.headers.get('dpop-nonce') !== null && /use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '')
}

/** What relative URLs resolve against: the page in a browser; nothing in Node (baseUrl must be absolute there). */
function pageUrl (): string | undefined {
  return typeof location === 'undefined' ? undefined : location.href
}

const encoder = new TextEncoder()
function base64url (bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let text = ''
  for (const byte of view) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Signs DPoP proofs with a non-extractable ES256 key, made on first use and kept in its store. */
class DpopSigner {
  readonly #store: DpopKeyStore
  #key: Promise<{ pair: CryptoKeyPair, jwk: JsonWebKey }> | null = null
  #nonce: string | null = null

  constructor (store: DpopKeyStore) {
    this.#store = store
  }

  /** Remembers the server's latest nonce. */
  heard (response: Response): void {
    const nonce = response.headers.get('dpop-nonce')
    if (nonce !== null) this.#nonce = nonce
  }

  async proof (method: string, url: URL, accessToken?: string): Promise<string> {
    const { pair, jwk } = await this.#keyPair()
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk }
    const payload = {
      htm: method,
      htu: url.origin + url.pathname,
      iat: Math.floor(Date.now() / 1000),
      jti: crypto.randomUUID(),
      ...(this.#nonce !== null && { nonce: this.#nonce }),
      ...(accessToken !== undefined && { ath: base64url(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken))) })
    }
    const input = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(encoder.encode(JSON.stringify(payload)))}`
    // WebCrypto's ECDSA signature is r || s, which is what JWS wants (not DER).
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, encoder.encode(input))
    return `${input}.${base64url(signature)}`
  }

  /** RFC 7638 SHA-256 thumbprint of the public key: what the server binds the session to. */
  async thumbprint (): Promise<string> {
    const { jwk } = await this.#keyPair()
    return base64url(await crypto.subtle.digest('SHA-256', encoder.encode(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))))
  }

  async #keyPair (): Promise<{ pair: CryptoKeyPair, jwk: JsonWebKey }> {
    this.#key ??= (async () => {
      let pair = await this.#store.load()
      if (pair === null) {
        // Non-extractable: the private key can sign, never leave (IndexedDB keeps it as is).
        pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
        await this.#store.save(pair)
      }
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
      return { pair, jwk: { kty, crv, x, y } }
    })()
    try {
      return await this.#key
    } catch (error) {
      this.#key = null
      throw error
    }
  }
}

/** IndexedDB where there is one (a browser: the key survives reloads, shared by tabs), else memory. */
function defaultKeyStore (name: string): DpopKeyStore {
  if (typeof indexedDB === 'undefined') {
    let pair: CryptoKeyPair | null = null
    return { load: async () => pair, save: async (saved) => { pair = saved } }
  }
  const request = async <T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, 1)
      open.onupgradeneeded = () => { open.result.createObjectStore('keys') }
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error)
    })
    try {
      return await new Promise<T>((resolve, reject) => {
        const call = act(db.transaction('keys', mode).objectStore('keys'))
        call.onsuccess = () => resolve(call.result)
        call.onerror = () => reject(call.error)
      })
    } finally {
      db.close()
    }
  }
  return {
    load: async () => (await request<CryptoKeyPair | undefined>('readonly', (store) => store.get('dpop'))) ?? null,
    save: async (pair) => { await request('readwrite', (store) => store.put(pair, 'dpop')) }
  }
}

/** RFC 9470: the sign-in behind the token is too old (`max_age`) or of another method (`acr_values`, this plugin's amr values); null for any other answer. */
function stepUpChallenge (response: Response): StepUpChallenge | null {
  const header = response.headers.get('www-authenticate') ?? ''
  if (!/error="?insufficient_user_authentication/.test(header)) return null
  const maxAge = /max_age="?(\d+)/.exec(header)
  const acrValues = /acr_values="([^"]*)"/.exec(header)
  return { maxAge: maxAge === null ? null : Number(maxAge[1]), amr: acrValues === null ? [] : acrValues[1]!.split(' ').filter((value) => value !== '') }
}

/** A 401 about the access token itself (RFC 6750 `invalid_token`), not some other 401 of the app. */
function isTokenRefusal (response: Response): boolean {
  return /invalid_token/.test(response.headers.get('www-authenticate') ?? '')
}

async function errorCode (response: Response): Promise<string | undefined> {
  try {
    return ((await response.clone().json()) as { code?: string }).code
  } catch {
    return undefined
  }
}
