/**
 * POST /auth/login behind a full argon2 queue, over real HTTP: the logins beyond `concurrency` +
 * `maxQueued` get exactly 503 AUTH_LOGIN_BUSY with `Retry-After: 1`, their limiter attempts are
 * given back (counted with the limiter itself), no hook runs and no session is made; the logins
 * that got a place still work; a client that leaves gives its place up. argon2.verify is held
 * until the test lets it go, so which logins hold a place is counted, never timed.
 */
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { ALICE, buildApp, hashFor, type BuiltApp, type TestUser } from './helpers/build-app.js'
import { holdVerifies, until } from './helpers/hold-argon2.js'

const BUSY = { statusCode: 503, code: 'AUTH_LOGIN_BUSY', error: 'Service Unavailable', message: 'Too many logins in progress, retry in a second' }
const QUEUE = { concurrency: 1, maxQueued: 2 }
const LIMITS = { perUserIp: { max: 5, window: '1m' }, perIp: { max: 100, window: '1m' } }

interface Answer { status: number, retryAfter: string | null, body: Record<string, unknown> }

async function serve (t: Test, build: Parameters<typeof buildApp>[1] = {}): Promise<BuiltApp & { base: string, login: (username: string, password: string, signal?: AbortSignal) => Promise<Answer> }> {
  const built = await buildApp(t, { ...build, options: { argon2Queue: QUEUE, loginLimits: LIMITS, ...build.options } })
  const base = await built.app.listen({ host: '127.0.0.1', port: 0 })
  const login = async (username: string, password: string, signal?: AbortSignal): Promise<Answer> => {
    const response = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }), ...(signal !== undefined && { signal }) })
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() as Record<string, unknown> }
  }
  return { ...built, base, login }
}

const queueOf = (app: FastifyInstance): { running: number, queued: number } => {
  const { running, queued } = app.refreshSessions.argon2Queue!
  return { running, queued }
}
const statuses = (answers: Answer[]): number[] => answers.map((a) => a.status).sort()

t.test('wrong passwords beyond the queue: exactly the extra ones get 503 AUTH_LOGIN_BUSY, Retry-After 1, before the limiter counts them', async (t) => {
  const verifies = holdVerifies(t)
  const { app, events, login } = await serve(t)
  let answered = 0
  const flood = Array.from({ length: 5 }, async () => await login(ALICE.username, 'wrong-password-1').finally(() => { answered++ }))
  await until('two answered, one verify running and two waiting', () => answered === 2 && verifies.held() === 1 && queueOf(app).queued === 2)
  verifies.release()
  const answers = await Promise.all(flood)

  t.same(statuses(answers), [401, 401, 401, 503, 503], '1 running + 2 queued were checked; 2 were refused')
  for (const busy of answers.filter((a) => a.status === 503)) {
    t.same(busy.body, BUSY, '503 body')
    t.equal(busy.retryAfter, '1', 'Retry-After: 1')
  }
  t.equal(answers.filter((a) => a.status === 401).every((a) => a.retryAfter === null), true, 'no Retry-After on a 401')
  t.same((events.onLoginFailed ?? []).map((e) => (e as { reason: string }).reason), ['wrong-password', 'wrong-password', 'wrong-password'], 'onLoginFailed for the checked ones only')

  // The limiter allows 5 failures per username+ip: 3 are counted, so exactly 2 more get a 401.
  t.equal((await login(ALICE.username, 'wrong-password-2')).status, 401, 'fourth counted failure')
  t.equal((await login(ALICE.username, 'wrong-password-3')).status, 401, 'fifth counted failure')
  t.equal((await login(ALICE.username, 'wrong-password-4')).status, 429, 'then the limit: the two busy answers cost no attempt')
  t.same(queueOf(app), { running: 0, queued: 0 })
})

t.test('a login that passed the limiter and then finds the queue full is refused too, and its reserved attempt is given back', async (t) => {
  const verifies = holdVerifies(t)
  const alice = { id: ALICE.id, passwordHash: await hashFor(ALICE.password), roles: ALICE.roles }
  let holdFind = true
  let found: () => void = () => {}
  const { app, events, login } = await serve(t, {
    options: {
      argon2Queue: { concurrency: 1, maxQueued: 0 },
      findUser: async () => {
        if (holdFind) {
          holdFind = false
          await new Promise<void>((resolve) => { found = resolve })
        }
        return alice
      }
    }
  })
  // A is admitted by the limiter (its attempt reserved) and waits in findUser, the queue still empty.
  const a = login(ALICE.username, 'wrong-password-1')
  await until('A in findUser', () => !holdFind)
  // B takes the only slot.
  const b = login(ALICE.username, ALICE.password)
  await until('B verifying', () => verifies.held() === 1)
  found()
  t.same(await a, { status: 503, retryAfter: '1', body: BUSY }, 'A: no place left when it got its user')
  verifies.release()
  t.equal((await b).status, 200)
  t.equal(events.onLoginFailed, undefined)
  // 5 failures per username+ip: A's reserved attempt was given back, so all 5 remain.
  for (let i = 0; i < 5; i++) t.equal((await login(ALICE.username, `wrong-password-${i}`)).status, 401, `failure ${i + 1} of 5`)
  t.equal((await login(ALICE.username, 'wrong-password-x')).status, 429)
  t.same(queueOf(app), { running: 0, queued: 0 })
})

t.test('logins that get a place still work; the refused ones make no session and run no hook', async (t) => {
  const verifies = holdVerifies(t)
  const { app, events, login } = await serve(t)
  let answered = 0
  const flood = Array.from({ length: 4 }, async () => await login(ALICE.username, ALICE.password).finally(() => { answered++ }))
  await until('one answered, one verify running and two waiting', () => answered === 1 && verifies.held() === 1 && queueOf(app).queued === 2)
  verifies.release()
  const answers = await Promise.all(flood)

  t.same(statuses(answers), [200, 200, 200, 503])
  t.same(answers.find((a) => a.status === 503)?.body, BUSY)
  t.equal(new Set(answers.filter((a) => a.status === 200).map((a) => a.body.sessionId)).size, 3, 'three sessions')
  t.equal((await app.refreshSessions.listSessions(ALICE.id)).length, 3, 'and no fourth in the store')
  t.equal(events.onLogin?.length, 3, 'onLogin for the three')
  t.equal(events.onLoginFailed, undefined, 'no onLoginFailed for the busy one')
  t.equal((await login(ALICE.username, ALICE.password)).status, 200, 'the queue empty, a login goes through')
})

t.test('an unknown user waits for the queue too (its dummy verify is argon2): 503 when it is full', async (t) => {
  const verifies = holdVerifies(t)
  const { app, events, login } = await serve(t, { options: { argon2Queue: { concurrency: 1, maxQueued: 0 } } })
  const holder = login(ALICE.username, ALICE.password)
  await until('one verify running', () => verifies.held() === 1)
  const unknown = await login('nobody', 'any-password-1')
  t.same({ status: unknown.status, retryAfter: unknown.retryAfter, body: unknown.body }, { status: 503, retryAfter: '1', body: BUSY }, 'not a 401: the check never ran')
  verifies.release()
  t.equal((await holder).status, 200)
  t.equal(events.onLoginFailed, undefined, 'no failure recorded')
  t.equal((await login('nobody', 'any-password-1')).status, 401, 'with room, the unknown user gets its 401')
  t.same(queueOf(app), { running: 0, queued: 0 })
})

t.test('re-authentication checks its password in the same queue: 503 AUTH_LOGIN_BUSY when it is full, not counted', async (t) => {
  const { app, events, base, login } = await serve(t, { options: { argon2Queue: { concurrency: 1, maxQueued: 0 } } })
  const { body } = await login(ALICE.username, ALICE.password)
  const reauthenticate = async (password: string): Promise<Answer> => {
    const response = await fetch(`${base}/auth/reauthenticate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${String(body.accessToken)}` }, body: JSON.stringify({ username: ALICE.username, password }) })
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() as Record<string, unknown> }
  }
  const verifies = holdVerifies(t)
  const holder = login(ALICE.username, ALICE.password)
  await until('one verify running', () => verifies.held() === 1)
  t.same(await reauthenticate('wrong-password-1'), { status: 503, retryAfter: '1', body: BUSY })
  verifies.release()
  t.equal((await holder).status, 200)
  t.equal(events.onLoginFailed, undefined, 'the busy one was not a failure')
  t.equal((await reauthenticate(ALICE.password)).status, 200, 'with room, it goes through')
  t.same(queueOf(app), { running: 0, queued: 0 })
})

t.test('a client that leaves while its login waits gives up its place: it is never verified and not counted', async (t) => {
  const verifies = holdVerifies(t)
  const { app, events, login } = await serve(t, { options: { argon2Queue: { concurrency: 1, maxQueued: 1 } } })
  const holder = login(ALICE.username, ALICE.password)
  await until('one verify running', () => verifies.held() === 1)
  const leaving = new AbortController()
  const left = login(ALICE.username, 'wrong-password-1', leaving.signal).catch((error: unknown) => error)
  await until('the second login waiting', () => queueOf(app).queued === 1)
  leaving.abort()
  t.match(await left, { name: 'AbortError' }, 'the client gave up')
  await until('its place given up', () => queueOf(app).queued === 0)

  const next = login(ALICE.username, ALICE.password)
  await until('the next login waiting in the freed place', () => queueOf(app).queued === 1)
  t.equal((await login(ALICE.username, ALICE.password)).status, 503, 'and the queue is full again')
  verifies.release()
  t.same([(await holder).status, (await next).status], [200, 200])
  t.equal(events.onLoginFailed, undefined, 'the wrong password that left was never checked')
  t.equal((await app.refreshSessions.listSessions(ALICE.id)).length, 2)
  // 5 failures allowed: the one that left is not among them.
  for (let i = 0; i < 5; i++) t.equal((await login(ALICE.username, `wrong-password-${i}`)).status, 401, `failure ${i + 1} of 5`)
  t.equal((await login(ALICE.username, 'wrong-password-x')).status, 429)
})

t.test('a rehash with no place (its client left during the verify) is skipped: the login succeeds, the next one rehashes', async (t) => {
  const verifies = holdVerifies(t)
  const weak: TestUser = { id: 'u-weak', username: 'weak', password: 'weak-password-1', roles: ['user'], passwordHash: await hashFor('weak-password-1', { memoryCost: 512, timeCost: 1, parallelism: 1 }) }
  // The server sees the client leave when the response closes unanswered: counted here, first.
  let gone = 0
  const { events, login } = await serve(t, {
    users: [weak],
    fastify: { serverFactory: (handler) => createServer((request, response) => { response.on('close', () => { if (!response.writableFinished) gone++ }); handler(request, response) }) }
  })
  const leaving = new AbortController()
  const left = login(weak.username, weak.password, leaving.signal).catch((error: unknown) => error)
  await until('the verify running', () => verifies.held() === 1)
  leaving.abort()
  t.match(await left, { name: 'AbortError' })
  await until('the server saw the client leave', () => gone === 1)
  verifies.release()
  await until('the login finished', () => events.onLogin?.length === 1)
  t.equal(events.onPasswordRehash, undefined, 'no rehash for a client that left')

  t.equal((await login(weak.username, weak.password)).status, 200)
  t.equal(events.onPasswordRehash?.length, 1, 'the next login rehashes')
})
