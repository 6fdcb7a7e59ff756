/** Access-token keys for the demo: a random HS256 secret, or a generated key pair for JWT_ALG. */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { RefreshSessionsOptions } from '../../src/index.js'
import type { DemoConfig } from './config.js'

export function accessTokenKeys (config: DemoConfig, log: FastifyBaseLogger): Pick<RefreshSessionsOptions['accessToken'], 'secret' | 'keys'> {
  if (config.jwtAlg === 'HS256') {
    if (config.jwtSecret !== null) return { secret: config.jwtSecret }
    // A risk only when sessions outlive this process or are shared with others (Redis): on the
    // in-memory store the sessions end with the process anyway, and the plugin warns about that.
    const sharedStore = config.redisUrl !== null || config.redisClusterNodes !== null
    if (sharedStore) log.warn('JWT_SECRET is not set: signing access tokens with a random secret of this process, so another process on the same Redis refuses them, and after a restart every client must refresh first: set JWT_SECRET (32 bytes or more) when you run more than one')
    else log.info('JWT_SECRET is not set: signing access tokens with a random secret of this process (sessions are in memory and end with it too)')
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

/**
 * DBSC for the demo (on unless DBSC=off). With HS256 the plugin derives the bound-cookie key from
 * the JWT secret; a generated key pair has no shared secret, so this process gets a random one
 * (as its key pair is random too).
 */
export function dbscOptions (config: DemoConfig): NonNullable<RefreshSessionsOptions['dbsc']> {
  return {
    enabled: config.dbsc,
    ...(config.dbscBoundCookieMaxAge !== null && { boundCookieMaxAge: config.dbscBoundCookieMaxAge }),
    ...(config.jwtAlg !== 'HS256' && { secret: randomBytes(32) })
  }
}
