/**
 * The demo page in headless Chromium (SPEC 7 and 9): log in through the form, the refresh token
 * in an httpOnly Secure SameSite=Strict cookie that scripts cannot read, tasks through silent
 * refreshes, two tabs making ONE refresh between them (Web Locks + BroadcastChannel), a session
 * revoked from another browser, and log out. Refreshes are counted server-side.
 * Screenshots go to test-output/.
 */
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium, logIn } from './helpers/chromium.js'
import { startDemo, type DemoServer } from './helpers/demo-server.js'

const TTL_MS = 4000
const OUTPUT = new URL('../test-output/', import.meta.url)

const refreshCount = async (page: Page): Promise<number> => Number(await page.textContent('#refresh-count'))
const lastRefreshAt = (server: DemoServer): number => server.requests().filter((r) => r.method === 'POST' && r.path === '/auth/refresh').at(-1)?.at ?? 0
const bearersOf = (server: DemoServer, from: number, method: string, path: string): Array<string | null> =>
  server.requests().slice(from).filter((r) => r.method === method && r.path === path).map((r) => r.bearer)

async function waitForCount (page: Page, atLeast: number, timeout: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector('#refresh-count')?.textContent) >= n, atLeast, { timeout, polling: 50 })
}

t.test('the demo page in Chromium', async (t) => {
  const browser = await launchChromium(t)
  if (browser === null) return
  mkdirSync(OUTPUT, { recursive: true })
  const started = Date.now()
  const server = await startDemo(t, { env: { ACCESS_TOKEN_TTL: `${TTL_MS / 1000}s` } })
  const pageErrors: string[] = []
  const newPage = async (context: BrowserContext): Promise<Page> => {
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (error) => pageErrors.push(error.message))
    return page
  }

  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  const tab1 = await newPage(context)
  let sessionId = ''

  await t.test('first visit: the login form, no message', async (t) => {
    await tab1.goto(server.url)
    await tab1.locator('#login').waitFor({ state: 'visible' })
    t.ok(await tab1.locator('#app').isHidden(), 'the app is hidden')
    t.ok(await tab1.locator('#who').isHidden(), 'no "signed in as" nor log out buttons')
    t.ok(await tab1.locator('#message').isHidden(), 'no "session ended" message for a visitor who never had a session')
  })

  await t.test('log in: the refresh token is an httpOnly cookie scripts cannot read', async (t) => {
    const loginAt = server.requests().length
    await logIn(tab1, server.url, 'alice', 'alice-password-1')
    t.ok(await tab1.locator('#login').isHidden(), 'the login form is gone')
    t.ok(await tab1.locator('#who').isVisible(), '"signed in as" is shown')
    sessionId = (await tab1.textContent('#session-id')) ?? ''
    t.match(sessionId, /^\S{8,}$/, 'the session id is shown')
    await tab1.waitForFunction(() => /^\d+ s$/.test(document.querySelector('#token-expires')?.textContent ?? ''))
    t.match(await tab1.textContent('#token-expires'), /^\d+ s$/, 'the token countdown runs')
    t.equal(await refreshCount(tab1), 0, 'no refresh yet')
    t.ok(server.requests().slice(loginAt).some((r) => r.path === '/auth/login' && r.statusCode === 200), 'logged in over HTTP')

    const cookies = await context.cookies()
    const refresh = cookies.find((c) => c.name === 'refresh_token')
    t.ok(refresh, 'the browser accepted the Secure cookie on http://127.0.0.1')
    t.match(refresh, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/auth', domain: '127.0.0.1' })
    t.ok((refresh?.expires ?? 0) > Date.now() / 1000 + 6 * 24 * 3600, 'a persistent cookie (Max-Age of the idle TTL)')
    const visible = await tab1.evaluate(() => document.cookie)
    t.notOk(visible.includes('refresh_token'), 'document.cookie does not show it')
    t.notOk(visible.includes(refresh?.value ?? 'none'), 'nor its value')
    const storage = await tab1.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))
    t.equal(storage, '{}{}', 'no token in web storage')

    await tab1.fill('#task-title', 'write the browser test')
    await tab1.click('#task-form button[type="submit"]')
    await tab1.locator('#tasks li', { hasText: 'write the browser test' }).waitFor()
    t.ok(await tab1.locator('#tasks-empty').isHidden())
    await tab1.screenshot({ path: new URL('logged-in.png', OUTPUT).pathname, fullPage: true })
  })

  await t.test('past the access token TTL, tasks still work through a silent refresh', async (t) => {
    const firstBearer = bearersOf(server, 0, 'GET', '/me')[0]
    const loginToken = server.requests().find((r) => r.path === '/auth/login')!
    await sleep(Math.max(0, loginToken.at + TTL_MS - Date.now()) + 300)
    const before = server.requests().length
    await tab1.fill('#task-title', 'second task')
    await tab1.click('#task-form button[type="submit"]')
    await tab1.locator('#tasks li', { hasText: 'second task' }).waitFor()
    await tab1.locator('#tasks li', { hasText: 'write the browser test' }).getByRole('button', { name: 'Delete' }).click()
    await tab1.locator('#tasks li', { hasText: 'write the browser test' }).waitFor({ state: 'detached' })
    t.equal(await tab1.locator('#tasks li').count(), 1)
    t.ok(server.refreshRequests() > 0, `refreshes reached the server (${server.refreshRequests()})`)
    t.ok(await refreshCount(tab1) > 0, `the page counts them (${await refreshCount(tab1)})`)
    const after = server.requests().slice(before)
    t.same(after.filter((r) => r.statusCode >= 400).map((r) => `${r.method} ${r.path} ${r.statusCode}`), [], 'no request was refused on the way')
    t.ok(after.some((r) => r.method === 'DELETE' && r.statusCode === 204), 'deleted')
    const used = bearersOf(server, before, 'POST', '/tasks')[0]
    t.ok(used !== null && used !== firstBearer, 'with a newer access token than the login one')
    t.equal(await tab1.textContent('#session-id'), sessionId, 'same session')
  })

  await t.test('two tabs whose tokens expire together make ONE refresh between them', async (t) => {
    const tab2 = await newPage(context)
    const countBefore = await refreshCount(tab1)
    await tab2.goto(server.url)
    // The new tab logs in with the cookie (one refresh) and hands its token to the first tab.
    await tab2.locator('#app').waitFor({ state: 'visible' })
    await waitForCount(tab1, countBefore + 1, 3000)
    t.equal(await tab2.textContent('#session-id'), sessionId, 'the same session in both tabs')
    // Both timers fire ahead of the shared expiry: one tab refreshes, the other adopts its token.
    // Two windows in a row: which tab wins the lock, and whether its token or the lock reaches the
    // other tab first, varies from run to run.
    for (const round of [1, 2]) {
      const adoptedAt = lastRefreshAt(server)
      server.resetRefreshRequests()
      const count1 = await refreshCount(tab1)
      const count2 = await refreshCount(tab2)
      const deadline = adoptedAt + TTL_MS + 1500
      await Promise.all([waitForCount(tab1, count1 + 1, deadline - Date.now()), waitForCount(tab2, count2 + 1, deadline - Date.now())])
      await sleep(300)
      t.ok(Date.now() < adoptedAt + TTL_MS + (TTL_MS * 4) / 5, `window ${round}: still inside it`)
      t.equal(server.refreshRequests(), 1, `window ${round}: exactly one refresh reached the server for both tabs`)
      t.equal(await refreshCount(tab1), count1 + 1, `window ${round}: tab 1 got one new token`)
      t.equal(await refreshCount(tab2), count2 + 1, `window ${round}: tab 2 got one new token`)
    }

    const before = server.requests().length
    await tab1.click('#sessions-reload')
    await tab2.click('#sessions-reload')
    for (let waited = 0; bearersOf(server, before, 'GET', '/auth/sessions').length < 2 && waited < 3000; waited += 50) await sleep(50)
    const used = bearersOf(server, before, 'GET', '/auth/sessions')
    t.equal(used.length, 2, 'both tabs called the API')
    t.ok(used[0] !== null && used[0] === used[1], 'with the same access token (adopted through the BroadcastChannel)')
    t.equal(server.refreshRequests(), 1, 'and no further refresh')
    await tab2.screenshot({ path: new URL('two-tabs.png', OUTPUT).pathname, fullPage: true })
  })

  await t.test('a session revoked from another browser ends at its next refresh', async (t) => {
    const other = await browser.newContext({ viewport: { width: 1100, height: 700 } })
    t.teardown(() => other.close())
    const tab3 = await newPage(other)
    await logIn(tab3, server.url, 'alice', 'alice-password-1')
    const otherSession = (await tab3.textContent('#session-id')) ?? ''
    t.not(otherSession, sessionId, 'a second session')
    const loggedInAt = Date.now()

    await tab1.click('#sessions-reload')
    const row = tab1.locator(`#sessions tr[data-session-id="${otherSession}"]`)
    await row.locator('button.revoke').click()
    await row.waitFor({ state: 'detached' })
    t.equal(await tab1.locator(`#sessions tr[data-session-id="${sessionId}"] .badge`).textContent(), 'this tab', 'the own session stays, marked')

    await tab3.locator('#login').waitFor({ state: 'visible', timeout: TTL_MS + 3000 })
    t.ok(Date.now() - loggedInAt < TTL_MS + 1000, 'by the refresh ahead of expiry')
    t.ok(await tab3.locator('#app').isHidden(), 'the app is hidden')
    t.ok(await tab3.locator('#who').isHidden(), 'no "signed in as alice" any more')
    t.match(await tab3.textContent('#message'), /session has ended/i, 'with a message')
    t.ok(await tab3.locator('#message').isVisible())
    t.notOk((await other.cookies()).some((c) => c.name === 'refresh_token'), 'the dead cookie was cleared')
    await tab3.screenshot({ path: new URL('revoked.png', OUTPUT).pathname, fullPage: true })
    t.ok(await tab1.locator('#app').isVisible(), 'the first browser is still logged in')
  })

  await t.test('log out: both tabs show the login form, the cookie is cleared', async (t) => {
    const tab2 = context.pages()[1]!
    await tab1.click('#logout')
    await tab1.locator('#login').waitFor({ state: 'visible' })
    t.match(await tab1.textContent('#message'), /logged out/i)
    t.ok(await tab1.locator('#who').isHidden(), 'no "signed in as"')
    await tab2.locator('#login').waitFor({ state: 'visible' })
    t.notOk((await context.cookies()).some((c) => c.name === 'refresh_token'), 'refresh cookie cleared')
    const user = server.users.byName('alice')!
    t.same(await server.app.refreshSessions.listSessions(user.id), [], 'no session left server-side')
    // A reload stays logged out.
    await tab1.reload()
    await tab1.locator('#login').waitFor({ state: 'visible' })
    t.ok(await tab1.locator('#app').isHidden())
  })

  t.same(pageErrors, [], 'no uncaught errors in the pages')
  t.comment(`browser test took ${Date.now() - started} ms`)
})
