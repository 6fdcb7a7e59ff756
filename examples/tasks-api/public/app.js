// The demo page: everything goes through the client, which keeps the access token in memory,
// refreshes it silently (the refresh token is an httpOnly cookie this script cannot read) and
// coordinates tabs so that they make one refresh between them. A sensitive action the server
// answers with a step-up challenge (401 insufficient_user_authentication) opens the "Confirm it
// is you" dialog (password or passkey); the client then retries the action.
import { RefreshSessionsClient } from '/client.js'
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '/vendor/simplewebauthn/browser/index.js'

const $ = (selector) => document.querySelector(selector)
const json = { 'content-type': 'application/json' }
const config = await (await fetch('/config.json')).json()
const client = new RefreshSessionsClient({ autoRefresh: true, transport: config.transport, onStepUp: (challenge) => stepUp(challenge) })
const state = { refreshes: 0, lifetimeMs: 1, loggedIn: false, reauthenticating: false }
// The RP id must be this page's domain (or a parent of it): on 127.0.0.1 the ceremonies would fail.
const onRpId = window.location.hostname === config.webauthnRpId || window.location.hostname.endsWith(`.${config.webauthnRpId}`)
const passkeys = browserSupportsWebAuthn() && onRpId
for (const element of document.querySelectorAll('.passkey-only')) element.hidden = !passkeys
if (!onRpId) {
  const link = $('#passkey-elsewhere a')
  link.href = `${window.location.protocol}//${config.webauthnRpId}:${window.location.port}/`
  link.textContent = link.href
  $('#passkey-elsewhere').hidden = false
}

function show (message, kind = 'info') {
  const box = $('#message')
  box.textContent = message
  box.className = kind
  box.hidden = !message
}

function render () {
  $('#login').hidden = state.loggedIn
  $('#app').hidden = !state.loggedIn
  $('#who').hidden = !state.loggedIn
}

async function api (path, init = {}) {
  return await answer(await client.fetch(path, init))
}

/** A request's JSON body, or an Error with the server's message. */
async function answer (response) {
  if (response.status === 204) return null
  const body = await response.json().catch(() => null)
  if (!response.ok) throw new Error(body?.message ?? `${response.status} ${response.statusText}`)
  return body
}

const post = (path, body) => api(path, { method: 'POST', ...(body !== undefined && { headers: json, body: JSON.stringify(body) }) })

async function enter () {
  state.loggedIn = true
  render()
  const me = await api('/me')
  $('#who-name').textContent = me.username
  await Promise.all([loadTasks(), loadSessions(), loadPasskeys()])
}

function leave (message, kind = 'info') {
  state.loggedIn = false
  render()
  $('#tasks').replaceChildren()
  $('#sessions').replaceChildren()
  $('#passkeys').replaceChildren()
  show(message, kind)
}

/** The access token's claims (the page only shows them: the server verifies it). */
function claimsOf (accessToken) {
  try {
    return JSON.parse(atob(accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    return {}
  }
}

client.addEventListener('token', (event) => {
  const { expiresAt, sessionId, accessToken } = event.detail
  const { amr, auth_time: authTime } = claimsOf(accessToken)
  $('#token-amr').textContent = Array.isArray(amr) ? amr.join(' + ') : ''
  $('#token-auth-time').textContent = typeof authTime === 'number' ? `at ${new Date(authTime * 1000).toLocaleTimeString()}` : ''
  // A re-authentication's new token is no silent refresh.
  if (state.loggedIn && !state.reauthenticating) {
    state.refreshes += 1
    $('#refresh-count').textContent = String(state.refreshes)
    $('#refresh-last').textContent = `last at ${new Date().toLocaleTimeString()}`
  }
  state.lifetimeMs = Math.max(1, expiresAt - Date.now())
  $('#session-id').textContent = sessionId
})

client.addEventListener('session-lost', (event) => {
  const reason = event.detail.reason
  if (reason === 'logged-out') leave('You are logged out.')
  else if (reason === 'reused') leave('Your session was revoked because an old refresh token was used again. Please log in.', 'error')
  else leave('Your session has ended (expired or revoked). Please log in again.', 'error')
})

setInterval(() => {
  const left = Math.max(0, client.expiresAt - Date.now())
  $('#token-expires').textContent = client.accessToken === null ? '–' : `${Math.ceil(left / 1000)} s`
  $('#token-life').value = Math.min(1, left / state.lifetimeMs)
}, 250)

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  try {
    await client.login($('#username').value, $('#password').value)
    $('#password').value = ''
    show('')
    await enter()
  } catch (error) {
    show(error.message, 'error')
  }
})

$('#passkey-login').addEventListener('click', async () => {
  try {
    const optionsJSON = await answer(await fetch('/auth/passkey/login-options', { method: 'POST' }))
    const credential = await startAuthentication({ optionsJSON })
    const response = await fetch('/auth/passkey/login', { method: 'POST', credentials: 'include', headers: json, body: JSON.stringify(credential) })
    client.acceptTokens(await answer(response))
    show('')
    await enter()
  } catch (error) {
    show(error.message, 'error')
  }
})

$('#register').addEventListener('click', async () => {
  const response = await fetch('/auth/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: $('#username').value, password: $('#password').value })
  })
  const body = await response.json().catch(() => ({}))
  show(response.ok ? `Registered ${body.username}: now log in.` : body.message, response.ok ? 'info' : 'error')
})

async function loadTasks () {
  const { tasks } = await api('/tasks')
  $('#tasks-empty').hidden = tasks.length > 0
  $('#tasks').replaceChildren(...tasks.map((task) => {
    const item = document.createElement('li')
    const title = document.createElement('span')
    title.textContent = task.title
    const remove = document.createElement('button')
    remove.textContent = 'Delete'
    remove.className = 'secondary'
    remove.addEventListener('click', async () => { await api(`/tasks/${task.id}`, { method: 'DELETE' }); await loadTasks() })
    item.append(title, remove)
    return item
  }))
}

$('#task-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  try {
    await api('/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: $('#task-title').value }) })
    $('#task-title').value = ''
    await loadTasks()
  } catch (error) {
    show(error.message, 'error')
  }
})

function device (userAgent) {
  if (!userAgent) return 'unknown device'
  const browser = /(Firefox|Edg|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[0] ?? userAgent.slice(0, 40)
  const system = /\(([^;)]+)/.exec(userAgent)?.[1] ?? ''
  return system ? `${browser} on ${system}` : browser
}

/** The key a session is bound to: `dbsc` (this browser's device key), `dpop` (an app's key), or none; read as `dbsc`, `dpop` or `dbsc:<thumbprint>`. */
function bindingLabel (binding) {
  const kind = typeof binding === 'string' ? binding.split(':')[0] : ''
  if (kind === 'dbsc') return 'device key (DBSC)'
  if (kind === 'dpop') return 'app key (DPoP)'
  return 'none'
}

async function loadSessions () {
  const { sessions } = await api('/auth/sessions')
  $('#sessions').replaceChildren(...sessions.map((session) => {
    const row = document.createElement('tr')
    row.dataset.sessionId = session.id
    const cells = [device(session.userAgent), session.ip ?? '', bindingLabel(session.binding), new Date(session.lastUsedAt).toLocaleString(), new Date(session.createdAt).toLocaleString()]
    for (const text of cells) {
      const cell = document.createElement('td')
      cell.textContent = text
      row.append(cell)
    }
    const action = document.createElement('td')
    if (session.current) {
      const badge = document.createElement('span')
      badge.className = 'badge'
      badge.textContent = 'this tab'
      action.append(badge)
    } else {
      const revoke = document.createElement('button')
      revoke.textContent = 'Revoke'
      revoke.className = 'danger revoke'
      revoke.addEventListener('click', async () => { await api(`/auth/sessions/${session.id}`, { method: 'DELETE' }); await loadSessions() })
      action.append(revoke)
    }
    row.append(action)
    return row
  }))
}

async function loadPasskeys () {
  const { passkeys: list } = await api('/passkeys')
  $('#passkeys-empty').hidden = list.length > 0
  $('#passkeys').replaceChildren(...list.map((passkey) => {
    const item = document.createElement('li')
    item.dataset.passkeyId = passkey.id
    const kind = passkey.deviceType === 'multiDevice' ? 'synced passkey' : 'device-bound passkey'
    const used = passkey.lastUsedAt === null ? 'never used' : `last used ${new Date(passkey.lastUsedAt).toLocaleString()}`
    item.textContent = `${kind}, added ${new Date(passkey.createdAt).toLocaleString()}, ${used}`
    return item
  }))
}

$('#passkey-add').addEventListener('click', async () => {
  try {
    // A step-up, when the sign-in is too old, happens on the first call: the client retries it.
    const optionsJSON = await post('/passkeys/registration-options')
    await post('/passkeys', await startRegistration({ optionsJSON }))
    await loadPasskeys()
    show('Passkey added: you can sign in with it now.')
  } catch (error) {
    show(error.message, 'error')
  }
})

$('#password-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  try {
    const { revokedSessions } = await post('/account/password', { newPassword: $('#new-password').value })
    $('#new-password').value = ''
    show(`Password changed; ${revokedSessions} other session${revokedSessions === 1 ? '' : 's'} signed out.`)
    await loadSessions()
  } catch (error) {
    show(error.message, 'error')
  }
})

$('#delete-account').addEventListener('click', async () => {
  if (!window.confirm('Delete your account, its tasks and passkeys, and sign out everywhere?')) return
  try {
    await api('/account', { method: 'DELETE' })
    // Its sessions are revoked already; this clears the refresh cookie and tells the other tabs.
    await client.logout()
    leave('Your account is deleted.')
  } catch (error) {
    show(error.message, 'error')
  }
})

/**
 * The client's onStepUp: the server wants a sign-in within `maxAge` seconds (null: any time) of
 * one of the `amr` methods (empty: any). Resolves once the user re-authenticated (the client then
 * retries the request with the new token) or cancelled (the caller gets the 401).
 */
function stepUp ({ maxAge, amr }) {
  const dialog = $('#step-up')
  const passkeyOnly = amr.length > 0 && !amr.includes('pwd')
  const minutes = Math.max(1, Math.round((maxAge ?? 0) / 60))
  const within = maxAge === null ? '' : ` within the last ${minutes} minute${minutes === 1 ? '' : 's'}`
  $('#step-up-reason').textContent = `This action needs a sign-in${passkeyOnly ? ' with a passkey' : ''}${within}.`
  $('#step-up-with-password').hidden = passkeyOnly
  $('#step-up-error').hidden = true
  $('#step-up-password').value = ''
  return new Promise((resolve) => {
    const controller = new AbortController()
    const { signal } = controller
    const done = () => { controller.abort(); dialog.close(); resolve() }
    const failed = (error) => { $('#step-up-error').textContent = error.message; $('#step-up-error').hidden = false }
    const attempt = async (reauthenticate) => {
      state.reauthenticating = true
      try {
        await reauthenticate()
        done()
      } catch (error) {
        failed(error)
      } finally {
        state.reauthenticating = false
      }
    }
    $('#step-up-form').addEventListener('submit', (event) => {
      event.preventDefault()
      void attempt(() => client.reauthenticate($('#who-name').textContent, $('#step-up-password').value))
    }, { signal })
    $('#step-up-passkey').addEventListener('click', () => attempt(async () => {
      const optionsJSON = await post('/auth/passkey/reauthenticate-options')
      client.acceptTokens(await post('/auth/passkey/reauthenticate', await startAuthentication({ optionsJSON })))
    }), { signal })
    $('#step-up-cancel').addEventListener('click', done, { signal })
    dialog.addEventListener('cancel', done, { signal })
    dialog.showModal()
    if (!passkeyOnly) $('#step-up-password').focus()
  })
}

$('#sessions-reload').addEventListener('click', () => { loadSessions().catch((error) => show(error.message, 'error')) })
$('#logout').addEventListener('click', () => { client.logout() })
$('#logout-all').addEventListener('click', async () => { await client.logoutAll() })

// A returning visitor still has the refresh cookie: one silent refresh logs them back in.
render()
if (await client.refresh() !== null) await enter()
else { state.loggedIn = false; render() }
