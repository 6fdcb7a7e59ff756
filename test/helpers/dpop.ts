/**
 * DPoP proofs for tests: made with jose, claim by claim, so that each one can be wrong in one
 * way; `dpopPackageProof` makes them with panva's `dpop` package, as a client library would.
 */
import { randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose'
import * as dpop from 'dpop'
import { accessTokenHash } from '../../src/binding/dpop/proof.js'

export interface TestKey {
  privateKey: CryptoKey
  publicKey: CryptoKey
  jwk: JWK
  thumbprint: string
  alg: string
}

export async function testKey (alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA' = 'ES256'): Promise<TestKey> {
  const pair = await generateKeyPair(alg, { extractable: alg === 'EdDSA' })
  const jwk = await exportJWK(pair.publicKey)
  return { ...pair, jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256'), alg }
}

export interface ProofClaims {
  htm?: string
  htu?: string
  /** Seconds; default now. */
  iat?: number
  jti?: string
  nonce?: string
  /** The access token whose hash goes into `ath`. */
  accessToken?: string
  ath?: string
}

/** A proof by `key`; `header` overrides (typ, alg, jwk) and `omit` leaves claims out. */
export async function proof (key: TestKey, claims: ProofClaims = {}, options: { header?: Record<string, unknown>, omit?: string[], signWith?: CryptoKey } = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: claims.htm ?? 'POST',
    htu: claims.htu ?? 'http://localhost/auth/refresh',
    iat: claims.iat ?? Math.floor(Date.now() / 1000),
    jti: claims.jti ?? randomUUID(),
    ...(claims.nonce !== undefined && { nonce: claims.nonce }),
    ...(claims.accessToken !== undefined && { ath: accessTokenHash(claims.accessToken) }),
    ...(claims.ath !== undefined && { ath: claims.ath })
  }
  for (const name of options.omit ?? []) delete payload[name]
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...options.header }
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(options.signWith ?? key.privateKey)
}

/** A proof made by panva's `dpop` package (what oauth4webapi and openid-client send). */
export async function dpopPackageProof (key: dpop.KeyPair, htu: string, htm: string, options: { nonce?: string, accessToken?: string } = {}): Promise<string> {
  return await dpop.generateProof(key, htu, htm, options.nonce, options.accessToken)
}

export async function dpopPackageKey (alg: dpop.JWSAlgorithm = 'ES256'): Promise<{ pair: dpop.KeyPair, thumbprint: string }> {
  const pair = await dpop.generateKeyPair(alg)
  return { pair, thumbprint: await dpop.calculateThumbprint(pair.publicKey) }
}
