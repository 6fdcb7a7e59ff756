/**
 * The one SessionStore contract, run against MemoryStore, RedisStore on a standalone Redis and
 * RedisStore on a 3-master Cluster. Every outcome of SPEC sections 3 and 4 is asserted here, so
 * the stores cannot drift apart.
 *
 * TTL tests use real short durations (hundreds of ms): the stores read the real clock (Redis
 * TIME), so there is nothing to fake; margins are generous because CI machines are noisy.
 */
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseRefreshToken } from '../../src/session/refresh-token.js'
import type { RotateResult, SessionCore } from '../../src/session/session-core.js'
import type { SessionLimits } from '../../src/session/store.js'
import type { Binding } from '../../src/session/binding.js'

/**
 * Returns `count` session cores whose stores share one state (for Redis: separate connections,
 * like separate app instances; for memory: the same instance).
 */
export type MakeStores = (limits: SessionLimits, count?: number) => Promise<SessionCore[]>

const DEVICE_KEY: Binding = { kind: 'dpop', thumbprint: 'A'.repeat(43) }
const OTHER_KEY: Binding = { kind: 'dpop', thumbprint: 'B'.repeat(43) }
const BROWSER_KEY: Binding = { kind: 'dbsc', thumbprint: 'A'.repeat(43) }

const LONG: SessionLimits = { idleTtlMs: 60_000, absoluteTtlMs: 120_000, reuseGraceMs: 2_000, maxSessionsPerUser: 10 }

let userCounter = 0
/** A fresh user id per test; ids deliberately include characters that must be encoded. */
const newUser = (label = 'user'): string => `${label} {${process.pid}:${++userCounter}} ✓`

function tokenOf (t: Test, result: RotateResult): string {
  if (result.outcome !== 'rotated' && result.outcome !== 'grace') {
    t.fail(`expected a token, got ${result.outcome}`)
    return ''
  }
  return result.token
}

export function storeContract (t: Test, makeStores: MakeStores): void {
  const one = async (limits: Partial<SessionLimits> = {}): Promise<SessionCore> => (await makeStores({ ...LONG, ...limits }, 1))[0]!

  t.test('create returns a parseable token and the session with its metadata', async (t) => {
    const store = await one()
    const userId = newUser()
    const before = Date.now()
    const { token, session, evicted } = await store.create(userId, { userAgent: 'Test/1.0', ip: '203.0.113.9', clientId: 'web' })
    const parts = parseRefreshToken(token)
    t.ok(parts, 'token parses')
    t.equal(parts!.userId, userId)
    t.equal(parts!.sessionId, session.id)
    t.same(evicted, [])
    t.match(session, { userId, userAgent: 'Test/1.0', ip: '203.0.113.9', clientId: 'web' })
    t.ok(session.createdAt >= before - 50 && session.createdAt <= Date.now() + 50, 'createdAt is now')
    t.equal(session.lastUsedAt, session.createdAt)
    t.equal(session.expiresAt, session.createdAt + LONG.idleTtlMs, 'expires after the idle ttl')
    const listed = await store.list(userId)
    t.same(listed, [session], 'list shows exactly the new session')
    t.equal(await store.isLive(userId, session.id), true)
  })

  t.test('metadata is optional and absent fields are null', async (t) => {
    const store = await one()
    const { session } = await store.create(newUser())
    t.equal(session.userAgent, null)
    t.equal(session.ip, null)
    t.equal(session.clientId, null)
    t.equal(session.data, null)
  })

  t.test('opaque data is kept with the session and returned on rotation, grace and list', async (t) => {
    const store = await one()
    const userId = newUser()
    const data = JSON.stringify({ roles: ['user'], claims: { tier: 'gold', note: 'ünï' } })
    const { token, session } = await store.create(userId, { data })
    t.equal(session.data, data)
    const rotated = await store.rotate(token)
    t.equal(rotated.outcome === 'rotated' && rotated.session.data, data)
    const replay = await store.rotate(token)
    t.equal(replay.outcome === 'grace' && replay.session.data, data)
    t.equal((await store.list(userId))[0]!.data, data)
  })

  t.test('authentication and binding are kept with the session through rotation, grace and list', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId, { authentication: 'pwd@1', binding: DEVICE_KEY })
    t.match(session, { authentication: 'pwd@1', binding: 'dpop:' + DEVICE_KEY.thumbprint })
    const rotated = await store.rotate(token, { binding: DEVICE_KEY })
    t.match(rotated, { outcome: 'rotated', session: { authentication: 'pwd@1', binding: 'dpop:' + DEVICE_KEY.thumbprint }, boundNow: false }, 'bound from the start: not bound now')
    const replay = await store.rotate(token, { binding: DEVICE_KEY })
    t.match(replay, { outcome: 'grace', session: { authentication: 'pwd@1', binding: 'dpop:' + DEVICE_KEY.thumbprint } })
    t.match((await store.list(userId))[0], { authentication: 'pwd@1', binding: 'dpop:' + DEVICE_KEY.thumbprint })
    const plain = await store.create(userId)
    t.match(plain.session, { authentication: null, binding: null }, 'none: null')
  })

  t.test('setAuthentication replaces it alone: the same token still rotates once, the expiry does not move', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId, { authentication: 'pwd@1' })
    await sleep(20)
    t.equal(await store.setAuthentication(userId, session.id, 'hwk@2'), true)
    t.match((await store.list(userId))[0], { authentication: 'hwk@2', lastUsedAt: session.createdAt, expiresAt: session.expiresAt })
    const rotated = await store.rotate(token)
    t.match(rotated, { outcome: 'rotated', session: { authentication: 'hwk@2' } }, 'not a rotation: the token before it is still the newest')
    t.equal(await store.setAuthentication(userId, 'AAAAAAAAAAAAAAAAAAAAAA', 'x'), false, 'no such session')
    t.equal(await store.setAuthentication('', session.id, 'x'), false, 'an invalid user id')
    await store.revoke(userId, session.id)
    t.equal(await store.setAuthentication(userId, session.id, 'x'), false, 'a revoked session')
    t.same(await store.list(userId), [], 'and it did not come back')
    await t.rejects(store.setAuthentication(userId, session.id, 'x'.repeat(257)), TypeError, 'bounded')
  })

  t.test('bind: once for life; the same key again is bound, another is a conflict', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId)
    t.equal(await store.bind(userId, session.id, BROWSER_KEY), 'bound')
    t.equal(await store.bind(userId, session.id, BROWSER_KEY), 'bound', 'again')
    t.equal(await store.bind(userId, session.id, OTHER_KEY), 'conflict')
    t.equal(await store.bind(userId, session.id, DEVICE_KEY), 'conflict', 'the same thumbprint of another kind is another binding')
    t.match((await store.list(userId))[0], { binding: 'dbsc:' + BROWSER_KEY.thumbprint, expiresAt: session.expiresAt })
    t.match(await store.rotate(token, { binding: BROWSER_KEY }), { outcome: 'rotated', session: { binding: 'dbsc:' + BROWSER_KEY.thumbprint } })
    t.equal(await store.bind(userId, 'AAAAAAAAAAAAAAAAAAAAAA', BROWSER_KEY), 'missing')
    t.equal(await store.bind('', session.id, BROWSER_KEY), 'missing', 'an invalid user id')
    await store.revoke(userId, session.id)
    t.equal(await store.bind(userId, session.id, BROWSER_KEY), 'missing', 'a revoked session')
    await t.rejects(store.bind(userId, session.id, { kind: 'dpop', thumbprint: 'short' }), TypeError, 'not a thumbprint')
  })

  t.test('a bound session refuses every token without its key, even a retired one, and is not revoked', async (t) => {
    const store = await one({ reuseGraceMs: 0 })
    const userId = newUser()
    const { token, session } = await store.create(userId, { binding: DEVICE_KEY })
    const unbound = { outcome: 'unbound', userId, sessionId: session.id }
    t.same(await store.rotate(token), unbound, 'no key')
    t.same(await store.rotate(token, { binding: OTHER_KEY }), unbound, 'another key')
    t.same(await store.rotate(token, { binding: BROWSER_KEY }), unbound, 'the same thumbprint of another kind')
    const next = tokenOf(t, await store.rotate(token, { binding: DEVICE_KEY }))
    await sleep(5)
    t.same(await store.rotate(token), unbound, 'a retired token without the key: not even reuse')
    t.equal(await store.isLive(userId, session.id), true, 'the session lives on')
    t.equal((await store.rotate(next, { binding: DEVICE_KEY })).outcome, 'rotated', 'for the holder of the key')
  })

  t.test('an unbound session rotated with a key becomes bound to it', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId)
    const binding = await store.rotate(token, { binding: DEVICE_KEY })
    t.match(binding, { outcome: 'rotated', boundNow: true }, 'this rotation bound it')
    const next = tokenOf(t, binding)
    t.match((await store.list(userId))[0], { binding: 'dpop:' + DEVICE_KEY.thumbprint })
    const again = await store.rotate(next, { binding: DEVICE_KEY })
    t.match(again, { outcome: 'rotated', boundNow: false }, 'already bound: not bound now')
    t.match(await store.rotate((await store.create(userId)).token), { outcome: 'rotated', boundNow: false }, 'no key: not bound')
    t.same(await store.rotate(tokenOf(t, again)), { outcome: 'unbound', userId, sessionId: session.id }, 'from then on the key is needed')
    t.equal(await store.bind(userId, session.id, BROWSER_KEY), 'conflict')
  })

  t.test('rotation returns a new token for the same session and retires nothing else', async (t) => {
    const store = await one()
    const userId = newUser()
    const first = await store.create(userId)
    await sleep(20)
    const rotated = await store.rotate(first.token)
    t.equal(rotated.outcome, 'rotated')
    const next = tokenOf(t, rotated)
    t.not(next, first.token)
    t.equal(parseRefreshToken(next)!.sessionId, first.session.id)
    if (rotated.outcome === 'rotated') {
      t.ok(rotated.session.lastUsedAt > first.session.createdAt, 'lastUsedAt moves')
      t.equal(rotated.session.expiresAt, rotated.session.lastUsedAt + LONG.idleTtlMs, 'idle expiry slides')
      t.equal(rotated.session.createdAt, first.session.createdAt)
    }
    const again = await store.rotate(next)
    t.equal(again.outcome, 'rotated', 'the successor rotates in turn')
  })

  t.test('grace: the just-retired token returns the same newest token, without branching', async (t) => {
    const store = await one()
    const { token } = await store.create(newUser())
    const rotated = tokenOf(t, await store.rotate(token))
    const replay = await store.rotate(token)
    t.equal(replay.outcome, 'grace')
    t.equal(tokenOf(t, replay), rotated, 'same newest token')
    const replay2 = await store.rotate(token)
    t.equal(tokenOf(t, replay2), rotated, 'and again')
    t.equal((await store.rotate(rotated)).outcome, 'rotated', 'the newest token still rotates')
  })

  t.test('reuse of the predecessor after the grace window revokes the whole session', async (t) => {
    const store = await one({ reuseGraceMs: 150 })
    const userId = newUser()
    const { token, session } = await store.create(userId)
    const newest = tokenOf(t, await store.rotate(token))
    await sleep(400)
    t.same(await store.rotate(token), { outcome: 'reused', userId, sessionId: session.id, reuse: 'predecessor' })
    const after = await store.rotate(newest)
    t.equal(after.outcome, 'missing', 'the newest token is dead too')
    t.same(await store.list(userId), [])
    t.equal(await store.isLive(userId, session.id), false)
  })

  t.test('reuse of an older token after its grace window revokes the session', async (t) => {
    const store = await one({ reuseGraceMs: 150 })
    const userId = newUser()
    const { token: t0, session } = await store.create(userId)
    const t1 = tokenOf(t, await store.rotate(t0))
    const t2 = tokenOf(t, await store.rotate(t1))
    await sleep(300)
    t.same(await store.rotate(t0), { outcome: 'reused', userId, sessionId: session.id, reuse: 'older' })
    t.equal((await store.rotate(t2)).outcome, 'missing', 'the newest token is dead')
  })

  t.test('a token two rotations old inside its grace window is stale: refused, the session untouched', async (t) => {
    // The late duplicate of a retried request: the client timed out, retried with t0 (grace ->
    // t1), refreshed again (t2), and only then did the first t0 reach the store.
    const store = await one()
    const userId = newUser()
    const { token: t0, session } = await store.create(userId)
    const t1 = tokenOf(t, await store.rotate(t0))
    const t2 = tokenOf(t, await store.rotate(t1))
    t.same(await store.rotate(t0), { outcome: 'stale', userId, sessionId: session.id })
    t.equal((await store.rotate(t1)).outcome, 'grace', 'the predecessor still gets the grace reply')
    t.equal((await store.rotate(t2)).outcome, 'rotated', 'the newest token works')
  })

  t.test('a token three rotations old is reuse even inside the grace window', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token: t0, session } = await store.create(userId)
    const t1 = tokenOf(t, await store.rotate(t0))
    const t2 = tokenOf(t, await store.rotate(t1))
    const t3 = tokenOf(t, await store.rotate(t2))
    t.same(await store.rotate(t0), { outcome: 'reused', userId, sessionId: session.id, reuse: 'older' })
    t.equal((await store.rotate(t3)).outcome, 'missing')
  })

  t.test('older tokens are remembered across many rotations', async (t) => {
    const store = await one()
    const userId = newUser()
    const chain = [(await store.create(userId)).token]
    for (let i = 0; i < 6; i++) chain.push(tokenOf(t, await store.rotate(chain.at(-1)!)))
    const result = await store.rotate(chain[1]!) // five rotations old
    t.equal(result.outcome, 'reused')
    t.equal(result.outcome === 'reused' && result.reuse, 'older')
  })

  t.test('a wrong secret for a real session is invalid and does not revoke it', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId)
    const parts = parseRefreshToken(token)!
    const forged = token.slice(0, token.length - parts.secret.length) + 'A'.repeat(43)
    t.same(await store.rotate(forged), { outcome: 'invalid' })
    t.same(await store.revokeByToken(forged), { outcome: 'invalid' })
    t.equal(await store.isLive(userId, session.id), true)
    t.equal((await store.rotate(token)).outcome, 'rotated', 'the real token still works')
  })

  t.test('an unknown session is missing', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId)
    const other = token.replace(session.id, 'AAAAAAAAAAAAAAAAAAAAAA')
    t.same(await store.rotate(other), { outcome: 'missing', userId, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA' })
    const stranger = (await store.create(newUser('stranger'))).token
    const mixed = stranger.split('.')[0] + '.' + session.id + '.' + token.split('.')[2]
    t.equal((await store.rotate(mixed)).outcome, 'missing', "another user's id with this session id finds nothing")
  })

  t.test('malformed, truncated, oversized and foreign tokens are invalid, never an exception', async (t) => {
    const store = await one()
    const { token } = await store.create(newUser())
    const bad: unknown[] = [
      '', '.', '..', 'a.b.c', token.slice(0, -1), token + 'A', token + '.x', token.replace(/\./g, ''),
      'x'.repeat(10_240), token.repeat(50), '\u0000'.repeat(100), '\uD800.abc.def',
      Buffer.from([0xff, 0xfe, 0x2e, 0x41]).toString('latin1'),
      '_w.' + token.split('.').slice(1).join('.'), // non-canonical base64url user id
      '%C0%AE.' + token.split('.').slice(1).join('.'),
      'Bearer ' + token, ' ' + token, token.toUpperCase(),
      undefined, null, 42, {}, ['a']
    ]
    for (const value of bad) {
      t.same(await store.rotate(value as string), { outcome: 'invalid' }, `rotate(${JSON.stringify(value)?.slice(0, 40)})`)
      t.same(await store.revokeByToken(value as string), { outcome: 'invalid' })
    }
  })

  t.test('a session created for a client cannot be refreshed for another', async (t) => {
    const store = await one()
    const { token } = await store.create(newUser(), { clientId: 'web' })
    t.same(await store.rotate(token, { clientId: 'mobile' }), { outcome: 'invalid' })
    t.same(await store.rotate(token), { outcome: 'invalid' }, 'nor without a client id')
    t.equal((await store.rotate(token, { clientId: 'web' })).outcome, 'rotated')
    const plain = await store.create(newUser())
    t.same(await store.rotate(plain.token, { clientId: 'web' }), { outcome: 'invalid' }, 'a client-less session refuses a client')
  })

  t.test('revoke one session', async (t) => {
    const store = await one()
    const userId = newUser()
    const a = await store.create(userId)
    const b = await store.create(userId)
    t.equal(await store.revoke(userId, a.session.id), true)
    t.equal(await store.revoke(userId, a.session.id), false, 'twice: nothing left to revoke')
    t.equal((await store.rotate(a.token)).outcome, 'missing')
    t.equal((await store.rotate(b.token)).outcome, 'rotated', 'the other session is untouched')
    t.equal(await store.revoke(newUser('other'), b.session.id), false, 'another user cannot revoke it')
    t.equal(await store.revoke(userId, 'not a session id'), false)
  })

  t.test('revoke all, with and without an exception', async (t) => {
    const store = await one()
    const userId = newUser()
    const sessions = [await store.create(userId), await store.create(userId), await store.create(userId)]
    t.equal(await store.revokeAll(userId, { except: sessions[0]!.session.id }), 2)
    t.same((await store.list(userId)).map((s) => s.id), [sessions[0]!.session.id])
    t.equal((await store.rotate(sessions[1]!.token)).outcome, 'missing')
    t.equal(await store.revokeAll(userId), 1)
    t.same(await store.list(userId), [])
    t.equal(await store.revokeAll(userId), 0)
    t.equal(await store.revokeAll(newUser('nobody')), 0)
  })

  t.test('list: live sessions only, newest first, with metadata', async (t) => {
    const store = await one()
    const userId = newUser()
    const created = []
    for (const ua of ['A', 'B', 'C']) {
      created.push(await store.create(userId, { userAgent: ua, ip: '192.0.2.1' }))
      await sleep(5)
    }
    await store.revoke(userId, created[1]!.session.id)
    const listed = await store.list(userId)
    t.same(listed.map((s) => s.userAgent), ['C', 'A'])
    t.same(listed.map((s) => s.id), [created[2]!.session.id, created[0]!.session.id])
    t.same(await store.list(newUser('empty')), [])
  })

  t.test('revoke by token (logout): newest and retired tokens revoke, twice is harmless', async (t) => {
    const store = await one()
    const userId = newUser()
    const { token, session } = await store.create(userId)
    t.same(await store.revokeByToken(token), { outcome: 'revoked', userId, sessionId: session.id })
    t.same(await store.revokeByToken(token), { outcome: 'missing' })
    const second = await store.create(userId)
    const newest = tokenOf(t, await store.rotate(second.token))
    t.same(await store.revokeByToken(second.token), { outcome: 'revoked', userId, sessionId: second.session.id }, 'a retired token of the session logs it out')
    t.equal((await store.rotate(newest)).outcome, 'missing')
  })

  t.test('per-user cap evicts the session closest to expiry', async (t) => {
    const store = await one({ maxSessionsPerUser: 3 })
    const userId = newUser()
    const a = await store.create(userId)
    await sleep(5)
    const b = await store.create(userId)
    await sleep(5)
    const c = await store.create(userId)
    await sleep(5)
    await store.rotate(a.token) // a is now the most recently used
    const d = await store.create(userId)
    t.same(d.evicted, [b.session.id], 'b had the soonest expiry')
    t.equal((await store.rotate(b.token)).outcome, 'missing')
    t.same((await store.list(userId)).map((s) => s.id).sort(), [a.session.id, c.session.id, d.session.id].sort())
    t.equal((await store.list(newUser('other'))).length, 0, "other users' caps are separate")
  })

  t.test('user ids of any content work and stay separate', async (t) => {
    const store = await one()
    const ids = ['1', '01', 'a:b', '{tag}', '}{', 'user@example.com', 'ünïcødé', '🔑🔑', 'a b\tc\nd', '.', '..', 'x'.repeat(256), 'é'.repeat(128)]
    const tokens = new Map<string, string>()
    for (const id of ids) tokens.set(id, (await store.create(id)).token)
    for (const [id, token] of tokens) {
      const result = await store.rotate(token)
      t.equal(result.outcome, 'rotated', `rotates for ${JSON.stringify(id.slice(0, 20))}`)
    }
    await t.rejects(store.create('x'.repeat(257)), TypeError, 'over 256 bytes is refused')
    await t.rejects(store.create(''), TypeError, 'empty is refused')
    await t.rejects(store.create('\uD800'), TypeError, 'lone surrogates are refused')
  })

  t.test('idle timeout slides with each refresh', async (t) => {
    const store = await one({ idleTtlMs: 600, absoluteTtlMs: 60_000 })
    const userId = newUser()
    let { token } = await store.create(userId)
    for (let i = 0; i < 4; i++) {
      await sleep(300)
      token = tokenOf(t, await store.rotate(token)) // 1.2 s in all: alive only because each refresh slides it
    }
    await sleep(900)
    t.same(await store.rotate(token), { outcome: 'expired', userId, sessionId: parseRefreshToken(token)!.sessionId })
    t.same(await store.list(userId), [])
  })

  t.test('absolute lifetime is reached even while refreshing actively', async (t) => {
    const store = await one({ idleTtlMs: 500, absoluteTtlMs: 1_000 })
    const userId = newUser()
    const created = await store.create(userId)
    let token = created.token
    const deadline = created.session.createdAt + 1_000
    let last: RotateResult
    for (;;) {
      await sleep(150)
      last = await store.rotate(token)
      if (last.outcome !== 'rotated') break
      t.ok(last.session.expiresAt <= deadline, 'expiry never passes the absolute lifetime')
      token = last.token
    }
    t.equal(last.outcome, 'expired')
    t.ok(Date.now() >= deadline - 50, 'ended at the absolute lifetime, not before')
  })

  t.test('an idle session expires and becomes missing once forgotten', async (t) => {
    const store = await one({ idleTtlMs: 300, absoluteTtlMs: 60_000 })
    const userId = newUser()
    const { token, session } = await store.create(userId)
    await sleep(600)
    t.equal(await store.isLive(userId, session.id), false)
    t.same(await store.rotate(token), { outcome: 'expired', userId, sessionId: session.id })
    t.same(await store.rotate(token), { outcome: 'missing', userId, sessionId: session.id }, 'the index entry is gone after it was reported')
  })

  t.test('50 parallel rotations of one token converge on one newest token', async (t) => {
    const stores = await makeStores(LONG, 5)
    const userId = newUser()
    const { token } = await stores[0]!.create(userId)
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % stores.length]!.rotate(token)))
    t.equal(results.filter((r) => r.outcome === 'rotated').length, 1, 'exactly one rotation')
    t.equal(results.filter((r) => r.outcome === 'grace').length, 49, 'the rest are grace replays')
    const newest = new Set(results.map((r) => tokenOf(t, r)))
    t.equal(newest.size, 1, 'all 50 got the same token')
    const [only] = newest
    t.equal((await stores[1]!.rotate(only!)).outcome, 'rotated', 'the one newest token works')
    t.equal((await stores[2]!.list(userId)).length, 1, 'still one session')
  })

  t.test('no token works after revoke-all or revoke has answered, whatever races it', async (t) => {
    const stores = await makeStores(LONG, 5)
    for (const kind of ['revokeAll', 'revoke'] as const) {
      for (let round = 0; round < 5; round++) {
        const userId = newUser()
        const created = await Promise.all([stores[0]!.create(userId), stores[1]!.create(userId)])
        const target = created[0]!
        const seen = new Set<string>(created.map((c) => c.token))
        // Chains of rotations on both sessions race the revoke from other connections.
        const chains = created.map(async (c, i) => {
          let token = c.token
          for (let step = 0; step < 10; step++) {
            const r = await stores[(i + step) % stores.length]!.rotate(token)
            if (r.outcome !== 'rotated' && r.outcome !== 'grace') return
            token = r.token
            seen.add(token)
          }
        })
        await sleep(round)
        const revoking = kind === 'revokeAll'
          ? stores[4]!.revokeAll(userId)
          : stores[4]!.revoke(userId, target.session.id)
        await revoking
        const afterRevoke = [...seen].filter((tok) => kind === 'revokeAll' || parseRefreshToken(tok)!.sessionId === target.session.id)
        // Every token handed out so far, and every one the racing chains get from now on, is dead.
        for (const tok of afterRevoke) {
          const r = await stores[3]!.rotate(tok)
          t.notOk(r.outcome === 'rotated' || r.outcome === 'grace', `${kind}: a token of a revoked session works (${r.outcome})`)
        }
        await Promise.all(chains)
        for (const tok of seen) {
          if (kind === 'revoke' && parseRefreshToken(tok)!.sessionId !== target.session.id) continue
          const r = await stores[3]!.rotate(tok)
          t.notOk(r.outcome === 'rotated' || r.outcome === 'grace', `${kind}: a token issued during the race works`)
        }
        if (kind === 'revoke') t.equal(await stores[0]!.isLive(userId, target.session.id), false, 'the revoked session is not live')
      }
    }
  })

  t.test('20 parallel logins of one user with a cap of 5 leave exactly 5 live sessions', async (t) => {
    const stores = await makeStores({ ...LONG, maxSessionsPerUser: 5 }, 5)
    const userId = newUser()
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.create(userId)))
    const live = await stores[0]!.list(userId)
    t.equal(live.length, 5)
    const evicted = created.flatMap((c) => c.evicted)
    t.equal(evicted.length, 15, 'every other session was evicted exactly once')
    t.equal(new Set(evicted).size, 15)
    let working = 0
    for (const c of created) {
      const r = await stores[1]!.rotate(c.token)
      if (r.outcome === 'rotated') working++
    }
    t.equal(working, 5, 'exactly 5 tokens work')
  })
}
