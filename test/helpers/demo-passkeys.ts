/**
 * Driving the demo's passkey and account routes over real HTTP as a browser would: each `Device`
 * keeps its refresh cookie (a cookie jar) and its latest access token; a SoftwareAuthenticator
 * answers the WebAuthn ceremonies on the page origin http://localhost:PORT (the demo's default
 * WebAuthn origin; the requests themselves go to 127.0.0.1).
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server'
import { cookieJarFetch, type JarFetch } from './cookie-jar.js'
import type { DemoServer } from './demo-server.js'
import { SoftwareAuthenticator } from './webauthn-authenticator.js'

export interface Answer {
  status: number
  body: any
  headers: Headers
}

export interface TokenBody { accessToken: string, tokenType: string, expiresIn: number, sessionId: string }

export class Device {
  readonly jar: JarFetch = cookieJarFetch()
  accessToken: string | null = null
  readonly authenticator: SoftwareAuthenticator
  readonly origin: string

  constructor (readonly server: DemoServer, authenticator = new SoftwareAuthenticator()) {
    this.authenticator = authenticator
    this.origin = `http://localhost:${server.port}`
  }

  /** One request with this device's cookies and, unless `bearer: false`, its access token. */
  async call (method: string, path: string, body?: unknown, { bearer = true }: { bearer?: boolean } = {}): Promise<Answer> {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (bearer && this.accessToken !== null) headers.authorization = `Bearer ${this.accessToken}`
    const response = await this.jar.fetch(this.server.url + path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) })
    const text = await response.text()
    return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers }
  }

  /** A 200 with a token body is adopted as this device's access token. */
  async #tokens (answer: Answer): Promise<Answer> {
    if (answer.status === 200) this.accessToken = (answer.body as TokenBody).accessToken
    return answer
  }

  /** POST /auth/register, then a password login: the login's answer. */
  async signUp ({ username, password }: { username: string, password: string }): Promise<Answer> {
    const registered = await this.call('POST', '/auth/register', { username, password }, { bearer: false })
    if (registered.status !== 201) return registered
    return await this.login(username, password)
  }

  async login (username: string, password: string): Promise<Answer> {
    return await this.#tokens(await this.call('POST', '/auth/login', { username, password }, { bearer: false }))
  }

  async refresh (): Promise<Answer> {
    return await this.#tokens(await this.call('POST', '/auth/refresh', undefined, { bearer: false }))
  }

  async reauthenticateWithPassword (username: string, password: string): Promise<Answer> {
    return await this.#tokens(await this.call('POST', '/auth/reauthenticate', { username, password }))
  }

  /** Registration options, the authenticator's answer, POST /passkeys: the last answer. */
  async addPasskey (): Promise<Answer> {
    const options = await this.call('POST', '/passkeys/registration-options')
    if (options.status !== 200) return options
    return await this.call('POST', '/passkeys', this.authenticator.register(options.body as PublicKeyCredentialCreationOptionsJSON, this.origin))
  }

  /** A passkey sign-in on this device (no token needed): the login answer. */
  async passkeyLogin (): Promise<Answer> {
    const options = await this.call('POST', '/auth/passkey/login-options', undefined, { bearer: false })
    if (options.status !== 200) return options
    return await this.#tokens(await this.call('POST', '/auth/passkey/login', this.authenticator.authenticate(options.body as PublicKeyCredentialRequestOptionsJSON, this.origin), { bearer: false }))
  }

  /** A step-up with a passkey of this session's user: the re-authentication answer. */
  async reauthenticateWithPasskey (): Promise<Answer> {
    const options = await this.call('POST', '/auth/passkey/reauthenticate-options')
    if (options.status !== 200) return options
    return await this.#tokens(await this.call('POST', '/auth/passkey/reauthenticate', this.authenticator.authenticate(options.body as PublicKeyCredentialRequestOptionsJSON, this.origin)))
  }

  get hasRefreshCookie (): boolean { return this.jar.cookies.has('refresh_token') }
}

/** The claims of an access token (not verified: the server did that). */
export function claimsOf (accessToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** Date.now moved `seconds` ahead for the plugin, the demo and the test alike (same process); restored at teardown. */
export function clockAhead (t: { teardown (fn: () => void): void }): (seconds: number) => void {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  return (seconds) => { Date.now = () => realNow() + seconds * 1000 }
}
