/**
 * The demo's user directory: in memory, seeded with alice and admin, open to registration. Each
 * user may also hold passkeys (WebAuthn credentials), found by their credential id at sign-in.
 */
import { randomBytes } from 'node:crypto'

export interface DemoUser {
  id: string
  username: string
  passwordHash: string
  roles: string[]
  createdAt: string
  /** The WebAuthn user handle: random, never the username or id (authenticators may show or sync it). */
  webauthnUserId: string
}

/** A registered passkey: what verifying its later assertions needs, and what the page shows. */
export interface Passkey {
  /** The credential id, base64url. */
  id: string
  userId: string
  publicKey: Uint8Array<ArrayBuffer>
  /** The signature counter last seen (0 for authenticators that do not count, as synced passkeys). */
  counter: number
  transports: string[]
  /** 'multiDevice' for a synced passkey, 'singleDevice' for one bound to its authenticator. */
  deviceType: 'singleDevice' | 'multiDevice'
  backedUp: boolean
  createdAt: string
  lastUsedAt: string | null
}

export const MAX_PASSKEYS_PER_USER = 10

export class Users {
  readonly #byName = new Map<string, DemoUser>()
  readonly #byId = new Map<string, DemoUser>()
  readonly #passkeys = new Map<string, Passkey>()
  #next = 1

  add (username: string, passwordHash: string, roles: string[]): DemoUser | null {
    if (this.#byName.has(username)) return null
    const user = { id: String(this.#next++), username, passwordHash, roles, createdAt: new Date().toISOString(), webauthnUserId: randomBytes(16).toString('base64url') }
    this.#byName.set(username, user)
    this.#byId.set(user.id, user)
    return user
  }

  byName (username: string): DemoUser | null { return this.#byName.get(username) ?? null }
  byId (id: string): DemoUser | null { return this.#byId.get(id) ?? null }
  all (): DemoUser[] { return [...this.#byId.values()] }

  /** onPasswordRehash, and a password change: keep the new hash. */
  updateHash (id: string, passwordHash: string): void {
    const user = this.#byId.get(id)
    if (user !== undefined) user.passwordHash = passwordHash
  }

  /** The user and their passkeys are gone; the name is free again. */
  remove (id: string): boolean {
    const user = this.#byId.get(id)
    if (user === undefined) return false
    for (const passkey of this.passkeysOf(id)) this.#passkeys.delete(passkey.id)
    this.#byId.delete(id)
    this.#byName.delete(user.username)
    return true
  }

  passkeysOf (userId: string): Passkey[] {
    return [...this.#passkeys.values()].filter((passkey) => passkey.userId === userId)
  }

  passkey (credentialId: string): Passkey | null { return this.#passkeys.get(credentialId) ?? null }

  addPasskey (passkey: Passkey): 'added' | 'exists' | 'limit' {
    if (this.#passkeys.has(passkey.id)) return 'exists'
    if (this.passkeysOf(passkey.userId).length >= MAX_PASSKEYS_PER_USER) return 'limit'
    this.#passkeys.set(passkey.id, passkey)
    return 'added'
  }

  /** After a verified assertion: the counter it reported (replay detection), when, and its backup state (a passkey may be synced later). */
  passkeyUsed (credentialId: string, counter: number, deviceType: Passkey['deviceType'], backedUp: boolean): void {
    const passkey = this.#passkeys.get(credentialId)
    if (passkey === undefined) return
    passkey.counter = counter
    passkey.lastUsedAt = new Date().toISOString()
    passkey.deviceType = deviceType
    passkey.backedUp = backedUp
  }
}

export const SEEDED_USERS = [
  { username: 'alice', password: 'alice-password-1', roles: ['user'] },
  { username: 'admin', password: 'admin-password-1', roles: ['user', 'admin'] }
] as const
