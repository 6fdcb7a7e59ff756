/**
 * Headless Chromium for the browser tests: Debian's (CI installs it; CHROMIUM_PATH overrides),
 * driven by playwright-core, never a downloaded browser.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** The browser, closed at teardown; null (and one failure naming the package) when Chromium is missing. */
export async function launchChromium (t: { fail (message: string): void, teardown (fn: () => unknown): void }): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    t.fail(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install chromium\``)
    return null
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  return browser
}

/** Logs in through the demo page's form and waits for "signed in as <username>". */
export async function logIn (page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url)
  await page.locator('#login').waitFor({ state: 'visible' })
  await page.fill('#username', username)
  await page.fill('#password', password)
  await page.click('#login-form button[type="submit"]')
  await page.locator('#app').waitFor({ state: 'visible' })
  await page.locator('#who-name', { hasText: username }).waitFor()
}
