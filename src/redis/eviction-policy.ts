/**
 * The store needs Redis to keep what it writes until its TTL: every key has one, so under any
 * `allkeys-*` or `volatile-*` maxmemory policy Redis may evict a user's session index while the
 * sessions stay, and logout-all, the per-user cap and the session list stop seeing them. So the
 * policy is read at start and after every reconnect (through INFO, since managed Redis often
 * disables CONFIG) on every master, and anything but `noeviction` is reported.
 */
import type { Cluster, Redis } from 'ioredis'
import { RedisEvictionPolicyError } from '../errors.js'
import { failFast } from './fail-fast.js'

export const SAFE_POLICY = 'noeviction'

/** The maxmemory-policy of every master that answered; unreadable ones are left out. */
export async function readEvictionPolicies (redis: Redis | Cluster): Promise<string[]> {
  const nodes = 'nodes' in redis ? redis.nodes('master') : [redis]
  const policies: string[] = []
  for (const node of nodes) {
    const policy = /^maxmemory_policy:(\S+)/m.exec(await node.info('memory'))?.[1]
    if (policy !== undefined) policies.push(policy)
  }
  return policies
}

/** The policies that can evict our keys, deduplicated; empty when every master is safe. */
export function unsafePolicies (policies: string[]): string[] {
  return [...new Set(policies.filter((policy) => policy !== SAFE_POLICY))]
}

export function evictionMessage (unsafe: string[]): string {
  return `fastify-refresh-sessions: Redis maxmemory-policy is ${unsafe.join(', ')}: Redis may then evict a user's session index while the sessions stay, ` +
    'so logout-all, the per-user cap and the session list would stop seeing them. Set maxmemory-policy to noeviction ' +
    '(and give Redis the memory it needs), or accept the risk with option allowRedisEviction: true'
}

/** After every (re)connect, report an unsafe policy (someone may have changed it, or a failover brought another node). */
export function watchEvictionPolicy (redis: Redis | Cluster, report: (unsafe: string[]) => void): () => void {
  const check = (): void => {
    readEvictionPolicies(redis).then((policies) => {
      const unsafe = unsafePolicies(policies)
      if (unsafe.length > 0) report(unsafe)
    }, () => {})
  }
  redis.on('ready', check)
  return () => { redis.off('ready', check) }
}

interface Logger { warn: (message: string) => void, error: (message: string) => void }

/**
 * At registration: an unsafe policy fails `register` unless `allow`, and then it is a warning.
 * A Redis that cannot be read now is checked at its next ready. Returns the function that stops
 * the check on reconnect.
 */
export async function guardEvictionPolicy (redis: Redis | Cluster, options: { allow: boolean, timeoutMs: number, log: Logger }): Promise<() => void> {
  const { allow, timeoutMs, log } = options
  const report = (unsafe: string[]): void => {
    if (allow) log.warn(evictionMessage(unsafe))
    else log.error(evictionMessage(unsafe))
  }
  let policies: string[] | null = null
  try {
    policies = await failFast(redis, timeoutMs, () => readEvictionPolicies(redis))
  } catch {
    log.warn('fastify-refresh-sessions: could not read the Redis maxmemory-policy now; it is checked when Redis is ready')
  }
  const unsafe = unsafePolicies(policies ?? [])
  if (unsafe.length > 0 && !allow) throw new RedisEvictionPolicyError(evictionMessage(unsafe))
  if (unsafe.length > 0) report(unsafe)
  return watchEvictionPolicy(redis, report)
}
