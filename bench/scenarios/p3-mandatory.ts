/**
 * P3-mandatory: the least a correct refresh costs on this stack. P3-floor (the ideal) plus
 * only what every refresh must do to keep the product's promises, written with nothing else:
 * - only hashes at rest: SHA-256 of the presented secret and of a fresh 256-bit successor;
 * - grace returns the same newest token: the successor is kept sealed under the presented secret;
 * - one script reads the record and the user's revoke-all mark, checks the client id, tells the
 *   newest secret from the just-retired one (grace or reuse) and from older ones (reuse), then
 *   writes the record (idle TTL sliding under the absolute one) and the session index;
 * - a timer per command (503 within the command timeout), the Origin check, no-store, a cookie
 *   whose Max-Age follows the session.
 * No binding, no deadline, no revocation feed, no hooks, no schema: a fixed-width record, not a
 * packed one. Same request, cookie and response shapes as P3, so the runner walks it the same way.
 */
import fastifyCookie from '@fastify/cookie'
import Fastify from 'fastify'
import { createSigner } from 'fast-jwt'
import type { Result } from 'ioredis'
import { hash, randomFillSync } from 'node:crypto'
import { env, serve } from '../lib/child.js'
import { REFRESH_COOKIE } from '../../support/set-cookie.js'
import { countSentCommands, HS256_SECRET, redisFor, userName } from '../lib/fixtures.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    benchMandatory (record: string, index: string, mark: string, hashes: Buffer, sealed: string, sessionId: string, clientId: string): Result<Array<string | number>, Context>
  }
}

const ACCESS_TTL_SECONDS = 900
const IDLE_MS = 7 * 86_400_000
const ABSOLUTE_MS = 30 * 86_400_000
const GRACE_MS = 10_000
const COMMAND_TIMEOUT_MS = 1000
const ALLOWED_ORIGIN = 'https://app.example'

// Record: newest hash (32 bytes), previous hash (32), sealed successor (43, base64url),
// createdAt and rotatedAt (13 digits each), 4 older 16-byte fingerprints, then
// `<client id>\n<user agent>\n<ip>\n<roles JSON>`.
const ROTATE = `
local IDLE, ABSOLUTE, GRACE, FP, KEPT = ${IDLE_MS}, ${ABSOLUTE_MS}, ${GRACE_MS}, 16, 4
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local record = redis.call('GET', KEYS[1])
if not record then return { 'missing' } end
local newest, previous, sealed = string.sub(record, 1, 32), string.sub(record, 33, 64), string.sub(record, 65, 107)
local createdAt, rotatedAt = tonumber(string.sub(record, 108, 120)), tonumber(string.sub(record, 121, 133))
local older = string.sub(record, 134, 133 + FP * KEPT)
local rest = string.sub(record, 134 + FP * KEPT)
local expiresAt = math.min(rotatedAt + IDLE, createdAt + ABSOLUTE)
local mark = redis.call('GET', KEYS[3])
if mark and createdAt < tonumber(mark) then expiresAt = 0 end
local function remove ()
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
if expiresAt <= now then remove() return { 'expired' } end
if string.match(rest, '^[^\\n]*') ~= ARGV[4] then return { 'invalid' } end
local presented = string.sub(ARGV[1], 1, 32)
if presented == newest then
  local nextExpiresAt = math.min(now + IDLE, createdAt + ABSOLUTE)
  local kept = string.sub(string.sub(previous, 1, FP) .. older, 1, FP * KEPT)
  redis.call('SET', KEYS[1], string.sub(ARGV[1], 33, 64) .. presented .. ARGV[2] .. string.format('%013d%013d', createdAt, now) .. kept .. rest, 'PXAT', nextExpiresAt)
  redis.call('ZADD', KEYS[2], nextExpiresAt, ARGV[3])
  redis.call('PEXPIREAT', KEYS[2], nextExpiresAt, 'GT')
  return { 'rotated', nextExpiresAt, rest }
end
if presented == previous then
  if now - rotatedAt <= GRACE then return { 'grace', expiresAt, rest, sealed } end
  remove() return { 'reused' }
end
local fingerprint = string.sub(presented, 1, FP)
for i = 1, #older, FP do
  if string.sub(older, i, i + FP - 1) == fingerprint then remove() return { 'reused' } end
end
return { 'invalid' }
`

const app = Fastify()
const redis = redisFor(app, env.redisUrl())
redis.defineCommand('benchMandatory', { numberOfKeys: 3, lua: ROTATE })
const sign = createSigner({ key: HS256_SECRET, algorithm: 'HS256', expiresIn: ACCESS_TTL_SECONDS * 1000 })
await app.register(fastifyCookie)

const TOKEN = /^([A-Za-z0-9_-]{1,342})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/
const keys = (user: string, sessionId: string): [string, string, string] =>
  [`bench-min:{${user}}:s:${sessionId}`, `bench-min:{${user}}:sessions`, `bench-min:{${user}}:revoked`]
const sha256 = (text: string): string => hash('sha256', text, 'binary')
/** The pad that seals a successor under the secret presented with it (XOR, 32 bytes). */
const sealingPad = (secret: string): Buffer => Buffer.from(sha256(`seal:${secret}`), 'binary')

// 256-bit secrets from a pool refilled 4 KiB at a time, as a careful implementation would.
const pool = Buffer.alloc(4096)
let poolOffset = pool.length
function randomSecret (): Buffer {
  if (poolOffset + 32 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  poolOffset += 32
  return pool.subarray(poolOffset - 32, poolOffset)
}

function unavailable (): Error {
  return Object.assign(new Error('store unavailable'), { statusCode: 503 })
}

/** The spec's fail-fast: no answer within the command timeout is a 503, not a hang. */
async function withinTimeout<T> (command: Promise<T>): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(unavailable()), COMMAND_TIMEOUT_MS)
    command.then((value) => { clearTimeout(timer); resolve(value) }, () => { clearTimeout(timer); reject(unavailable()) })
  })
}

app.post('/auth/refresh', async (request, reply) => {
  const origin = request.headers.origin
  if (origin !== undefined && origin !== ALLOWED_ORIGIN) return await reply.code(403).send({ code: 'AUTH_CSRF_REJECTED' })
  const parts = TOKEN.exec(request.cookies[REFRESH_COOKIE] ?? '')
  if (parts === null) return await reply.code(401).send({ code: 'AUTH_REFRESH_INVALID' })
  const [, user = '', sessionId = '', secret = ''] = parts
  const successor = randomSecret()
  const successorText = successor.toString('base64url')
  const hashes = Buffer.allocUnsafe(64)
  hashes.write(sha256(secret), 0, 'binary')
  hashes.write(sha256(successorText), 32, 'binary')
  const pad = sealingPad(secret)
  for (let i = 0; i < 32; i++) pad[i]! ^= successor[i]!
  const [record, index, mark] = keys(user, sessionId)
  const result = await withinTimeout(redis.benchMandatory(record, index, mark, hashes, pad.toString('base64url'), sessionId, ''))
  const outcome = result[0]
  if (outcome !== 'rotated' && outcome !== 'grace') return await reply.code(401).send({ code: outcome === 'reused' ? 'AUTH_REFRESH_REUSED' : 'AUTH_REFRESH_INVALID' })
  const expiresAt = Number(result[1])
  const details = String(result[2])
  let next = successorText
  if (outcome === 'grace') {
    const newest = sealingPad(secret)
    const sealed = Buffer.from(String(result[3]), 'base64url')
    for (let i = 0; i < 32; i++) newest[i]! ^= sealed[i]!
    next = newest.toString('base64url')
  }
  const roles = JSON.parse(details.slice(details.lastIndexOf('\n') + 1)) as string[]
  const accessToken = sign({ sub: Buffer.from(user, 'base64url').toString('utf8'), sid: sessionId, roles })
  reply.header('cache-control', 'no-store')
  reply.setCookie(REFRESH_COOKIE, `${user}.${sessionId}.${next}`, { httpOnly: true, secure: true, sameSite: 'strict', path: '/auth', maxAge: Math.floor((expiresAt - Date.now()) / 1000) })
  return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TTL_SECONDS, sessionId }
})
await app.ready()

// One session per user, written straight into the records the script reads.
const now = Date.now()
const refreshTokens: string[] = []
const fill = redis.pipeline()
for (let i = 0; i < env.tokens(); i++) {
  const user = Buffer.from(userName(i)).toString('base64url')
  const sessionId = randomSecret().toString('base64url', 0, 16)
  const secret = randomSecret().toString('base64url')
  const [record, index] = keys(user, sessionId)
  const fixed = Buffer.alloc(64 + 43 + 26 + 64)
  fixed.write(sha256(secret), 0, 'binary')
  fixed.write('A'.repeat(43), 64, 'latin1')
  fixed.write(`${now}${now}`, 107, 'latin1')
  fill.set(record, Buffer.concat([fixed, Buffer.from('\nbench-agent\n127.0.0.1\n["user"]')]), 'PXAT', now + IDLE_MS)
  fill.zadd(index, now + IDLE_MS, sessionId)
  fill.pexpireat(index, now + IDLE_MS)
  refreshTokens.push(`${user}.${sessionId}.${secret}`)
}
await fill.exec()
const sent = countSentCommands(redis)
await serve(app, { refreshTokens }, () => ({ sent: Object.fromEntries(sent) }))
