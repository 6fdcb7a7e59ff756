/** P6: P1 with EdDSA (Ed25519) access tokens instead of HS256. */
import { generateKeyPairSync } from 'node:crypto'
import { env, serve } from '../lib/child.js'
import { CHEAP_ARGON2 } from '../lib/fixtures.js'
import { mintSessions, pluginApp } from '../lib/plugin-app.js'

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const { app } = await pluginApp({
  argon2: CHEAP_ARGON2,
  accessToken: { keys: [{ kid: 'bench-ed25519', alg: 'EdDSA', privateKey, publicKey }], ttl: '15m' }
}, 'authenticate')
await app.ready()
const sessions = await mintSessions(app, env.tokens())
await serve(app, { tokens: sessions.map((s) => s.accessToken) })
