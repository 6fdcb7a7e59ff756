/**
 * Passkeys in the demo, end to end over real HTTP with a software authenticator: a signed-in
 * user adds one, then signs in with it on another device through startSession (a session like a
 * password login's: refresh cookie, token response), its token saying how (amr hwk + user, or
 * swk + user for a synced passkey) and when (auth_time), carried through refreshes. Challenges
 * are single-use (also when one response is sent twice at once), for one ceremony and user, and
 * dead after 60 s; another origin, another user's passkey, an unknown one and an authenticator
 * that did not verify the user are refused. The page's copy of @simplewebauthn/browser is the
 * package's own ES modules, served from node_modules.
 */
import t from 'tap'
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server'
import { claimsOf, clockAhead, Device } from './helpers/demo-passkeys.js'
import { startDemo } from './helpers/demo-server.js'
import { SoftwareAuthenticator } from './helpers/webauthn-authenticator.js'

const CAROL = { username: 'carol', password: 'carol-password-1' }

t.test('add a passkey, sign in with it on another device', async (t) => {
  const server = await startDemo(t)
  const setClock = clockAhead(t)
  const laptop = new Device(server)
  t.equal((await laptop.call('POST', '/auth/register', CAROL, { bearer: false })).status, 201)
  t.equal((await laptop.login(CAROL.username, CAROL.password)).status, 200)
  t.same(claimsOf(laptop.accessToken!).amr, ['pwd'], 'a password sign-in says pwd')

  t.same((await laptop.call('GET', '/passkeys')).body, { passkeys: [] })
  const options = await laptop.call('POST', '/passkeys/registration-options')
  t.equal(options.status, 200, 'a fresh sign-in may add a passkey without a step-up')
  const creation = options.body as PublicKeyCredentialCreationOptionsJSON
  t.match(creation, { rp: { id: 'localhost' }, user: { name: 'carol' }, attestation: 'none', authenticatorSelection: { residentKey: 'required', userVerification: 'required' }, excludeCredentials: [] })
  t.notMatch(creation.user.id, /carol|^\d+$/, 'the user handle is neither the name nor the id')
  const registration = laptop.authenticator.register(creation, laptop.origin)
  const added = await laptop.call('POST', '/passkeys', registration)
  t.equal(added.status, 201)
  t.match(added.body, { id: registration.id, deviceType: 'singleDevice', backedUp: false, createdAt: String, lastUsedAt: null })
  t.same(Object.keys(added.body as object).sort(), ['backedUp', 'createdAt', 'deviceType', 'id', 'lastUsedAt'], 'no public key nor counter in the answer')

  const again = await laptop.call('POST', '/passkeys', registration)
  t.equal(again.status, 400, 'the same response again: its challenge is used up')
  t.match(again.body, { statusCode: 400, code: 'DEMO_PASSKEY_CHALLENGE_INVALID', error: 'Bad Request' })
  const second = await laptop.call('POST', '/passkeys/registration-options')
  t.same((second.body as PublicKeyCredentialCreationOptionsJSON).excludeCredentials, [{ id: registration.id, type: 'public-key', transports: ['internal'] }], 'the next options exclude it')

  // The phone holds the same passkey (synced), and no cookie yet.
  const phone = new Device(server, laptop.authenticator)
  const loginOptions = await phone.call('POST', '/auth/passkey/login-options', undefined, { bearer: false })
  t.equal(loginOptions.status, 200)
  t.match(loginOptions.body, { rpId: 'localhost', allowCredentials: [], userVerification: 'required', timeout: 60000 })
  const before = Math.floor(Date.now() / 1000)
  const assertion = phone.authenticator.authenticate(loginOptions.body as PublicKeyCredentialRequestOptionsJSON, phone.origin)
  const login = await phone.call('POST', '/auth/passkey/login', assertion, { bearer: false })
  t.equal(login.status, 200, 'signed in with the passkey')
  t.match(login.body, { accessToken: String, tokenType: 'Bearer', expiresIn: 900, sessionId: String })
  t.equal(login.headers.get('cache-control'), 'no-store')
  const cookie = login.headers.getSetCookie().find((line) => line.startsWith('refresh_token='))
  t.match(cookie, /; Path=\/auth; HttpOnly; Secure; SameSite=Strict/, 'the refresh cookie, as after a password login')
  phone.accessToken = (login.body as { accessToken: string }).accessToken
  const claims = claimsOf(phone.accessToken)
  t.same(claims.amr, ['hwk', 'user'], 'the token says: a passkey')
  t.ok(typeof claims.auth_time === 'number' && claims.auth_time >= before && claims.auth_time <= Math.floor(Date.now() / 1000), 'and when')
  t.match((await phone.call('GET', '/me')).body, { username: 'carol' })
  t.match((await phone.call('GET', '/passkeys')).body, { passkeys: [{ id: registration.id, lastUsedAt: String }] }, 'the passkey shows its use')

  const replay = await phone.call('POST', '/auth/passkey/login', assertion, { bearer: false })
  t.equal(replay.status, 400, 'the same assertion again: its challenge is used up')
  t.equal(replay.body.code, 'DEMO_PASSKEY_CHALLENGE_INVALID')

  setClock(120)
  const refreshed = await phone.refresh()
  t.equal(refreshed.status, 200, 'two minutes later, a refresh')
  t.same(claimsOf(phone.accessToken).amr, ['hwk', 'user'], 'carries amr')
  t.equal(claimsOf(phone.accessToken).auth_time, claims.auth_time, 'and auth_time unchanged')

  const sessions = (await laptop.call('GET', '/auth/sessions')).body as { sessions: Array<{ id: string }> }
  t.equal(sessions.sessions.length, 2, 'two sessions: the password one and the passkey one')
})

t.test('the page gets @simplewebauthn/browser from node_modules, as ES modules', async (t) => {
  const server = await startDemo(t)
  const index = await fetch(`${server.url}/vendor/simplewebauthn/browser/index.js`)
  t.equal(index.status, 200)
  t.equal(index.headers.get('content-type'), 'text/javascript; charset=utf-8')
  const source = await index.text()
  t.match(source, /export \* from '\.\/methods\/startRegistration\.js'/, 'the package\'s ESM entry point')
  for (const [, path] of source.matchAll(/from '\.\/([^']+)'/g)) {
    t.equal((await fetch(`${server.url}/vendor/simplewebauthn/browser/${path!}`)).status, 200, `and ${path!}, which it imports`)
  }
  t.equal((await fetch(`${server.url}/vendor/simplewebauthn/browser/package.json`)).status, 404, 'nothing else of the package')
})

t.test('a synced passkey (backed up) signs in as swk + user', async (t) => {
  const server = await startDemo(t)
  const laptop = new Device(server, new SoftwareAuthenticator({ backedUp: true, counterStep: 0 }))
  t.equal((await laptop.signUp(CAROL)).status, 200, 'carol signs up')
  const added = await laptop.addPasskey()
  t.match(added.body, { deviceType: 'multiDevice', backedUp: true })
  const phone = new Device(server, laptop.authenticator)
  t.equal((await phone.passkeyLogin()).status, 200)
  t.same(claimsOf(phone.accessToken!).amr, ['swk', 'user'], 'a software-secured key, user verified')
  t.equal((await phone.passkeyLogin()).status, 200, 'again: an authenticator that counts nothing (0) is not a clone')
})

t.test('what is refused: stale, foreign or misused challenges; other origins; unknown passkeys; no user verification', async (t) => {
  const server = await startDemo(t)
  const setClock = clockAhead(t)
  const carol = new Device(server)
  t.equal((await carol.signUp(CAROL)).status, 200, 'carol signs up')
  t.equal((await carol.addPasskey()).status, 201)

  const loginOptions = async (device: Device): Promise<PublicKeyCredentialRequestOptionsJSON> =>
    (await device.call('POST', '/auth/passkey/login-options', undefined, { bearer: false })).body as PublicKeyCredentialRequestOptionsJSON
  const passkeyLogin = async (device: Device, options: PublicKeyCredentialRequestOptionsJSON, origin = device.origin): Promise<{ status: number, code: string }> => {
    const answer = await device.call('POST', '/auth/passkey/login', device.authenticator.authenticate(options, origin), { bearer: false })
    return { status: answer.status, code: answer.body?.code }
  }

  const stale = await loginOptions(carol)
  setClock(61)
  t.same(await passkeyLogin(carol, stale), { status: 400, code: 'DEMO_PASSKEY_CHALLENGE_INVALID' }, 'a challenge older than 60 s')
  setClock(0)

  t.same(await passkeyLogin(carol, await loginOptions(carol), 'http://localhost.evil.example'), { status: 401, code: 'DEMO_PASSKEY_REFUSED' }, 'signed for another origin')

  const reauthOptions = await carol.call('POST', '/auth/passkey/reauthenticate-options')
  t.same(await passkeyLogin(carol, reauthOptions.body as PublicKeyCredentialRequestOptionsJSON), { status: 400, code: 'DEMO_PASSKEY_CHALLENGE_INVALID' }, 'a re-authentication challenge used to sign in')

  // A credential the server never saw (registered on the authenticator alone).
  const stranger = new Device(server)
  stranger.authenticator.register({ rp: { id: 'localhost', name: 'x' }, user: { id: 'AAAA', name: 'x', displayName: 'x' }, challenge: 'AAAA', pubKeyCredParams: [] }, stranger.origin)
  t.same(await passkeyLogin(stranger, await loginOptions(stranger)), { status: 401, code: 'DEMO_PASSKEY_REFUSED' }, 'an unknown passkey')
  t.notOk(stranger.hasRefreshCookie, 'no session for any of these')

  // alice, signed in, tries to step up with carol's passkey.
  const alice = new Device(server, carol.authenticator)
  await alice.login('alice', 'alice-password-1')
  const aliceOptions = await alice.call('POST', '/auth/passkey/reauthenticate-options')
  t.same((aliceOptions.body as PublicKeyCredentialRequestOptionsJSON).allowCredentials, [], 'alice has no passkey to offer')
  const foreign = await alice.call('POST', '/auth/passkey/reauthenticate', carol.authenticator.authenticate(aliceOptions.body as PublicKeyCredentialRequestOptionsJSON, alice.origin, carol.authenticator.credentials[0]!.id))
  t.equal(foreign.status, 401, "another user's passkey does not re-authenticate alice")
  t.equal(foreign.body.code, 'DEMO_PASSKEY_REFUSED')
  t.same(claimsOf(alice.accessToken!).amr, ['pwd'])

  // A registration challenge is for the user it was issued to.
  const aliceRegistration = await alice.call('POST', '/passkeys/registration-options')
  const carolAdds = await carol.call('POST', '/passkeys', new SoftwareAuthenticator().register(aliceRegistration.body as PublicKeyCredentialCreationOptionsJSON, carol.origin))
  t.equal(carolAdds.status, 400, "alice's registration challenge does not add a passkey to carol")
  t.equal(carolAdds.body.code, 'DEMO_PASSKEY_CHALLENGE_INVALID')

  const noUv = new Device(server, new SoftwareAuthenticator({ userVerified: false }))
  noUv.accessToken = carol.accessToken
  const unverified = await noUv.addPasskey()
  t.equal(unverified.status, 400, 'an authenticator that did not verify the user (no PIN, no biometrics)')
  t.equal(unverified.body.code, 'DEMO_PASSKEY_INVALID')
  t.equal(((await carol.call('GET', '/passkeys')).body as { passkeys: unknown[] }).passkeys.length, 1, 'carol still has her one passkey')

  // One assertion sent twice at once: its challenge is taken once.
  const raced = carol.authenticator.authenticate(await loginOptions(carol), carol.origin)
  const both = await Promise.all([0, 1].map(async () => (await carol.call('POST', '/auth/passkey/login', raced, { bearer: false })).status))
  t.same(both.sort(), [200, 400], 'the same assertion twice in parallel: one session, one 400')

  const anonymous = await stranger.call('POST', '/passkeys/registration-options', undefined, { bearer: false })
  t.equal(anonymous.status, 401, 'adding a passkey needs a session')
  t.equal(anonymous.body.code, 'AUTH_TOKEN_MISSING')
})
