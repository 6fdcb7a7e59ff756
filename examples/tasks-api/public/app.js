// The demo page: everything goes through the client, which keeps the access token in memory,
// refreshes it silently (the refresh token is an httpOnly cookie this script cannot read) and
// coordinates tabs so that they make one refresh between them.
import { RefreshSessionsClient } from '/client.js'

const $ = (selector) => document.querySelector(selector)
const config = await (await fetch('/config.json')).json()
const client = new RefreshSessionsClient({ autoRefresh: true, transport: config.transport })
const state = { refreshes: 0, lifetimeMs: 1, loggedIn: false }

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
  const response = await client.fetch(path, init)
  if (response.status === 204) return null
  const body = await response.json().catch(() => null)
  if (!response.ok) throw new Error(body?.message ?? `${response.status} ${response.statusText}`)
  return body
}

async function enter () {
  state.loggedIn = true
  render()
  const me = await api('/me')
  $('#who-name').textContent = me.username
  await Promise.all([loadTasks(), loadSessions()])
}

function leave (message, kind = 'info') {
  state.loggedIn = false
  render()
  $('#tasks').replaceChildren()
  $('#sessions').replaceChildren()
  show(message, kind)
}

client.addEventListener('token', (event) => {
  const { expiresAt, sessionId } = event.detail
  if (state.loggedIn) {
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

$('#sessions-reload').addEventListener('click', () => { loadSessions().catch((error) => show(error.message, 'error')) })
$('#logout').addEventListener('click', () => { client.logout() })
$('#logout-all').addEventListener('click', async () => { await client.logoutAll() })

// A returning visitor still has the refresh cookie: one silent refresh logs them back in.
render()
if (await client.refresh() !== null) await enter()
else { state.loggedIn = false; render() }
