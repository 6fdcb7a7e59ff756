/**
 * The demo's sensitive actions behind step-up (RFC 9470), over real HTTP with a controlled clock
 * (Date.now, shared by the demo and the plugin in this process):
 *
 * - changing the password (and adding a passkey) needs a sign-in within 5 minutes: at 4:59 the
 *   guard lets it through, at 5:01 it answers 401 AUTH_STEP_UP_REQUIRED with the RFC 9470
 *   challenge, and a refresh does not change that; after a password
 *   re-authentication of the same session it is accepted, and every other session of the user
 *   is revoked (their refreshes fail) while this one goes on;
 * - deleting the account of a user with a passkey needs a passkey sign-in: a recent password is
 *   refused with acr_values, a passkey re-authentication lets it through, and then nothing of
 *   the account is left (sessions, passkey, password).
 */
import t from 'tap'
import { claimsOf, clockAhead, Device } from './helpers/demo-passkeys.js'
import { startDemo } from './helpers/demo-server.js'

const CAROL = { username: 'carol', password: 'carol-password-1' }
const NEW_PASSWORD = 'a-brand-new-passphrase'

t.test('change the password: recent sign-in needed, other sessions revoked', async (t) => {
  const server = await startDemo(t)
  const setClock = clockAhead(t)
  const laptop = new Device(server)
  t.equal((await laptop.signUp(CAROL)).status, 200, 'carol signs up')
  t.equal((await laptop.addPasskey()).status, 201)
  const tablet = new Device(server)
  await tablet.login(CAROL.username, CAROL.password)
  const phone = new Device(server, laptop.authenticator)
  t.equal((await phone.passkeyLogin()).status, 200, 'the phone signs in with the passkey')
  const phoneSession = claimsOf(phone.accessToken!).sid
  const signedInAt = claimsOf(phone.accessToken!).auth_time as number

  // A weak password is refused by the route itself, after the guard: 400 means the guard let it pass.
  setClock(299)
  const fresh = await phone.call('POST', '/account/password', { newPassword: 'short' })
  t.equal(fresh.status, 400, 'at 4:59 after the sign-in, the guard lets it through')
  t.equal(fresh.body.code, 'DEMO_WEAK_PASSWORD')

  setClock(301)
  const stale = await phone.call('POST', '/account/password', { newPassword: NEW_PASSWORD })
  t.equal(stale.status, 401, 'at 5:01, a step-up')
  t.match(stale.body, { statusCode: 401, code: 'AUTH_STEP_UP_REQUIRED', error: 'Unauthorized' })
  const challenge = stale.headers.get('www-authenticate') ?? ''
  t.match(challenge, /^Bearer /)
  t.match(challenge, /error="insufficient_user_authentication"/)
  t.match(challenge, /max_age=300\b|max_age="300"/)
  t.notMatch(challenge, /acr_values/, 'any method will do')
  const addPasskey = await phone.call('POST', '/passkeys/registration-options')
  t.equal(addPasskey.status, 401, 'adding a passkey is as sensitive')
  t.equal(addPasskey.body.code, 'AUTH_STEP_UP_REQUIRED')
  t.equal((await phone.refresh()).status, 200, 'a refresh is no re-authentication')
  t.equal(claimsOf(phone.accessToken!).auth_time, signedInAt, 'auth_time is the sign-in\'s still')
  t.equal((await phone.call('POST', '/account/password', { newPassword: NEW_PASSWORD })).status, 401, 'still refused')

  const wrong = await phone.reauthenticateWithPassword(CAROL.username, 'not-her-password')
  t.equal(wrong.status, 401, 'a wrong password re-authenticates nothing')
  t.equal(wrong.body.code, 'AUTH_INVALID_CREDENTIALS')
  const reauth = await phone.reauthenticateWithPassword(CAROL.username, CAROL.password)
  t.equal(reauth.status, 200, 're-authenticated with the password')
  t.equal(reauth.body.sessionId, phoneSession, 'the same session')
  t.same(claimsOf(phone.accessToken!).amr, ['pwd'])
  t.ok((claimsOf(phone.accessToken!).auth_time as number) >= signedInAt + 301, 'auth_time is now')

  const changed = await phone.call('POST', '/account/password', { newPassword: NEW_PASSWORD })
  t.equal(changed.status, 200, 'accepted after the re-authentication')
  t.same(changed.body, { revokedSessions: 2 }, 'the laptop and tablet sessions')

  for (const [name, device] of [['laptop', laptop], ['tablet', tablet]] as const) {
    const refused = await device.refresh()
    t.equal(refused.status, 401, `the ${name} cannot refresh any more`)
    t.equal(refused.body.code, 'AUTH_REFRESH_INVALID')
    const sensitive = await device.call('POST', '/passkeys/registration-options')
    t.equal(sensitive.status, 401, `its last access token, unexpired, does no sensitive action (${name})`)
    t.equal(sensitive.body.code, 'AUTH_SESSION_REVOKED')
  }
  t.equal((await phone.refresh()).status, 200, 'the phone goes on')
  t.same(((await phone.call('GET', '/auth/sessions')).body as { sessions: Array<{ id: string }> }).sessions.map((session) => session.id), [phoneSession], 'its session is the only one')

  t.equal((await new Device(server).login(CAROL.username, CAROL.password)).status, 401, 'the old password is refused')
  t.equal((await new Device(server).login(CAROL.username, NEW_PASSWORD)).status, 200, 'the new one works')
})

t.test('delete the account: a passkey step-up when the user has a passkey', async (t) => {
  const server = await startDemo(t)
  const laptop = new Device(server)
  t.equal((await laptop.signUp(CAROL)).status, 200, 'carol signs up')
  t.equal((await laptop.addPasskey()).status, 201)
  await laptop.call('POST', '/tasks', { title: 'a task of carol' })
  const phone = new Device(server, laptop.authenticator)
  await phone.passkeyLogin()

  const refused = await laptop.call('DELETE', '/account')
  t.equal(refused.status, 401, 'a password sign-in a moment ago is not enough: carol has a passkey')
  t.equal(refused.body.code, 'AUTH_STEP_UP_REQUIRED')
  const challenge = refused.headers.get('www-authenticate') ?? ''
  t.match(challenge, /error="insufficient_user_authentication"/)
  t.match(challenge, /acr_values="[^"]*hwk[^"]*"/, 'asks for a passkey')
  t.equal((await laptop.reauthenticateWithPassword(CAROL.username, CAROL.password)).status, 200)
  t.equal((await laptop.call('DELETE', '/account')).status, 401, 'a password re-authentication neither')

  const stepUp = await laptop.reauthenticateWithPasskey()
  t.equal(stepUp.status, 200, 're-authenticated with the passkey')
  t.same(claimsOf(laptop.accessToken!).amr, ['hwk', 'user'])
  const deleted = await laptop.call('DELETE', '/account')
  t.equal(deleted.status, 204, 'deleted')

  t.equal(server.users.byName('carol'), null, 'the user is gone')
  for (const device of [laptop, phone]) t.equal((await device.refresh()).status, 401, 'no session of the account survives')
  t.equal((await new Device(server).login(CAROL.username, CAROL.password)).status, 401, 'the password is gone')
  const passkey = await new Device(server, laptop.authenticator).passkeyLogin()
  t.equal(passkey.status, 401, 'the passkey is gone')
  t.equal(passkey.body.code, 'DEMO_PASSKEY_REFUSED')

  // The name is free again, with nothing of the old account.
  const again = new Device(server)
  t.equal((await again.signUp(CAROL)).status, 200, 'the name can be registered again')
  t.same((await again.call('GET', '/tasks')).body, { tasks: [] }, 'no tasks inherited')
  t.same((await again.call('GET', '/passkeys')).body, { passkeys: [] }, 'no passkeys inherited')
})

t.test('delete the account without a passkey: a recent password is enough', async (t) => {
  const server = await startDemo(t)
  const setClock = clockAhead(t)
  const laptop = new Device(server)
  t.equal((await laptop.signUp(CAROL)).status, 200, 'carol signs up')
  setClock(301)
  const stale = await laptop.call('DELETE', '/account')
  t.equal(stale.status, 401, 'not after 5 minutes')
  t.notMatch(stale.headers.get('www-authenticate') ?? '', /acr_values/, 'any method will do')
  t.equal((await laptop.reauthenticateWithPassword(CAROL.username, CAROL.password)).status, 200)
  t.equal((await laptop.call('DELETE', '/account')).status, 204)
  t.equal(server.users.byName('carol'), null)
})
