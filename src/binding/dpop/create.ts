/** The DPoP verifier the options ask for: its replay check on the plugin's Redis, or in memory without one. */
import type { Cluster, Redis } from 'ioredis'
import type { AppCallbacks } from '../../context.js'
import type { ResolvedOptions } from '../../options.js'
import { NonceIssuer } from './nonce.js'
import { MemoryReplayGuard, RedisReplayGuard } from './replay.js'
import { DpopVerifier } from './verifier.js'

export function createDpop (options: ResolvedOptions, redis: Redis | Cluster | undefined, callbacks: AppCallbacks): DpopVerifier | null {
  const { dpop } = options
  if (dpop === false) return null
  return new DpopVerifier({
    algorithms: dpop.algorithms,
    iatWindowMs: dpop.iatWindowMs,
    origins: dpop.origins,
    replay: redis === undefined ? new MemoryReplayGuard() : new RedisReplayGuard(redis, options.prefix, options.commandTimeoutMs),
    nonces: dpop.nonce === null ? null : new NonceIssuer(dpop.nonce.secret, dpop.nonce.windowMs)
  }, callbacks)
}
