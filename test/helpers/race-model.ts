/**
 * A seeded, randomised race model for a SessionStore (issue 6, item 3).
 *
 * Batches of login (create), refresh (rotate: the newest token, the same token presented 2-4
 * times at once, stale tokens held back and replayed later, inside or after the grace window),
 * logout (revokeByToken), revoke one, revoke all and list are issued concurrently from two store
 * instances (two connections, like two app instances), each after a small random delay, so that
 * some operations overlap and some strictly follow others. Every call is timed: `issuedAt` just
 * before the store method is called, `answeredAt` just after its promise settles. "A happened
 * before B" is then `A.answeredAt < B.issuedAt`: that order is real, whatever the store did.
 *
 * After every batch the new operations are checked against a simple model of the session
 * semantics (SPEC 4); each check only trusts real-time order, never a guess about interleavings:
 *
 * (a) at most one newest token: no token is ever rotated ('rotated') twice, so the tokens of a
 *     session form one chain; and at quiescence, presenting every token of a session at once
 *     (a "storm", from both instances) yields at most one 'rotated'.
 * (b) no token works after a revoke has answered: once a revoke, revoke-all, logout, reuse
 *     detection or eviction of a session has answered (or a list has answered without it), no
 *     operation on it issued later succeeds ('rotated'/'grace', logout 'revoked', revoke true,
 *     listed); and conversely a session never vanishes without a cause issued before.
 * (c) the per-user cap: every list, and every quiescent checkpoint, has at most `cap` sessions.
 * (d) every reuse revokes: a 'reused' answer ends the session (by (b), every later operation on
 *     it finds it gone), and 'reused' is only answered for a token that was rotated, and as
 *     'predecessor' only after its grace window.
 * (e) a grace replay returns exactly the token that the rotation of the presented token returned,
 *     and only inside the grace window, and only while the presented token is the predecessor.
 *     Likewise 'stale' (the token retired by the rotation before the last, inside that rotation's
 *     window: refused, session untouched) only for such a token, and 'reused' (older) never for it.
 *
 * (f) device binding: some sessions are bound to a key at login and every holder's operation
 *     proves it; a "thief" presents one of their tokens (newest or retired) without the key or
 *     with another one, and is answered 'unbound' (or 'missing' once the session has ended),
 *     never anything that rotates, replays or revokes; the holder is never answered 'unbound'.
 *
 * The seed fixes every random choice; the interleavings themselves come from real concurrency, so
 * a rerun with the same seed makes the same choices as long as the outcomes come out the same.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { OLDER_SECRETS_REMEMBERED } from '../../src/session/retired-secrets.js'
import { mulberry32 } from './random.js'
import type { RevokeByTokenResult, RotateResult, SessionCore } from '../../src/session/session-core.js'
import type { Session } from '../../src/session/store.js'
import type { Binding } from '../../src/session/binding.js'

/** The key bound sessions' holders prove, and the one a thief may try instead. */
const DEVICE_KEY: Binding = { kind: 'dpop', thumbprint: 'D'.repeat(43) }
const THIEF_KEY: Binding = { kind: 'dpop', thumbprint: 'T'.repeat(43) }

export interface RaceConfig {
  seed: number
  batches: number
  /** The stores' reuseGraceMs: the model checks the window with it. */
  graceMs: number
  /** The stores' maxSessionsPerUser. */
  cap: number
  users: number
  /** Shown in violation reports. */
  label: string
  /** Allowed disagreement between the Redis clock and this process's (ms rounding, scheduling). */
  slackMs?: number
}

export interface RaceStats {
  seed: number
  batches: number
  operations: number
  /** Operations by kind and outcome, e.g. `rotate:grace`. */
  outcomes: Record<string, number>
  /** Rotate outcomes by why the token was chosen, e.g. `dup->grace`, `stale-pred-cold->reused-predecessor`. */
  rotateByTag: Record<string, number>
  /** Pairs of operations on one session whose [issued, answered] intervals overlapped (real races). */
  overlappingPairs: number
  /** Operations on a session issued strictly after another one on it had answered in the same batch. */
  orderedInBatch: number
  sessions: number
  storms: number
  violations: string[]
}

type Kind = 'create' | 'rotate' | 'logout' | 'revoke' | 'revokeAll' | 'list'

interface Op {
  id: number
  batch: number
  kind: Kind
  /** Which of the two store instances. */
  store: number
  /** Why it was chosen: newest, dup, stale-pred, stale-old, dead, storm, checkpoint... */
  tag: string
  userId: string
  session?: SessionInfo
  token?: string
  except?: string | null
  /** The key the operation proves (create: binds the new session to it). */
  binding?: Binding | null
  delayMs: number
  issuedAt: number
  answeredAt: number
  result?: unknown
  error?: string
}

interface TokenInfo {
  session: SessionInfo
  depth: number
  /** The rotation op that returned it (undefined for the login token). */
  from?: Op
}

interface SessionInfo {
  key: string
  userId: string
  id: string
  create: Op
  binding: Binding | null
  /** Tokens by depth: tokens[0] from login, tokens[d + 1] from the rotation of tokens[d]. */
  tokens: string[]
  /** The op that rotated tokens[d] ('rotated'), by depth. */
  rotatedBy: Op[]
  /** Earliest answeredAt of an op that proves the session gone after it; Infinity if none. */
  deadAt: number
  deadProof?: Op
  /** Ops that removed it themselves: revoke true, logout revoked, reused, eviction. */
  killers: Op[]
  ops: Op[]
}

const rotateOutcome = (op: Op): string => (op.result as RotateResult | undefined)?.outcome ?? 'error'
const logoutOutcome = (op: Op): string => (op.result as RevokeByTokenResult | undefined)?.outcome ?? 'error'

export class RaceModel {
  readonly #stores: SessionCore[]
  readonly #config: Required<RaceConfig>
  readonly #random: () => number
  readonly #users: string[]
  readonly #sessions = new Map<string, SessionInfo>()
  readonly #byUser = new Map<string, SessionInfo[]>()
  readonly #tokens = new Map<string, TokenInfo>()
  /** revoke-all ops by user: candidates for any session's end. */
  readonly #revokeAlls = new Map<string, Op[]>()
  readonly #history: Op[] = []
  readonly #t0 = performance.now()
  #batch = 0
  #storms = 0
  readonly #violations: string[] = []

  constructor (stores: SessionCore[], config: RaceConfig, userLabel: string) {
    if (stores.length !== 2) throw new Error('the race model wants two store instances')
    this.#stores = stores
    this.#config = { slackMs: 25, ...config }
    this.#random = mulberry32(config.seed)
    this.#users = Array.from({ length: config.users }, (_, i) => `race ${userLabel} {${i}} ✓`)
    for (const user of this.#users) {
      this.#byUser.set(user, [])
      this.#revokeAlls.set(user, [])
    }
  }

  get violations (): readonly string[] { return this.#violations }

  /** Run every batch, checking after each; stops at the first batch with a violation. */
  async run (): Promise<RaceStats> {
    for (let b = 0; b < this.#config.batches && this.#violations.length === 0; b++) {
      await this.#runBatch()
      await this.#pause()
    }
    if (this.#violations.length === 0) await this.#final()
    return this.#stats()
  }

  // ------------------------------------------------------------------ choosing operations

  #pick<T> (items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!
  }

  #chance (p: number): boolean {
    return this.#random() < p
  }

  #alive (user?: string): SessionInfo[] {
    const pool = user === undefined ? [...this.#sessions.values()] : this.#byUser.get(user)!
    return pool.filter((s) => s.deadAt === Infinity)
  }

  #head (session: SessionInfo): string {
    return session.tokens[session.tokens.length - 1]!
  }

  #op (kind: Kind, tag: string, userId: string, extra: Partial<Op> = {}): Op {
    return { id: this.#history.length, batch: this.#batch, kind, store: this.#chance(0.5) ? 0 : 1, tag, userId, delayMs: 0, issuedAt: NaN, answeredAt: NaN, ...extra }
  }

  #tokenOp (kind: 'rotate' | 'logout', tag: string, session: SessionInfo, token: string): Op {
    return this.#op(kind, tag, session.userId, { session, token, binding: session.binding })
  }

  /** One batch's operations, chosen from the model's state at the start of the batch. */
  #choose (): Op[] {
    const ops: Op[] = []
    const actions = 3 + Math.floor(this.#random() * 12)
    const weights: Array<[string, number]> = [['login', 14], ['refresh', 28], ['dup', 12], ['stale', 16], ['logout', 8], ['revoke', 8], ['revokeAll', 4], ['list', 6], ['thief', 6]]
    const total = weights.reduce((sum, [, w]) => sum + w, 0)
    for (let i = 0; i < actions; i++) {
      let roll = this.#random() * total
      let action = weights[0]![0]
      for (const [name, w] of weights) {
        if ((roll -= w) < 0) { action = name; break }
      }
      const alive = this.#alive()
      const all = [...this.#sessions.values()]
      if (alive.length === 0 && action !== 'list' && action !== 'revokeAll') action = 'login'
      const bound = alive.filter((s) => s.binding !== null)
      if (action === 'thief' && bound.length === 0) action = 'login'
      switch (action) {
        case 'login':
          ops.push(this.#chance(0.35)
            ? this.#op('create', 'login-bound', this.#pick(this.#users), { binding: DEVICE_KEY })
            : this.#op('create', 'login', this.#pick(this.#users)))
          break
        case 'thief': {
          const session = this.#pick(bound)
          ops.push({ ...this.#tokenOp('rotate', 'thief', session, this.#pick(session.tokens)), binding: this.#chance(0.5) ? null : THIEF_KEY })
          break
        }
        case 'refresh': {
          const session = this.#pick(alive)
          ops.push(this.#tokenOp('rotate', 'newest', session, this.#head(session)))
          break
        }
        case 'dup': {
          const session = this.#pick(alive)
          const token = this.#head(session)
          const copies = 2 + Math.floor(this.#random() * 3)
          for (let c = 0; c < copies; c++) ops.push(this.#tokenOp('rotate', 'dup', session, token))
          break
        }
        case 'stale': {
          // A token held back and replayed: mostly of a live session, sometimes of a dead one;
          // often the predecessor of a session whose last rotation is past the window.
          const now = performance.now()
          const cold = alive.filter((s) => s.tokens.length > 1 && s.rotatedBy[s.tokens.length - 2]!.answeredAt < now - this.#config.graceMs - this.#config.slackMs)
          if (cold.length > 0 && this.#chance(0.6)) {
            const session = this.#pick(cold)
            ops.push(this.#tokenOp('rotate', 'stale-pred-cold', session, session.tokens[session.tokens.length - 2]!))
            break
          }
          const session = this.#chance(0.85) && alive.length > 0 ? this.#pick(alive) : this.#pick(all)
          const depth = session.tokens.length - 1
          if (depth === 0) {
            ops.push(this.#tokenOp('rotate', 'newest', session, this.#head(session)))
          } else if (this.#chance(0.6)) {
            ops.push(this.#tokenOp('rotate', 'stale-pred', session, session.tokens[depth - 1]!))
          } else {
            ops.push(this.#tokenOp('rotate', 'stale-old', session, this.#pick(session.tokens.slice(0, depth))))
          }
          break
        }
        case 'logout': {
          const session = this.#chance(0.9) ? this.#pick(alive) : this.#pick(all)
          const token = this.#chance(0.7) ? this.#head(session) : this.#pick(session.tokens)
          ops.push(this.#tokenOp('logout', 'logout', session, token))
          break
        }
        case 'revoke': {
          const session = this.#chance(0.85) ? this.#pick(alive) : this.#pick(all)
          ops.push(this.#op('revoke', 'revoke', session.userId, { session }))
          break
        }
        case 'revokeAll': {
          const user = this.#pick(this.#users)
          const mine = this.#alive(user)
          const except = mine.length > 0 && this.#chance(0.3) ? this.#pick(mine).id : null
          ops.push(this.#op('revokeAll', except === null ? 'revokeAll' : 'revokeAll-except', user, { except }))
          break
        }
        case 'list':
          ops.push(this.#op('list', 'list', this.#pick(this.#users)))
          break
      }
    }
    // Delays: sometimes all at once, sometimes spread so that some ops follow others' answers.
    const spread = this.#pick([0, 0, 2, 8, 20, 40])
    for (const op of ops) op.delayMs = spread === 0 ? 0 : Math.floor(this.#random() * spread)
    // Shuffle the issue order.
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1))
      ;[ops[i], ops[j]] = [ops[j]!, ops[i]!]
    }
    return ops
  }

  /** Between batches: mostly none, sometimes past the grace window, so held-back tokens turn stale. */
  async #pause (): Promise<void> {
    const roll = this.#random()
    const ms = roll < 0.45 ? 0 : roll < 0.6 ? 20 : roll < 0.9 ? this.#config.graceMs + 20 + Math.floor(this.#random() * 60) : 60 + Math.floor(this.#random() * 60)
    if (ms > 0) await sleep(ms)
  }

  // ------------------------------------------------------------------ running operations

  async #execute (ops: Op[]): Promise<void> {
    await Promise.all(ops.map(async (op) => {
      if (op.delayMs > 0) await sleep(op.delayMs)
      const store = this.#stores[op.store]!
      op.issuedAt = performance.now()
      try {
        switch (op.kind) {
          case 'create': op.result = await store.create(op.userId, { userAgent: 'race-model', ip: '192.0.2.1', binding: op.binding ?? null }); break
          case 'rotate': op.result = await store.rotate(op.token!, { binding: op.binding ?? null }); break
          case 'logout': op.result = await store.revokeByToken(op.token!); break
          case 'revoke': op.result = await store.revoke(op.userId, op.session!.id); break
          case 'revokeAll': op.result = await store.revokeAll(op.userId, { except: op.except }); break
          case 'list': op.result = await store.list(op.userId); break
        }
      } catch (error) {
        op.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      }
      op.answeredAt = performance.now()
    }))
    for (const op of ops) {
      op.id = this.#history.length
      this.#history.push(op)
    }
  }

  async #runBatch (): Promise<void> {
    this.#batch++
    const main = this.#choose()
    await this.#execute(main)
    this.#learn(main)
    this.#check(main)
    if (this.#violations.length > 0) return

    // (d) at once: every session that answered 'reused' in this batch, its newest token presented
    // again (from the other instance too): by (b), it must be gone.
    const reusedSessions = new Set(main.filter((op) => op.kind === 'rotate' && rotateOutcome(op) === 'reused').map((op) => op.session!))
    const probes = [...reusedSessions].flatMap((session) => [0, 1].map((store) => ({ ...this.#tokenOp('rotate', 'after-reuse', session, this.#head(session)), store })))
    if (probes.length > 0) {
      await this.#execute(probes)
      this.#learn(probes)
      this.#check(probes)
    }

    // Quiescence: a storm on one live session now and then, then a list of every user.
    const alive = this.#alive()
    if (alive.length > 0 && this.#chance(0.3)) {
      const storm = this.#storm(this.#pick(alive))
      await this.#execute(storm)
      this.#learn(storm)
      this.#check(storm)
      this.#checkStorm(storm)
    }
    const lists = this.#users.map((user) => this.#op('list', 'checkpoint', user))
    await this.#execute(lists)
    this.#learn(lists)
    this.#check(lists)
  }

  /** Every token of the session (the newest dozen at most), at once, from both instances. */
  #storm (session: SessionInfo): Op[] {
    this.#storms++
    const tokens = session.tokens.slice(-12)
    return tokens.map((token) => ({ ...this.#tokenOp('rotate', 'storm', session, token), delayMs: 0 }))
  }

  async #final (): Promise<void> {
    this.#batch++
    // Every session, live or dead, gets its storm (at most a dozen tokens each, a few sessions at a time).
    const sessions = [...this.#sessions.values()]
    for (let i = 0; i < sessions.length && this.#violations.length === 0; i += 8) {
      const storms = sessions.slice(i, i + 8).map((s) => this.#storm(s))
      const ops = storms.flat()
      await this.#execute(ops)
      this.#learn(ops)
      this.#check(ops)
      for (const storm of storms) this.#checkStorm(storm)
    }
    const lists = this.#users.map((user) => this.#op('list', 'final', user))
    await this.#execute(lists)
    this.#learn(lists)
    this.#check(lists)
  }

  // ------------------------------------------------------------------ learning from answers

  /** Registers new sessions and tokens, and the proofs of every session's end. */
  #learn (ops: Op[]): void {
    for (const op of ops) {
      if (op.error !== undefined) continue
      if (op.kind === 'create') {
        const created = op.result as { token: string, session: Session }
        const key = `${op.userId}\u0000${created.session.id}`
        if (this.#sessions.has(key)) {
          this.#violate([op], `create returned an existing session id ${created.session.id}`)
          continue
        }
        const session: SessionInfo = { key, userId: op.userId, id: created.session.id, create: op, binding: op.binding ?? null, tokens: [created.token], rotatedBy: [], deadAt: Infinity, killers: [], ops: [] }
        this.#sessions.set(key, session)
        this.#byUser.get(op.userId)!.push(session)
        this.#tokens.set(created.token, { session, depth: 0 })
        op.session = session
      }
    }
    // Rotations by depth, so that a chain of them in one batch (never, today) would still register in order.
    const rotations = ops.filter((op) => op.kind === 'rotate' && op.error === undefined && rotateOutcome(op) === 'rotated')
      .sort((a, b) => this.#tokens.get(a.token!)!.depth - this.#tokens.get(b.token!)!.depth)
    for (const op of rotations) {
      const { session, depth } = this.#tokens.get(op.token!)!
      const next = (op.result as { token: string }).token
      if (session.rotatedBy[depth] !== undefined) {
        this.#violate([session.rotatedBy[depth]!, op], `(a) token #${depth} of session ${session.id} was rotated twice: two newest tokens`)
        continue
      }
      if (this.#tokens.has(next)) {
        this.#violate([op], '(a) a rotation returned a token handed out before')
        continue
      }
      if (depth !== session.tokens.length - 1) {
        this.#violate([op], `(a) token #${depth} rotated but the session already had token #${session.tokens.length - 1}: a branch`)
        continue
      }
      session.rotatedBy[depth] = op
      session.tokens.push(next)
      this.#tokens.set(next, { session, depth: depth + 1, from: op })
    }
    for (const op of ops) {
      if (op.session !== undefined && op.kind !== 'create') op.session.ops.push(op)
      if (op.kind === 'revokeAll') this.#revokeAlls.get(op.userId)!.push(op)
    }
    // Proofs of an end, and the ops that removed a session themselves.
    for (const op of ops) {
      if (op.error !== undefined) continue
      switch (op.kind) {
        case 'create':
          for (const id of (op.result as { evicted: string[] }).evicted) {
            const evicted = this.#sessions.get(`${op.userId}\u0000${id}`)
            if (evicted === undefined) {
              this.#violate([op], `create evicted an unknown session ${id}`)
              continue
            }
            evicted.killers.push(op)
            evicted.ops.push(op)
            this.#proveDead(evicted, op)
          }
          break
        case 'rotate': {
          const outcome = rotateOutcome(op)
          if (outcome === 'reused') op.session!.killers.push(op)
          if (outcome === 'reused' || outcome === 'missing' || outcome === 'expired') this.#proveDead(op.session!, op)
          break
        }
        case 'logout': {
          const outcome = logoutOutcome(op)
          if (outcome === 'revoked') op.session!.killers.push(op)
          if (outcome === 'revoked' || outcome === 'missing') this.#proveDead(op.session!, op)
          break
        }
        case 'revoke':
          if (op.result === true) op.session!.killers.push(op)
          this.#proveDead(op.session!, op)
          break
        case 'revokeAll':
          for (const session of this.#byUser.get(op.userId)!) {
            if (session.id !== op.except && session.create.answeredAt < op.issuedAt) this.#proveDead(session, op)
          }
          break
        case 'list': {
          const listed = new Set((op.result as Session[]).map((s) => s.id))
          for (const session of this.#byUser.get(op.userId)!) {
            if (!listed.has(session.id) && session.create.answeredAt < op.issuedAt) this.#proveDead(session, op)
          }
          break
        }
      }
    }
  }

  #proveDead (session: SessionInfo, op: Op): void {
    if (op.answeredAt < session.deadAt) {
      session.deadAt = op.answeredAt
      session.deadProof = op
    }
  }

  // ------------------------------------------------------------------ checking

  /** Was the session possibly ended by something issued before `before` (other than `self`)? */
  #endCause (session: SessionInfo, before: number, self: Op): Op | undefined {
    const killer = session.killers.find((k) => k !== self && k.issuedAt < before)
    if (killer !== undefined) return killer
    return this.#revokeAlls.get(session.userId)!.find((r) => r !== self && r.except !== session.id && r.issuedAt < before && r.answeredAt > session.create.issuedAt)
  }

  /** Could `token` be older than the fingerprints the session remembers, when `op` ran? */
  #mayBeForgotten (session: SessionInfo, depth: number, op: Op): boolean {
    let head = 0
    session.rotatedBy.forEach((r, d) => { if (r.issuedAt < op.answeredAt) head = Math.max(head, d + 1) })
    return head - depth - 1 > OLDER_SECRETS_REMEMBERED
  }

  #check (ops: Op[]): void {
    const { graceMs, slackMs, cap } = this.#config
    for (const op of ops) {
      if (op.error !== undefined) {
        this.#violate([op], `the store threw: ${op.error}`)
        continue
      }
      const session = op.session
      // (b): nothing succeeds on a session issued after its end had answered.
      const afterEnd = session !== undefined && op.kind !== 'create' && op.issuedAt > session.deadAt
      const endWitness = session?.deadProof
      switch (op.kind) {
        case 'rotate': {
          const outcome = rotateOutcome(op)
          const { depth } = this.#tokens.get(op.token!)!
          const s = session!
          if (afterEnd && (outcome === 'rotated' || outcome === 'grace' || outcome === 'reused')) {
            this.#violate([endWitness!, op], `(b) token #${depth} of session ${s.id} answered '${outcome}' though issued after the session's end had answered`)
          }
          const thief = op.tag === 'thief'
          if (thief && outcome !== 'unbound' && outcome !== 'missing') this.#violate([op], `(f) token #${depth} of bound session ${s.id} presented without its key answered '${outcome}'`)
          if (!thief && outcome === 'unbound') this.#violate([op], `(f) the holder of session ${s.id}'s key answered 'unbound'`)
          if (outcome === 'unbound' && afterEnd) this.#violate([endWitness!, op], `(b) 'unbound' for session ${s.id} though issued after its end had answered (should be 'missing')`)
          const rotation = s.rotatedBy[depth]
          if (outcome === 'grace') {
            const graceToken = (op.result as { token: string }).token
            if (rotation === undefined || rotation.issuedAt > op.answeredAt) {
              this.#violate([op], `(e) 'grace' for token #${depth} of session ${s.id}, which no rotation retired`)
            } else {
              if (graceToken !== (rotation.result as { token: string }).token) {
                const got = this.#tokens.get(graceToken)
                this.#violate([rotation, op], `(e) the grace replay of token #${depth} returned ${got === undefined ? 'an unknown token' : `token #${got.depth}`}, not the token #${depth + 1} its rotation returned`)
              }
              if (op.issuedAt - rotation.answeredAt > graceMs + slackMs) {
                this.#violate([rotation, op], `(e) 'grace' ${(op.issuedAt - rotation.answeredAt).toFixed(0)} ms after the rotation answered: past the ${graceMs} ms window`)
              }
              const next = s.rotatedBy[depth + 1]
              if (next !== undefined && next.answeredAt < op.issuedAt) {
                this.#violate([next, op], `(e) 'grace' for token #${depth} of session ${s.id} though token #${depth + 1} had been rotated already (it is no longer the predecessor)`)
              }
            }
          } else if (outcome === 'reused') {
            const reuse = (op.result as { reuse: string }).reuse
            if (rotation === undefined || rotation.issuedAt > op.answeredAt) {
              this.#violate([op], `(d) 'reused' for token #${depth} of session ${s.id}, which no rotation retired`)
            } else {
              const next = s.rotatedBy[depth + 1]
              if (reuse === 'predecessor') {
                if (op.answeredAt - rotation.issuedAt < graceMs - slackMs) {
                  this.#violate([rotation, op], `(d) 'reused' (predecessor) only ${(op.answeredAt - rotation.issuedAt).toFixed(0)} ms after the rotation was issued: inside the ${graceMs} ms grace window`)
                }
                if (next !== undefined && next.answeredAt < op.issuedAt) this.#violate([next, op], '(d) reuse kind \'predecessor\' for a token two rotations old')
              } else if (next === undefined || next.issuedAt > op.answeredAt) {
                this.#violate([op], '(d) reuse kind \'older\' for the immediate predecessor')
              } else if (op.answeredAt - rotation.issuedAt < graceMs - slackMs && !(s.rotatedBy[depth + 2] !== undefined && s.rotatedBy[depth + 2]!.issuedAt < op.answeredAt)) {
                // The token retired by the rotation before the last, inside that rotation's window: 'stale'.
                this.#violate([rotation, next, op], `(d) 'reused' (older) only ${(op.answeredAt - rotation.issuedAt).toFixed(0)} ms after token #${depth} was retired: a late duplicate inside its grace window ('stale')`)
              }
            }
          } else if (outcome === 'stale') {
            // A late duplicate: the token retired by the rotation before the last, inside that
            // rotation's grace window; refused, the session untouched.
            const next = s.rotatedBy[depth + 1]
            const after = s.rotatedBy[depth + 2]
            if (rotation === undefined || next === undefined || next.issuedAt > op.answeredAt) {
              this.#violate([op], `'stale' for token #${depth} of session ${s.id}, which is not two rotations old`)
            } else {
              if (op.issuedAt - rotation.answeredAt > graceMs + slackMs) this.#violate([rotation, op], `'stale' ${(op.issuedAt - rotation.answeredAt).toFixed(0)} ms after token #${depth} was retired: past the ${graceMs} ms window (should be 'reused')`)
              if (after !== undefined && after.answeredAt < op.issuedAt) this.#violate([after, op], `'stale' for token #${depth} of session ${s.id}, three rotations old`)
            }
            if (afterEnd) this.#violate([endWitness!, op], `(b) 'stale' for session ${s.id} though issued after its end had answered (should be 'missing')`)
          } else if (outcome === 'missing') {
            if (this.#endCause(s, op.answeredAt, op) === undefined) this.#violate([op], `(b) session ${s.id} answered 'missing' with nothing issued before that could have ended it`)
          } else if (outcome === 'invalid') {
            if (!this.#mayBeForgotten(s, depth, op)) this.#violate([op], `token #${depth} of session ${s.id} answered 'invalid' though it is one of the session's remembered tokens`)
          } else if (outcome === 'expired') {
            this.#violate([op], '\'expired\' with TTLs of an hour')
          }
          break
        }
        case 'logout': {
          const outcome = logoutOutcome(op)
          const s = session!
          const { depth } = this.#tokens.get(op.token!)!
          if (afterEnd && outcome === 'revoked') this.#violate([endWitness!, op], `(b) logout of session ${s.id} revoked it though issued after its end had answered`)
          if (outcome === 'missing' && this.#endCause(s, op.answeredAt, op) === undefined) this.#violate([op], `(b) logout: session ${s.id} missing with nothing issued before that could have ended it`)
          if (outcome === 'invalid' && !this.#mayBeForgotten(s, depth, op)) this.#violate([op], `logout with token #${depth} of session ${s.id} answered 'invalid'`)
          break
        }
        case 'revoke': {
          const s = session!
          if (afterEnd && op.result === true) this.#violate([endWitness!, op], `(b) revoke of session ${s.id} found it though issued after its end had answered`)
          if (op.result === false && this.#endCause(s, op.answeredAt, op) === undefined) this.#violate([op], `(b) revoke: session ${s.id} gone with nothing issued before that could have ended it`)
          break
        }
        case 'create': {
          for (const id of (op.result as { evicted: string[] }).evicted) {
            const evicted = this.#sessions.get(`${op.userId}\u0000${id}`)
            if (evicted !== undefined && op.issuedAt > evicted.deadAt) this.#violate([evicted.deadProof!, op], `(b) create evicted session ${id} though issued after its end had answered`)
          }
          break
        }
        case 'revokeAll': {
          const count = op.result as number
          let lower = 0
          let upper = 0
          for (const s of this.#byUser.get(op.userId)!) {
            if (s.id === op.except) continue
            const possible = s.create.issuedAt < op.answeredAt && !(s.deadAt < op.issuedAt)
            if (possible) upper++
            if (possible && s.create.answeredAt < op.issuedAt && this.#endCause(s, op.answeredAt, op) === undefined) lower++
          }
          if (count < lower || count > upper) this.#violate([op], `(b) revokeAll revoked ${count} sessions; between ${lower} and ${upper} were live`)
          break
        }
        case 'list': {
          const listed = op.result as Session[]
          if (listed.length > cap) this.#violate([op], `(c) list shows ${listed.length} sessions, over the cap of ${cap}`)
          const ids = new Set<string>()
          for (const item of listed) {
            if (ids.has(item.id)) this.#violate([op], `list shows session ${item.id} twice`)
            ids.add(item.id)
            const s = this.#sessions.get(`${op.userId}\u0000${item.id}`)
            if (s === undefined) {
              this.#violate([op], `list shows an unknown session ${item.id}`)
            } else if (op.issuedAt > s.deadAt) {
              this.#violate([s.deadProof!, op], `(b) list shows session ${s.id} though issued after its end had answered`)
            }
          }
          for (const s of this.#byUser.get(op.userId)!) {
            if (!ids.has(s.id) && s.create.answeredAt < op.issuedAt && this.#endCause(s, op.answeredAt, op) === undefined) {
              this.#violate([op], `(b) list left out session ${s.id} with nothing issued before that could have ended it`)
            }
          }
          break
        }
      }
    }
    // (a) Every rotation consumed the newest token: one chain per session (checked in #learn);
    // and no two killers removed one session (each of them answered "I removed it").
    for (const op of ops) {
      const s = op.session
      if (s === undefined || op.kind === 'create') continue
      if (s.killers.length > 1) {
        this.#violate(s.killers, `session ${s.id} was removed ${s.killers.length} times: ${s.killers.map((k) => this.#describeOutcome(k)).join(', ')}`)
        s.killers.splice(1) // report once
      }
    }
  }

  /** (a) at quiescence: of every token of a session presented at once, at most one rotates. */
  #checkStorm (storm: Op[]): void {
    const rotated = storm.filter((op) => rotateOutcome(op) === 'rotated')
    if (rotated.length > 1) this.#violate(rotated, `(a) ${rotated.length} tokens of one session rotated at quiescence: more than one newest token`)
    // A grace replay in a storm may run before or after the rotation: which token it must return
    // is the general check (e), against the rotation of the token it presented.
  }

  // ------------------------------------------------------------------ reporting

  #describeOutcome (op: Op): string {
    switch (op.kind) {
      case 'create': {
        const r = op.result as { session: Session, evicted: string[] }
        return `session ${r.session.id}${r.evicted.length > 0 ? ` evicting ${r.evicted.join(',')}` : ''}`
      }
      case 'rotate': {
        const r = op.result as RotateResult
        if (r.outcome === 'rotated' || r.outcome === 'grace') return `${r.outcome} -> token #${this.#tokens.get(r.token)?.depth ?? '?'}`
        return r.outcome === 'reused' ? `reused (${r.reuse})` : r.outcome
      }
      case 'logout': return logoutOutcome(op)
      default: return Array.isArray(op.result) ? `[${(op.result as Session[]).map((s) => s.id).join(',')}]` : String(op.result)
    }
  }

  #describe (op: Op): string {
    const at = (ms: number): string => (ms - this.#t0).toFixed(1)
    const what = op.token !== undefined
      ? `${op.kind}(session ${op.session?.id}, token #${this.#tokens.get(op.token)?.depth ?? '?'})`
      : op.kind === 'revoke'
        ? `revoke(session ${op.session?.id})`
        : op.kind === 'revokeAll'
          ? `revokeAll(${JSON.stringify(op.userId)}${op.except != null ? `, except ${op.except}` : ''})`
          : `${op.kind}(${JSON.stringify(op.userId)})`
    return `#${op.id} batch ${op.batch} [${op.tag}] store ${op.store === 0 ? 'A' : 'B'} ${what} issued ${at(op.issuedAt)} ms answered ${at(op.answeredAt)} ms -> ${op.error ?? this.#describeOutcome(op)}`
  }

  #violate (ops: Op[], message: string): void {
    if (this.#violations.length >= 20) return
    this.#violations.push(`[${this.#config.label}] RACE_SEED=${this.#config.seed} batch ${this.#batch}: ${message}\n${ops.map((op) => '    ' + this.#describe(op)).join('\n')}`)
  }

  #stats (): RaceStats {
    const outcomes: Record<string, number> = {}
    const tags: Record<string, number> = {}
    for (const op of this.#history) {
      const outcome = op.error !== undefined
        ? 'error'
        : op.kind === 'rotate'
          ? (rotateOutcome(op) === 'reused' ? `reused-${(op.result as { reuse: string }).reuse}` : rotateOutcome(op))
          : op.kind === 'logout'
            ? logoutOutcome(op)
            : op.kind === 'revoke'
              ? String(op.result)
              : op.kind === 'create'
                ? ((op.result as { evicted: string[] }).evicted.length > 0 ? 'evicting' : 'ok')
                : 'ok'
      const key = `${op.kind}:${outcome}`
      outcomes[key] = (outcomes[key] ?? 0) + 1
      if (op.kind === 'rotate') {
        const byTag = `${op.tag}->${outcome}`
        tags[byTag] = (tags[byTag] ?? 0) + 1
      }
    }
    let overlappingPairs = 0
    let orderedInBatch = 0
    for (const session of this.#sessions.values()) {
      const byBatch = new Map<number, Op[]>()
      for (const op of session.ops) {
        let list = byBatch.get(op.batch)
        if (list === undefined) byBatch.set(op.batch, list = [])
        list.push(op)
      }
      for (const list of byBatch.values()) {
        for (let i = 0; i < list.length; i++) {
          for (let j = i + 1; j < list.length; j++) {
            const [a, b] = [list[i]!, list[j]!]
            if (a.issuedAt < b.answeredAt && b.issuedAt < a.answeredAt) overlappingPairs++
            else orderedInBatch++
          }
        }
      }
    }
    return {
      seed: this.#config.seed,
      batches: this.#batch,
      operations: this.#history.length,
      outcomes,
      rotateByTag: tags,
      overlappingPairs,
      orderedInBatch,
      sessions: this.#sessions.size,
      storms: this.#storms,
      violations: [...this.#violations]
    }
  }
}

/** The seed: RACE_SEED when given (to reproduce), else a fresh one. */
export function raceSeed (): number {
  const given = process.env.RACE_SEED
  if (given !== undefined && given !== '') {
    const seed = Number(given)
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`RACE_SEED must be a non-negative integer, got ${given}`)
    return seed >>> 0
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0
}
