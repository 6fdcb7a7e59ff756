/**
 * A DPoP proof's claims (RFC 9449 section 4.3) on top of the signed-proof checks of proof-jwt.ts:
 * `htm`, `htu` (without query and fragment), `iat` within the window, `nonce` when the server asks
 * for one, `ath` when an access token goes with it, and the `jti` replay check last, so that only
 * a proof that passed everything else can use up a jti.
 */
import { timingSafeEqual } from 'node:crypto'
import { sha256 } from '../../sha256.js'
import { verifyProofJwt, type ProofRefusal } from '../proof-jwt.js'
import type { NonceIssuer } from './nonce.js'
import type { ReplayGuard } from './replay.js'

export type DpopRefusal = ProofRefusal | 'htm' | 'htu' | 'iat' | 'replay' | 'nonce' | 'ath'

export type DpopResult = { ok: true, thumbprint: string } | { ok: false, reason: DpopRefusal }

export interface DpopRules {
  algorithms: readonly string[]
  /** A proof's `iat` may be this far from our clock, either way. */
  iatWindowMs: number
  replay: ReplayGuard
  nonces: NonceIssuer | null
}

export interface DpopRequest {
  method: string
  /** The origins the client may have called this server by (`https://api.example.com`). */
  origins: readonly string[]
  /** The request's path, as it came (`request.url`); its query is ignored. */
  path: string
  /** The access token the proof must name in `ath`, if any. */
  accessToken?: string
  now?: number
}

const MAX_JTI_LENGTH = 256

/**
 * RFC 9449: `htu` without query and fragment, compared after URL normalization (case of scheme
 * and host, default port, percent-encoding, dot segments), which WHATWG URL parsing does to both.
 */
function sameResource (htu: unknown, request: DpopRequest): boolean {
  if (typeof htu !== 'string' || htu.length > 2048 || !URL.canParse(htu)) return false
  const claimed = new URL(htu)
  if (!request.origins.includes(claimed.origin)) return false
  // Appended, not resolved: a path of `//host/x` stays a path.
  return URL.canParse(claimed.origin + request.path) && new URL(claimed.origin + request.path).pathname === claimed.pathname
}

export function accessTokenHash (token: string): string {
  return sha256(token, 'base64url')
}

function sameText (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

export async function checkDpopProof (jwt: unknown, request: DpopRequest, rules: DpopRules): Promise<DpopResult> {
  const verified = await verifyProofJwt(jwt, { typ: 'dpop+jwt', algorithms: rules.algorithms })
  if (!verified.ok) return { ok: false, reason: verified.refusal }
  const { payload, thumbprint } = verified.proof
  if (payload.htm !== request.method) return { ok: false, reason: 'htm' }
  if (!sameResource(payload.htu, request)) return { ok: false, reason: 'htu' }
  const now = request.now ?? Date.now()
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat) || Math.abs(payload.iat * 1000 - now) > rules.iatWindowMs) return { ok: false, reason: 'iat' }
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_JTI_LENGTH) return { ok: false, reason: 'malformed' }
  if (request.accessToken !== undefined && (typeof payload.ath !== 'string' || !sameText(payload.ath, accessTokenHash(request.accessToken)))) return { ok: false, reason: 'ath' }
  if (rules.nonces !== null && !rules.nonces.accepts(payload.nonce)) return { ok: false, reason: 'nonce' }
  // Kept while a proof with this jti could pass the iat check: iat up to one window ahead, checked until one window after it.
  if (!await rules.replay.claim(thumbprint, payload.jti, 2 * rules.iatWindowMs + 1000)) return { ok: false, reason: 'replay' }
  return { ok: true, thumbprint }
}
