/** The demo's user directory: in memory, seeded with alice and admin, open to registration. */
export interface DemoUser {
  id: string
  username: string
  passwordHash: string
  roles: string[]
  createdAt: string
}

export class Users {
  readonly #byName = new Map<string, DemoUser>()
  readonly #byId = new Map<string, DemoUser>()
  #next = 1

  add (username: string, passwordHash: string, roles: string[]): DemoUser | null {
    if (this.#byName.has(username)) return null
    const user = { id: String(this.#next++), username, passwordHash, roles, createdAt: new Date().toISOString() }
    this.#byName.set(username, user)
    this.#byId.set(user.id, user)
    return user
  }

  byName (username: string): DemoUser | null { return this.#byName.get(username) ?? null }
  byId (id: string): DemoUser | null { return this.#byId.get(id) ?? null }
  all (): DemoUser[] { return [...this.#byId.values()] }

  /** onPasswordRehash: keep the stronger hash the plugin made. */
  updateHash (id: string, passwordHash: string): void {
    const user = this.#byId.get(id)
    if (user !== undefined) user.passwordHash = passwordHash
  }
}

export const SEEDED_USERS = [
  { username: 'alice', password: 'alice-password-1', roles: ['user'] },
  { username: 'admin', password: 'admin-password-1', roles: ['user', 'admin'] }
] as const
