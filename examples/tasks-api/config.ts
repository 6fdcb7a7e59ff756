/** The demo's environment, read once. */
export interface DemoConfig {
  port: number
  host: string
  redisUrl: string | null
  redisClusterNodes: Array<{ host: string, port: number }> | null
  jwtSecret: string | null
  jwtAlg: 'HS256' | 'EdDSA' | 'ES256' | 'RS256'
  accessTokenTtl: string
  refreshIdleTtl: string
  refreshAbsoluteTtl: string
  refreshReuseGrace: string
  maxSessionsPerUser: number
  transport: 'cookie' | 'body' | 'both'
  cookieSecure: boolean
  /** Device Bound Session Credentials: on unless DBSC=off. */
  dbsc: boolean
  /** DBSC_BOUND_COOKIE_MAX_AGE: the bound cookie's lifetime (default the plugin's, 10m). */
  dbscBoundCookieMaxAge: string | null
  /** WEBAUTHN_RP_ID: the passkeys' relying party id, a domain (IP addresses are not allowed). */
  webauthnRpId: string
  /** WEBAUTHN_ORIGIN: the page's origin passkeys are accepted from; null: http://localhost:<the port the demo listens on>. */
  webauthnOrigin: string | null
  /** STEP_UP_MAX_AGE: how recent a sign-in the sensitive actions need (5m). */
  stepUpMaxAge: string
}

const ALGORITHMS = ['HS256', 'EdDSA', 'ES256', 'RS256'] as const
const TRANSPORTS = ['cookie', 'body', 'both'] as const

export function readConfig (env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const jwtAlg = (env.JWT_ALG ?? 'HS256') as DemoConfig['jwtAlg']
  if (!ALGORITHMS.includes(jwtAlg)) throw new Error(`JWT_ALG must be one of ${ALGORITHMS.join(', ')}`)
  const transport = (env.TRANSPORT ?? 'cookie') as DemoConfig['transport']
  if (!TRANSPORTS.includes(transport)) throw new Error(`TRANSPORT must be one of ${TRANSPORTS.join(', ')}`)
  return {
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? '127.0.0.1',
    redisUrl: env.REDIS_URL ?? null,
    redisClusterNodes: env.REDIS_CLUSTER_NODES === undefined
      ? null
      : env.REDIS_CLUSTER_NODES.split(',').map((node) => {
        const [host, port] = node.trim().split(':')
        return { host: host!, port: Number(port) }
      }),
    jwtSecret: env.JWT_SECRET ?? null,
    jwtAlg,
    accessTokenTtl: env.ACCESS_TOKEN_TTL ?? '15m',
    refreshIdleTtl: env.REFRESH_IDLE_TTL ?? '7d',
    refreshAbsoluteTtl: env.REFRESH_ABSOLUTE_TTL ?? '30d',
    refreshReuseGrace: env.REFRESH_REUSE_GRACE ?? '10s',
    maxSessionsPerUser: Number(env.MAX_SESSIONS_PER_USER ?? 10),
    transport,
    cookieSecure: (env.COOKIE_SECURE ?? 'true') !== 'false',
    dbsc: env.DBSC !== 'off',
    dbscBoundCookieMaxAge: env.DBSC_BOUND_COOKIE_MAX_AGE ?? null,
    webauthnRpId: env.WEBAUTHN_RP_ID ?? 'localhost',
    webauthnOrigin: env.WEBAUTHN_ORIGIN ?? null,
    stepUpMaxAge: env.STEP_UP_MAX_AGE ?? '5m'
  }
}
