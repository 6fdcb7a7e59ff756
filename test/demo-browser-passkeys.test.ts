/**
 * Passkeys and step-up on the demo page in headless Chromium, with a virtual authenticator
 * (DevTools protocol: WebAuthn.addVirtualAuthenticator, ctap2 / internal, resident keys, user
 * verified). The page is on http://localhost:PORT: WebAuthn needs a secure context and a domain
 * for the RP id, and localhost is both. Through the page only: register, add a passkey, log out,
 * sign in with the passkey, change the password (a step-up with the password first: the clock of
 * the demo, in this process, is moved 5 minutes ahead), cancel a step-up, then delete the account
 * (a step-up with the passkey, since the user has one). Status codes are read from the server's request log.
 * Screenshots go to test-output/.
 */
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { launchChromium, logIn } from './helpers/chromium.js'
import { clockAhead } from './helpers/demo-passkeys.js'
import { startDemo, type DemoServer } from './helpers/demo-server.js'

const OUTPUT = new URL('../test-output/', import.meta.url)
const CAROL = { username: 'carol', password: 'carol-password-1' }
const NEW_PASSWORD = 'a-brand-new-passphrase'

/** "METHOD /path STATUS" of every request since `from`, but the page's own files. */
const seen = (server: DemoServer, from: number): string[] => server.requests().slice(from)
  .filter((r) => !/^\/(vendor\/|client\.js|app\.js|style\.css|config\.json|favicon\.ico|$)/.test(r.path))
  .map((r) => `${r.method} ${r.path} ${r.statusCode}`)

t.test('passkeys and step-up on the demo page in Chromium', async (t) => {
  const browser = await launchChromium(t)
  if (browser === null) return
  mkdirSync(OUTPUT, { recursive: true })
  const server = await startDemo(t)
  const setClock = clockAhead(t)
  const url = `http://localhost:${server.port}`
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))

  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true }
  })
  /** The virtual authenticator's signature counter when the passkey was made (it counts that too). */
  let countAtRegistration = 0
  const credentials = async (): Promise<Array<{ isResidentCredential: boolean, rpId?: string, signCount: number }>> =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials

  await t.test('register and sign in with a password: the token says pwd', async (t) => {
    await page.goto(url)
    await page.locator('#login').waitFor({ state: 'visible' })
    t.ok(await page.locator('#passkey-login').isVisible(), 'the passkey button is offered (WebAuthn is available on localhost)')
    await page.fill('#username', CAROL.username)
    await page.fill('#password', CAROL.password)
    await page.click('#register')
    await page.locator('#message', { hasText: 'Registered carol' }).waitFor()
    await logIn(page, url, CAROL.username, CAROL.password)
    t.equal(await page.textContent('#token-amr'), 'pwd')
    t.ok(await page.locator('#passkeys-empty').isVisible(), 'no passkey yet')
  })

  await t.test('add a passkey: no step-up right after signing in', async (t) => {
    const from = server.requests().length
    await page.click('#passkey-add')
    await page.locator('#message', { hasText: 'Passkey added' }).waitFor()
    t.same(seen(server, from), ['POST /passkeys/registration-options 200', 'POST /passkeys 201', 'GET /passkeys 200'])
    t.equal(await page.locator('#passkeys li').count(), 1, 'listed')
    t.match(await page.textContent('#passkeys li'), /passkey, added .*, never used/)
    t.ok(await page.locator('#passkeys-empty').isHidden())
    const held = await credentials()
    t.equal(held.length, 1, 'the authenticator holds one credential')
    t.match(held[0], { isResidentCredential: true, rpId: 'localhost' }, 'a discoverable one for localhost')
    countAtRegistration = held[0]!.signCount
    t.equal(server.users.passkeysOf(server.users.byName('carol')!.id).length, 1, 'the demo stored it')
  })

  await t.test('log out, then sign in with the passkey: the token says hwk + user', async (t) => {
    await page.click('#logout')
    await page.locator('#login').waitFor({ state: 'visible' })
    t.notOk((await context.cookies()).some((c) => c.name === 'refresh_token'), 'no refresh cookie')
    const from = server.requests().length
    await page.click('#passkey-login')
    await page.locator('#who-name', { hasText: 'carol' }).waitFor()
    t.same(seen(server, from).slice(0, 2), ['POST /auth/passkey/login-options 200', 'POST /auth/passkey/login 200'])
    t.equal(await page.textContent('#token-amr'), 'hwk + user')
    const refresh = (await context.cookies()).find((c) => c.name === 'refresh_token')
    t.match(refresh, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/auth', domain: 'localhost' }, 'the refresh cookie of a new session')
    t.match(await page.textContent('#passkeys li'), /last used/, 'the passkey shows its use')
    t.equal((await credentials())[0]!.signCount, countAtRegistration + 1, 'the authenticator signed once')
    await page.screenshot({ path: new URL('passkey-signed-in.png', OUTPUT).pathname, fullPage: true })
  })

  await t.test('change the password 5 minutes later: confirm with the password, then other sessions are out', async (t) => {
    const other = await browser.newContext()
    t.teardown(() => other.close())
    const otherPage = await other.newPage()
    await logIn(otherPage, url, CAROL.username, CAROL.password)
    const userId = server.users.byName('carol')!.id
    t.equal((await server.app.refreshSessions.listSessions(userId)).length, 2, 'two sessions')

    setClock(301)
    const refreshes = await page.textContent('#refresh-count')
    const from = server.requests().length
    await page.fill('#new-password', NEW_PASSWORD)
    await page.click('#password-form button[type="submit"]')
    await page.locator('#step-up').waitFor({ state: 'visible' })
    t.match(await page.textContent('#step-up-reason'), /sign-in within the last 5 minutes/)
    t.ok(await page.locator('#step-up-password').isVisible(), 'a password will do')
    await page.screenshot({ path: new URL('step-up-password.png', OUTPUT).pathname, fullPage: true })
    await page.fill('#step-up-password', CAROL.password)
    await page.click('#step-up-password-submit')
    await page.locator('#message', { hasText: 'Password changed; 1 other session signed out.' }).waitFor()
    t.ok(await page.locator('#step-up').isHidden(), 'the dialog is closed')
    t.same(seen(server, from).slice(0, 3), ['POST /account/password 401', 'POST /auth/reauthenticate 200', 'POST /account/password 200'], 'refused, re-authenticated, retried')
    t.equal(await page.textContent('#token-amr'), 'pwd', 'the session now says pwd')
    t.equal(await page.textContent('#refresh-count'), refreshes, 'the new token is not counted as a silent refresh')
    t.equal((await server.app.refreshSessions.listSessions(userId)).length, 1, 'one session left')

    await otherPage.reload()
    await otherPage.locator('#login').waitFor({ state: 'visible' })
    t.ok(await otherPage.locator('#app').isHidden(), 'the other browser is signed out')
  })

  await t.test('cancel the step-up: nothing is deleted, the page says why', async (t) => {
    const from = server.requests().length
    page.once('dialog', (dialog) => { void dialog.accept() })
    await page.click('#delete-account')
    await page.locator('#step-up').waitFor({ state: 'visible' })
    await page.click('#step-up-cancel')
    await page.locator('#message', { hasText: 'A more recent or a different sign-in is required' }).waitFor()
    t.ok(await page.locator('#step-up').isHidden(), 'the dialog is closed')
    t.equal(await page.getAttribute('#message', 'class'), 'error')
    t.same(seen(server, from), ['DELETE /account 401'], 'one refused request, not retried')
    t.ok(server.users.byName('carol'), 'carol is still there')
    t.ok(await page.locator('#app').isVisible(), 'and signed in')
  })

  await t.test('delete the account: a passkey is required, the dialog offers only that', async (t) => {
    const from = server.requests().length
    page.once('dialog', (dialog) => { void dialog.accept() })
    await page.click('#delete-account')
    await page.locator('#step-up').waitFor({ state: 'visible' })
    t.match(await page.textContent('#step-up-reason'), /sign-in with a passkey/)
    t.ok(await page.locator('#step-up-with-password').isHidden(), 'no password field')
    await page.screenshot({ path: new URL('step-up-passkey.png', OUTPUT).pathname, fullPage: true })
    await page.click('#step-up-passkey')
    await page.locator('#login').waitFor({ state: 'visible' })
    t.equal(await page.textContent('#message'), 'Your account is deleted.')
    t.same(seen(server, from), [
      'DELETE /account 401',
      'POST /auth/passkey/reauthenticate-options 200',
      'POST /auth/passkey/reauthenticate 200',
      'DELETE /account 204',
      'POST /auth/logout 204'
    ])
    t.equal(server.users.byName('carol'), null, 'the user is gone')
    t.notOk((await context.cookies()).some((c) => c.name === 'refresh_token'), 'the cookie is cleared')
    t.equal((await credentials())[0]!.signCount, countAtRegistration + 2, 'the passkey signed the step-up')
  })

  t.same(pageErrors, [], 'no uncaught errors in the page')
})
