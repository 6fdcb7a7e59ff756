/**
 * The demo's WebAuthn challenge store (examples/tasks-api/challenges.ts) on its own, with an
 * injected clock: taken once, for its ceremony and user only (a wrong use burns it), dead after
 * 60 s, and bounded: past 10 000 outstanding the oldest go first.
 */
import t from 'tap'
import { CHALLENGE_TTL_MS, Challenges } from '../examples/tasks-api/challenges.js'

t.test('a challenge is taken once, by its ceremony and user', async (t) => {
  const challenges = new Challenges(() => 0)
  challenges.issue('a', 'register', 'u1')
  t.equal(challenges.take('a', 'register', 'u1'), true)
  t.equal(challenges.take('a', 'register', 'u1'), false, 'not twice')
  t.equal(challenges.take('never-issued', 'login', null), false)

  challenges.issue('b', 'register', 'u1')
  t.equal(challenges.take('b', 'register', 'u2'), false, 'not by another user')
  t.equal(challenges.take('b', 'register', 'u1'), false, 'and a wrong use burns it')
  challenges.issue('c', 'reauthenticate', 'u1')
  t.equal(challenges.take('c', 'login', null), false, 'not for another ceremony')
  t.equal(challenges.size, 0)
})

t.test('dead after 60 s', async (t) => {
  let now = 1_000_000
  const challenges = new Challenges(() => now)
  challenges.issue('early', 'login', null)
  challenges.issue('late', 'login', null)
  now += CHALLENGE_TTL_MS - 1
  t.equal(challenges.take('early', 'login', null), true, 'at 59.999 s')
  now += 1
  t.equal(challenges.take('late', 'login', null), false, 'at 60 s')
  challenges.issue('x', 'login', null)
  now += CHALLENGE_TTL_MS
  challenges.issue('y', 'login', null)
  t.equal(challenges.size, 1, 'expired ones are dropped as new ones come')
})

t.test('at most 10 000 outstanding: the oldest go first', async (t) => {
  const challenges = new Challenges(() => 0)
  for (let i = 0; i < 10_001; i++) challenges.issue(`c${i}`, 'login', null)
  t.equal(challenges.size, 10_000)
  t.equal(challenges.take('c0', 'login', null), false, 'the first one is gone')
  t.equal(challenges.take('c1', 'login', null), true, 'the second one is still there')
  t.equal(challenges.take('c10000', 'login', null), true, 'and the newest')
})
