/** Access-token keys for the demo: a random HS256 secret, or a generated key pair for JWT_ALG. */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { RefreshSessionsOptions } from '../../src/index.js'
import type { DemoConfig } from './config.js'

export function accessTokenKeys (config: DemoConfig, log: FastifyBaseLogger): Pick<RefreshSessionsOptions['accessToken'], 'secret' | 'keys'> {
  if (config.jwtAlg === 'HS256') {
    if (config.jwtSecret !== null) return { secret: config.jwtSecret }
    log.warn('JWT_SECRET is not set: using a random secret, so tokens die with this process')
    return { secret: randomBytes(32).toString('base64url') }
  }
  const pair = config.jwtAlg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : config.jwtAlg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 })
  log.info(`signing access tokens with a generated ${config.jwtAlg} key pair; public key at /.well-known/jwks.json`)
  return { keys: [{ kid: `demo-${config.jwtAlg.toLowerCase()}-1`, alg: config.jwtAlg, privateKey: pair.privateKey, publicKey: pair.publicKey }] }
}
