/**
 * argon2id password hashing with OWASP's minimum parameters, a verify that never throws, a
 * rehash test, and a dummy verify so that an unknown user costs as much time as a wrong password.
 */
import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'
import { DEFAULTS } from './defaults.js'
import type { WorkGate } from './work-gate.js'

export interface Argon2Params {
  /** KiB */
  memoryCost: number
  /** iterations */
  timeCost: number
  parallelism: number
}

export const DEFAULT_ARGON2_PARAMS: Readonly<Argon2Params> = DEFAULTS.argon2

/** Longest password accepted, in UTF-16 code units: argon2 hashes any length, an attacker would send megabytes. */
export const MAX_PASSWORD_LENGTH = 1024

/**
 * `signal`: aborts when the client leaves (clientGone). Only the gated hasher (the routes') reads
 * it: a call still waiting for a slot when it aborts is refused. The gated hasher's calls throw
 * LoginBusyError when refused.
 */
export interface PasswordHasher {
  hash: (password: string, signal?: AbortSignal) => Promise<string>
  /** false for a wrong password, a malformed or unsupported hash, or a password that is too long; never throws (but for LoginBusyError, gated). */
  verify: (hash: string, password: string, signal?: AbortSignal) => Promise<boolean>
  /** true when `hash` is argon2id made with weaker parameters than the configured ones, or is another argon2 variant. */
  needsRehash: (hash: string) => boolean
  /** As long as a verify against a real hash, and always false: for unknown users. */
  verifyDummy: (password: string, signal?: AbortSignal) => Promise<false>
}

/** A PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`; hashes of argon2 1.0 have no `v=`. */
const PHC = /^\$(argon2(?:id|i|d))(?:\$v=(\d+))?\$([a-z]+=[^,$]+(?:,[a-z]+=[^,$]+)*)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/
const ARGON2_VERSION = 0x13

interface ParsedHash { variant: string, version: number, params: Map<string, string>, salt: string, digest: string }

function parseHash (hash: unknown): ParsedHash | null {
  const match = typeof hash === 'string' ? PHC.exec(hash) : null
  if (match === null) return null
  const [, variant, version, params, salt, digest] = match as unknown as [string, string, string | undefined, string, string, string]
  return { variant, version: version === undefined ? 0x10 : Number(version), params: new Map(params.split(',').map((pair) => pair.split('=') as [string, string])), salt, digest }
}

/**
 * node-argon2 0.45 writes the parameters as `m=,p=,t=` (ranisalt/node-argon2#559), which
 * libargon2-based verifiers (PHP, libsodium, argon2-cffi) refuse; the PHC spec orders them
 * `m,t,p`. Stored hashes stay portable if we write that order; verify reads either.
 */
function canonical (hash: string): string {
  const parsed = parseHash(hash)
  if (parsed === null) return hash
  const { variant, version, params, salt, digest } = parsed
  return `$${variant}$v=${version}$m=${params.get('m')},t=${params.get('t')},p=${params.get('p')}$${salt}$${digest}`
}

/**
 * True for any argon2 PHC string (argon2id, argon2i, argon2d), even one this module would refuse
 * as malformed: those stay ours to verify (and fail), never an app's legacy verifier's.
 */
export function isArgon2Hash (hash: unknown): hash is string {
  return typeof hash === 'string' && /^\$argon2(?:id|i|d)\$/.test(hash)
}

const acceptable = (password: unknown): password is string => typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH

export function createPasswordHasher (params: Argon2Params = DEFAULT_ARGON2_PARAMS): PasswordHasher {
  for (const name of ['memoryCost', 'timeCost', 'parallelism'] as const) {
    if (!Number.isSafeInteger(params[name]) || params[name] < 1) throw new TypeError(`argon2 ${name} must be a positive integer, got ${String(params[name])}`)
  }
  const options = Object.freeze({ type: argon2.argon2id, memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism })
  let dummy: Promise<string> | undefined

  const hash = async (password: string): Promise<string> => {
    if (!acceptable(password)) throw new TypeError(`password must be a string of at most ${MAX_PASSWORD_LENGTH} characters`)
    return canonical(await argon2.hash(password, options))
  }

  const verify = async (hash: string, password: string): Promise<boolean> => {
    if (!acceptable(password) || typeof hash !== 'string') return false
    try {
      return await argon2.verify(hash, password)
    } catch {
      // A malformed or unsupported hash is a non-match, not a 500: the caller answers 401.
      return false
    }
  }

  // argon2.needsRehash is not used: it throws on unparseable strings, ignores the variant
  // (an argon2i hash with our numbers passes) and flags *stronger* hashes too, so raising the
  // parameters of some users and then lowering the defaults would downgrade them.
  // Parallelism is not compared: it changes the server's latency, not an attacker's cost.
  const needsRehash = (hash: string): boolean => {
    const parsed = parseHash(hash)
    const m = Number(parsed?.params.get('m'))
    const t = Number(parsed?.params.get('t'))
    if (parsed === null || !Number.isInteger(m) || !Number.isInteger(t)) return false
    return parsed.variant !== 'argon2id' || parsed.version < ARGON2_VERSION || m < params.memoryCost || t < params.timeCost
  }

  const verifyDummy = async (password: string): Promise<false> => {
    // Made once, lazily, with the same parameters, so its verify costs what a real one does.
    // A failed creation is retried next time rather than cached.
    dummy ??= argon2.hash(randomBytes(32), options).catch((error: unknown) => { dummy = undefined; throw error })
    if (!acceptable(password)) return false
    await verify(await dummy, password)
    return false
  }

  return { hash, verify, needsRehash, verifyDummy }
}

/** `hasher` with every argon2 call behind `gate`: what the login routes use, so a login flood cannot take every core. */
export function gatedHasher (hasher: PasswordHasher, gate: WorkGate): PasswordHasher {
  return {
    hash: async (password, signal) => await gate.run(async () => await hasher.hash(password), signal),
    verify: async (hash, password, signal) => await gate.run(async () => await hasher.verify(hash, password), signal),
    needsRehash: hasher.needsRehash,
    verifyDummy: async (password, signal) => await gate.run(async () => await hasher.verifyDummy(password), signal)
  }
}
