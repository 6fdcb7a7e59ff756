/**
 * Property-based request fuzzing for the plugin's routes (fast-check): seeded arbitraries for
 * bodies, headers, cookies, tokens and paths, described as plain data (so that a counterexample
 * prints as something a person can read) and turned into `app.inject` options against a "world"
 * of real tokens at run time; plus the checks every response must pass and a tally of what came
 * back.
 *
 *   FUZZ_SEED=<int>   reproduce a run (the seed is printed at the start of every fuzz file)
 *   FUZZ_RUNS=<int>   cases per store (default: see the test file), to run longer
 */
import fc from 'fast-check'
import { fastifyCookie } from '@fastify/cookie'
import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'

// ---------------------------------------------------------------- settings

export interface FuzzSettings {
  seed: number
  /** Total cases per store, split between the properties by weight. */
  total: number
  runs (weight: number, weights: number): number
}

export function fuzzSettings (defaultTotal: number): FuzzSettings {
  const envSeed = process.env.FUZZ_SEED
  const seed = envSeed !== undefined && envSeed !== '' ? Number.parseInt(envSeed, 10) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${String(envSeed)}`)
  const envRuns = process.env.FUZZ_RUNS
  const total = envRuns !== undefined && envRuns !== '' ? Number.parseInt(envRuns, 10) : defaultTotal
  if (!Number.isSafeInteger(total) || total < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${String(envRuns)}`)
  return { seed, total, runs: (weight, weights) => Math.max(1, Math.round(total * weight / weights)) }
}

// ---------------------------------------------------------------- the world of real tokens

export type PoolName =
  | 'victimAccess' | 'victimRefresh' | 'victimSid'
  | 'bobSid'
  | 'malloryAccess' | 'malloryRefresh' | 'mallorySid'

/** Real tokens, filled in by the test before (victims, bob) and during (mallory) the run. */
export interface World {
  pools: Record<PoolName, string[]>
  /** What an attacker can download: the public keys as PEM, the JWKS as JSON. */
  publicPems: string[]
  jwksJson: string
}

export function emptyPools (): Record<PoolName, string[]> {
  return { victimAccess: [], victimRefresh: [], victimSid: [], bobSid: [], malloryAccess: [], malloryRefresh: [], mallorySid: [] }
}

export interface TokenRef { pool: PoolName, index: number }

function resolve (world: World, ref: TokenRef): string {
  // Counted from the newest: the live tokens of a growing pool are its last ones.
  const pool = world.pools[ref.pool]
  return pool.length === 0 ? '' : pool[pool.length - 1 - (ref.index % pool.length)]!
}

// ---------------------------------------------------------------- string helpers

/** Node's http parser refuses these in a header value; inject does not, so keep them out. */
function headerSafe (value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).padStart(2, '0').toUpperCase()).join(''))
}

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url')
const b64json = (value: unknown): string => b64(JSON.stringify(value) ?? 'null')
const unb64 = (part: string): Buffer => Buffer.from(part, 'base64url')
function parseJsonPart (part: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(unb64(part ?? '').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

// ---------------------------------------------------------------- mutations (data, applied at run time)

export type StrMutation =
  | { kind: 'asIs' }
  | { kind: 'truncate', at: number }
  | { kind: 'extend', suffix: string }
  | { kind: 'flip', at: number, char: string }
  | { kind: 'delete', at: number, count: number }
  | { kind: 'insert', at: number, text: string }
  | { kind: 'case', upper: boolean }
  | { kind: 'wrap', before: string, after: string }
  | { kind: 'repeat', times: number, sep: string }
  | { kind: 'long', length: number, char: string }
  | { kind: 'pctEncode', at: number }

export type RefreshMutation = StrMutation
  | { kind: 'swapPart', part: 0 | 1 | 2, other: TokenRef }
  | { kind: 'user', userId: string }

export type JwtMutation = StrMutation
  | { kind: 'bitflip', part: 0 | 1 | 2, at: number, bit: number }
  | { kind: 'header', set: Record<string, unknown>, drop: string[] }
  | { kind: 'claims', set: Record<string, unknown>, drop: string[] }
  | { kind: 'none', signature: 'drop' | 'empty' | 'keep', set: Record<string, unknown> }
  | { kind: 'resign', alg: 'HS256' | 'HS512' | 'EdDSA', key: 'empty' | 'guess' | 'publicPem' | 'jwks' | 'attacker', kid: string | null, set: Record<string, unknown> }
  | { kind: 'parts', op: 'drop0' | 'drop1' | 'drop2' | 'extra' | 'empty1' | 'swap01' | 'stdB64' | 'pad' | 'dots' }

export type RefreshSpec = { ref: TokenRef, m: RefreshMutation } | { garbage: string } | { shaped: [string, string, string] }
export type TokenSpec = { ref: TokenRef, m: JwtMutation } | { garbage: string } | { raw: [string, string, string] }

function applyStr (base: string, m: StrMutation): string {
  const at = (n: number, extra = 0): number => base.length + extra === 0 ? 0 : n % (base.length + extra)
  switch (m.kind) {
    case 'asIs': return base
    case 'truncate': return base.slice(0, at(m.at))
    case 'extend': return base + m.suffix
    case 'flip': {
      const i = at(m.at)
      const current = base[i]
      const char = m.char === current ? (current === 'A' ? 'B' : 'A') : m.char
      return base.slice(0, i) + char + base.slice(i + 1)
    }
    case 'delete': { const i = at(m.at); return base.slice(0, i) + base.slice(i + m.count) }
    case 'insert': { const i = at(m.at, 1); return base.slice(0, i) + m.text + base.slice(i) }
    case 'case': return m.upper ? base.toUpperCase() : base.toLowerCase()
    case 'wrap': return m.before + base + m.after
    case 'repeat': return Array.from({ length: m.times }, () => base).join(m.sep)
    case 'long': return base + m.char.repeat(m.length)
    case 'pctEncode': {
      const i = at(m.at)
      const c = base[i] ?? 'A'
      return base.slice(0, i) + '%' + c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase() + base.slice(i + 1)
    }
  }
}

function applyRefresh (world: World, base: string, m: RefreshMutation): string {
  switch (m.kind) {
    case 'swapPart': {
      const parts = base.split('.')
      const other = resolve(world, m.other).split('.')
      parts[m.part] = other[m.part] ?? ''
      return parts.join('.')
    }
    case 'user': {
      const parts = base.split('.')
      parts[0] = b64(m.userId)
      return parts.join('.')
    }
    default: return applyStr(base, m)
  }
}

const ATTACKER = generateKeyPairSync('ed25519')

function applyJwt (world: World, base: string, m: JwtMutation): string {
  const parts = base.split('.')
  const [h, p, s] = [parts[0] ?? '', parts[1] ?? '', parts[2] ?? '']
  switch (m.kind) {
    case 'bitflip': {
      const bytes = unb64([h, p, s][m.part]!)
      if (bytes.length > 0) bytes[m.at % bytes.length] = bytes[m.at % bytes.length]! ^ (1 << (m.bit % 8))
      const next = [h, p, s]
      next[m.part] = b64(bytes)
      return next.join('.')
    }
    case 'header': {
      const header = parseJsonPart(h)
      for (const name of m.drop) delete header[name]
      return [b64json({ ...header, ...m.set }), p, s].join('.')
    }
    case 'claims': {
      const claims = parseJsonPart(p)
      for (const name of m.drop) delete claims[name]
      return [h, b64json({ ...claims, ...m.set }), s].join('.')
    }
    case 'none': {
      const input = `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json({ ...parseJsonPart(p), ...m.set })}`
      return m.signature === 'drop' ? input : `${input}.${m.signature === 'keep' ? s : ''}`
    }
    case 'resign': {
      const header: Record<string, unknown> = { alg: m.alg, typ: 'JWT', ...(m.kid !== null && { kid: m.kid }) }
      const input = `${b64json(header)}.${b64json({ ...parseJsonPart(p), ...m.set })}`
      let signature: string
      if (m.alg === 'EdDSA' || m.key === 'attacker') {
        signature = cryptoSign(null, Buffer.from(input), ATTACKER.privateKey).toString('base64url')
      } else {
        const key = m.key === 'empty' ? '' : m.key === 'guess' ? 'secret' : m.key === 'jwks' ? world.jwksJson : world.publicPems[0] ?? 'no public key'
        signature = createHmac(m.alg === 'HS256' ? 'sha256' : 'sha512', key).update(input).digest('base64url')
      }
      return `${input}.${signature}`
    }
    case 'parts': {
      switch (m.op) {
        case 'drop0': return `${p}.${s}`
        case 'drop1': return `${h}..${s}`
        case 'drop2': return `${h}.${p}`
        case 'extra': return `${h}.${p}.${s}.${s}`
        case 'empty1': return `${h}.e30.${s}`
        case 'swap01': return `${p}.${h}.${s}`
        case 'stdB64': return [h, p, s].map((x) => unb64(x).toString('base64')).join('.')
        case 'pad': return `${h}=.${p}==.${s}=`
        case 'dots': return `.${h}.${p}.${s}.`
      }
    }
    // falls through: TS knows the switch above is exhaustive
    default: return applyStr(base, m as StrMutation)
  }
}

export function refreshToken (world: World, spec: RefreshSpec): string {
  if ('garbage' in spec) return spec.garbage
  if ('shaped' in spec) return spec.shaped.join('.')
  return applyRefresh(world, resolve(world, spec.ref), spec.m)
}

export function accessToken (world: World, spec: TokenSpec): string {
  if ('garbage' in spec) return spec.garbage
  if ('raw' in spec) return `${b64(spec.raw[0])}.${b64(spec.raw[1])}.${b64(spec.raw[2])}`
  return applyJwt(world, resolve(world, spec.ref), spec.m)
}

// ---------------------------------------------------------------- arbitraries

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const b64urlString = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...B64URL), minLength: min, maxLength: max })
/** A mix of the printable, the multi-byte and the outright broken. */
const anyString = (maxLength = 40): fc.Arbitrary<string> => fc.oneof(
  fc.string({ maxLength }),
  fc.string({ unit: 'binary', maxLength }),
  fc.string({ unit: 'grapheme', maxLength }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '🦊', '\u202e', '%', '%00', '%FF', '"', '\\', ';', ',', '=', '.', '..', '../', '{}', '[]', 'null', '__proto__', 'constructor', 'toString')
)
const smallJson = fc.jsonValue({ maxDepth: 2 })
const claimValues = fc.oneof(
  smallJson,
  fc.constantFrom<unknown>('u-admin', 'u-alice', 'u-mallory', ['admin'], ['user', 'admin'], 'admin', 0, -1, 1e12, 9_999_999_999, '9999999999', null, [], {}, true)
)

/** arb with probability `present`, else null (where fc.option's `freq` gives nil a chance of 1 / freq). */
export function maybe<T> (arb: fc.Arbitrary<T>, present: number): fc.Arbitrary<T | null> {
  const weight = Math.round(present * 100)
  return fc.oneof({ weight: 100 - weight, arbitrary: fc.constant(null) }, { weight, arbitrary: arb })
}

const tokenRef = (pools: PoolName[]): fc.Arbitrary<TokenRef> => fc.record({ pool: fc.constantFrom(...pools), index: fc.nat(50) })

export function strMutation (): fc.Arbitrary<StrMutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(400) }),
    fc.record({ kind: fc.constant('extend' as const), suffix: fc.oneof(anyString(20), b64urlString(1, 4), fc.constantFrom('.', '.x', '=', '==', ' ', '\t', ';x')) }),
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(400), char: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...B64URL) }, fc.constantFrom('.', '%', ';', ' ', '"', ',', '\\', '=', '+', '/', 'é', 'ÿ', '\u0000', '🦊', '\ud800')) }) },
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(400), count: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(400), text: fc.oneof(anyString(8), b64urlString(1, 3)) }),
    fc.record({ kind: fc.constant('case' as const), upper: fc.boolean() }),
    fc.record({ kind: fc.constant('wrap' as const), before: fc.constantFrom('', ' ', '"', '\'', '<', 'Bearer ', '%20'), after: fc.constantFrom('', ' ', '"', '\'', '>', '\t', '%00') }),
    fc.record({ kind: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 4 }), sep: fc.constantFrom('', '.', ' ', ',', ';') }),
    fc.record({ kind: fc.constant('long' as const), length: fc.integer({ min: 100, max: 20_000 }), char: fc.constantFrom('A', '.', '=', '%41', 'é', '🦊') }),
    fc.record({ kind: fc.constant('pctEncode' as const), at: fc.nat(400) })
  )
}

function refreshSpec (sources: PoolName[]): fc.Arbitrary<RefreshSpec> {
  const mutation: fc.Arbitrary<RefreshMutation> = fc.oneof(
    { weight: 6, arbitrary: strMutation() },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('swapPart' as const), part: fc.constantFrom(0 as const, 1 as const, 2 as const), other: tokenRef(['victimRefresh', 'malloryRefresh']) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('user' as const), userId: fc.oneof(fc.constantFrom('u-alice', 'u-admin', 'u-bob', 'u-mallory', 'u-nobody', '', '{u-alice}', 'u-alice\u0000', 'U-ALICE'), anyString(300)) }) },
    // Deliberate: the token as it is (filtered out for victims by the test; mallory's may work).
    { weight: 3, arbitrary: fc.constant({ kind: 'asIs' as const }) }
  )
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ ref: tokenRef(sources), m: mutation }) },
    { weight: 1, arbitrary: fc.record({ garbage: fc.oneof(anyString(80), fc.base64String({ maxLength: 120 }), b64urlString(0, 200)) }) },
    { weight: 1, arbitrary: fc.record({ shaped: fc.tuple(fc.oneof(b64urlString(0, 12), fc.constantFrom(b64('u-alice'), b64('u-admin'), b64('u-mallory'))), b64urlString(20, 24), b64urlString(41, 45)) }) }
  )
}

const ALGS = ['none', 'None', 'NONE', 'nOnE', 'HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'EdDSA', 'PS256', 'ES512', 'hs256', '', null, 0, ['HS256'], {}] as const
const KIDS = ['k-ed', 'k-es', 'k-old', 'k-unknown', '../../../dev/null', '', null, 1, ['k-ed'], { $ne: null }, 'k-ed\u0000', '__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const

function tokenSpec (sources: PoolName[]): fc.Arbitrary<TokenSpec> {
  const setClaims = fc.dictionary(fc.constantFrom('sub', 'sid', 'roles', 'exp', 'iat', 'nbf', 'iss', 'aud', 'jti', 'admin', '__proto__'), claimValues, { maxKeys: 3 })
  const mutation: fc.Arbitrary<JwtMutation> = fc.oneof(
    { weight: 3, arbitrary: strMutation() },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('bitflip' as const), part: fc.constantFrom(0 as const, 1 as const, 2 as const), at: fc.nat(300), bit: fc.nat(7) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('header' as const),
        set: fc.dictionary(fc.constantFrom('alg', 'kid', 'jku', 'jwk', 'x5u', 'x5c', 'crit', 'b64', 'typ', 'cty', 'zip'), fc.oneof(fc.constantFrom<unknown>(...ALGS, ...KIDS, 'https://evil.example/jwks.json', ['exp'], false, 'DEF'), smallJson), { minKeys: 1, maxKeys: 3 }),
        drop: fc.subarray(['alg', 'kid', 'typ'])
      })
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('claims' as const), set: setClaims, drop: fc.subarray(['sub', 'sid', 'roles', 'exp', 'iat']) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('none' as const), signature: fc.constantFrom('drop' as const, 'empty' as const, 'keep' as const), set: setClaims }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('resign' as const),
        alg: fc.constantFrom('HS256' as const, 'HS512' as const, 'EdDSA' as const),
        key: fc.constantFrom('empty' as const, 'guess' as const, 'publicPem' as const, 'jwks' as const, 'attacker' as const),
        kid: fc.oneof(fc.constant(null), fc.constantFrom('k-ed', 'k-es', 'k-old', 'k-unknown')),
        set: setClaims
      })
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('parts' as const), op: fc.constantFrom('drop0' as const, 'drop1' as const, 'drop2' as const, 'extra' as const, 'empty1' as const, 'swap01' as const, 'stdB64' as const, 'pad' as const, 'dots' as const) }) },
    // Deliberate: the token as it is (a victim's may read, never revoke: the test sees to that).
    { weight: 3, arbitrary: fc.constant({ kind: 'asIs' as const }) }
  )
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ ref: tokenRef(sources), m: mutation }) },
    { weight: 1, arbitrary: fc.record({ garbage: fc.oneof(anyString(60), fc.base64String({ maxLength: 200 }), b64urlString(0, 9000)) }) },
    { weight: 1, arbitrary: fc.record({ raw: fc.tuple(fc.json({ maxDepth: 2 }), fc.json({ maxDepth: 2 }), fc.string({ maxLength: 64 })) }) }
  )
}

// ---------------------------------------------------------------- requests

export const ROUTES = {
  login: { method: 'POST', path: '/auth/login' },
  refresh: { method: 'POST', path: '/auth/refresh' },
  logout: { method: 'POST', path: '/auth/logout' },
  logoutAll: { method: 'POST', path: '/auth/logout-all' },
  sessions: { method: 'GET', path: '/auth/sessions' },
  deleteSession: { method: 'DELETE', path: '/auth/sessions/' },
  reauthenticate: { method: 'POST', path: '/auth/reauthenticate' },
  jwks: { method: 'GET', path: '/.well-known/jwks.json' },
  me: { method: 'GET', path: '/me' },
  meStrict: { method: 'GET', path: '/me/strict' },
  admin: { method: 'GET', path: '/admin' },
  /** Anything under the prefix. */
  underAuth: { method: 'GET', path: '/auth/' }
} as const
export type RouteName = keyof typeof ROUTES
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[]

export type PathMutation = 'none' | 'trailingSlash' | 'doubleSlash' | 'upper' | 'encodeLast' | 'dotSegment' | 'semicolon' | 'fragment' | 'appendSegment'

export type SidSpec = { ref: TokenRef, m: StrMutation } | { garbage: string }

export interface TargetSpec {
  route: RouteName
  /** Another method than the route's own (404 for the route, unless it exists). */
  method: string | null
  path: PathMutation
  /** Raw extra path for `underAuth`, or the id for `deleteSession`. */
  segments: string[]
  sid: SidSpec | null
  query: string | null
}

export type AuthSpec =
  | { scheme: string, sep: string, token: TokenSpec, trail: string }
  | { raw: string }

export interface CookieSpec {
  refresh: RefreshSpec | null
  access: TokenSpec | null
  extras: Array<[string, string]>
  /** A second refresh cookie (which one wins is the parser's business). */
  second: RefreshSpec | null
  refreshLast: boolean
  raw: string | null
}

export type BodySpec =
  | { kind: 'json', text: string, contentType: string | null }
  | { kind: 'login', fields: Record<string, unknown>, contentType: string | null }
  | { kind: 'refresh', token: RefreshSpec | null, other: unknown, clientId: unknown, where: 'refreshToken' | 'nested' | 'array', contentType: string | null }
  | { kind: 'deep', depth: number, shape: 'array' | 'object' | 'mixed', field: 'root' | 'username' | 'refreshToken' }
  | { kind: 'big', length: number, char: string, field: 'username' | 'password' | 'refreshToken' | 'clientId' | 'junk' }
  | { kind: 'raw', data: string | Uint8Array, contentType: string | null }

export interface CaseSpec {
  target: TargetSpec
  authorization: AuthSpec | null
  cookie: CookieSpec | null
  body: BodySpec | null
  origin: string | null
  referer: string | null
  secFetchSite: string | null
  userAgent: string | null
  host: string | null
  extraHeaders: Array<[string, string]>
  remoteAddress: string | null
}

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-16', 'application/json; charset=latin1',
  'APPLICATION/JSON', 'application/json ', ' application/json', 'application/json;', 'application/jsonx', 'application/x-json',
  'application/vnd.api+json', 'application/problem+json', 'text/json', 'text/plain', 'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'multipart/form-data', 'application/octet-stream',
  '*/*', '', ';', '=', 'application/json; boundary="', 'application/json; charset=utf-8; charset=latin1', 'application/json, text/plain'
]
const contentTypeArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map(headerSafe) },
  { weight: 1, arbitrary: fc.constant(null) }
)

const jsonMostly = fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, contentTypeArb)

const usernameArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>('alice', 'admin', 'bob', 'mallory', 'ALICE', ' alice', 'alice ', 'alice\u0000', 'ａｌｉｃｅ', 'ali\u200dce', 'mallory\u0000', 'nobody') },
  { weight: 2, arbitrary: anyString(60) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) }
)
function passwordArb (passwords: string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...passwords) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...passwords), strMutation()).map(([p, m]) => applyStr(p, m)) },
    { weight: 2, arbitrary: anyString(60) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) }
  )
}

export function bodyArb (passwords: string[], refreshSources: PoolName[]): fc.Arbitrary<BodySpec> {
  const json = fc.oneof(fc.json({ maxDepth: 4 }), fc.anything({ maxDepth: 4, maxKeys: 6 }).map((v) => { try { return JSON.stringify(v) ?? 'null' } catch { return 'null' } }))
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('json' as const), text: json, contentType: contentTypeArb }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('login' as const),
        fields: fc.oneof(
          // The deliberate actor's own credentials: a real login.
          { weight: 1, arbitrary: fc.record({ username: fc.constant('mallory'), password: fc.constant(passwords[0] ?? ''), clientId: fc.constantFrom('web', 'mobile') }, { requiredKeys: ['username', 'password'] }) },
          // Well-formed: reaches the limiter, findUser and argon2.
          { weight: 3, arbitrary: fc.record({ username: fc.oneof(fc.constantFrom('alice', 'admin', 'bob', 'mallory', 'mallory', 'ALICE', 'alice\u0000', 'ａｌｉｃｅ', 'nobody'), anyString(60)), password: fc.oneof(fc.constantFrom(...passwords), anyString(60)), clientId: fc.oneof(fc.constantFrom('web', 'mobile'), anyString(20)) }, { requiredKeys: ['username', 'password'] }) },
          { weight: 2, arbitrary: fc.record({ username: usernameArb, password: passwordArb(passwords), clientId: fc.oneof(anyString(20), fc.anything({ maxDepth: 1 })), refreshToken: anyString(20), constructor: fc.constant({ prototype: { admin: true } }) }, { requiredKeys: [] }) }
        ),
        contentType: jsonMostly
      })
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('refresh' as const),
        token: maybe(refreshSpec(refreshSources), 0.85),
        other: fc.anything({ maxDepth: 2 }),
        clientId: fc.oneof(fc.constant(undefined), anyString(20), fc.anything({ maxDepth: 1 })),
        where: fc.constantFrom('refreshToken' as const, 'refreshToken' as const, 'refreshToken' as const, 'nested' as const, 'array' as const),
        contentType: jsonMostly
      })
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 10, max: 9000 }), shape: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const), field: fc.constantFrom('root' as const, 'username' as const, 'refreshToken' as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('big' as const),
        // Both sides of the 16 KB limit, and right at it.
        length: fc.oneof(fc.integer({ min: 200, max: 16_000 }), fc.integer({ min: 16_300, max: 16_450 }), fc.integer({ min: 16_385, max: 70_000 })),
        char: fc.constantFrom('a', 'é', '🦊', '"', '\u0000', '\\', '.'),
        field: fc.constantFrom('username' as const, 'password' as const, 'refreshToken' as const, 'clientId' as const, 'junk' as const)
      })
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('raw' as const),
        data: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.uint8Array({ maxLength: 300 }),
          fc.constantFrom('username=alice&password=x', '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--x--', '<login/>', 'null', '[]', '{}', '""', '\ufeff{"username":"a","password":"b"}', 'true', '{"username":"a","password":"b"', '{"a":1}{"b":2}', '{"username":"a","username":"b","password":"c"}', '{"__proto__":{"x":1}}', '{"refreshToken":null}', '1e400', '-')
        ),
        contentType: contentTypeArb
      })
    }
  )
}

function sidArb (): fc.Arbitrary<SidSpec> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ ref: tokenRef(['victimSid', 'bobSid', 'mallorySid']), m: fc.oneof({ weight: 3, arbitrary: fc.constant({ kind: 'asIs' as const }) }, strMutation()) }) },
    { weight: 2, arbitrary: fc.record({ garbage: fc.oneof(b64urlString(22, 22), anyString(80), fc.string({ maxLength: 100 })) }) }
  )
}

const segmentArb = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F', '%00', '%FF', '%', '%zz', '%E0%A4%A', 'login', 'refresh', 'logout', 'sessions', 'logout-all', '*', '%2F', '~', ':id', '__proto__', 'constructor', '', ';', '%3B', 'a b', '#x', '?'),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.isWellFormed() ? encodeURIComponent(s) : 'x'),
  b64urlString(1, 70)
)

const queryArb: fc.Arbitrary<string> = fc.array(fc.tuple(
  fc.oneof(fc.constantFrom('__proto__[admin]', 'constructor[prototype][admin]', 'refreshToken', 'access_token', 'token', 'id', 'username', 'password', 'a[b][c][d]', '', '%', '%FF'), fc.string({ maxLength: 10 }).map(encodeURIComponent)),
  fc.oneof(fc.constantFrom('', '1', 'true', '%', '%FF', '%E0%A4', 'x'.repeat(3000)), fc.string({ maxLength: 30 }).map(encodeURIComponent))
), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'))

export function targetArb (routes: RouteName[], options: { methods?: boolean, paths?: boolean } = {}): fc.Arbitrary<TargetSpec> {
  return fc.record({
    route: fc.constantFrom(...routes),
    method: options.methods === true ? maybe(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), 0.25) : fc.constant(null),
    path: options.paths === true
      ? fc.oneof({ weight: 5, arbitrary: fc.constant('none' as const) }, fc.constantFrom<PathMutation>('trailingSlash', 'doubleSlash', 'upper', 'encodeLast', 'dotSegment', 'semicolon', 'fragment', 'appendSegment'))
      : fc.constant('none' as const),
    segments: fc.array(segmentArb, { minLength: 1, maxLength: 5 }),
    sid: maybe(sidArb(), 0.9),
    query: maybe(queryArb, options.paths === true ? 0.5 : 0.15)
  })
}

const ORIGINS = ['http://localhost', 'http://localhost:80', 'https://localhost', 'https://evil.example', 'null', 'https://app.example', 'http://app.example', 'https://app.example.evil.com', 'file://', '', ' ', 'http://[::1]', 'http://localhost.', 'HTTP://LOCALHOST', 'http://localhost:8080']
const originArb = maybe(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ORIGINS) }, fc.webUrl().map((u) => new URL(u).origin), fc.string({ maxLength: 40 }).map(headerSafe)), 0.35)
const refererArb = maybe(fc.oneof(fc.constantFrom('http://localhost/app', 'https://evil.example/x', '::not a url::', 'about:blank', 'data:,x', ''), fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string({ maxLength: 40 }).map(headerSafe)), 0.3)
const secFetchArb = maybe(fc.oneof(fc.constantFrom('cross-site', 'same-origin', 'same-site', 'none', 'CROSS-SITE', ''), fc.string({ maxLength: 12 }).map(headerSafe)), 0.3)
const userAgentArb = maybe(fc.oneof(anyString(80).map(headerSafe), fc.integer({ min: 300, max: 9000 }).map((n) => 'A'.repeat(n))), 0.4)
const hostArb = maybe(fc.constantFrom('localhost', 'localhost:80', 'evil.example', 'app.example', '[::1]', 'localhost:99999', 'a b', '%00', 'LOCALHOST'), 0.15)
const HEADER_NAMES = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-http-method-override', 'x-real-ip', 'accept', 'accept-encoding', 'x-requested-with', 'if-none-match', 'range', 'x-csrf-token', 'proxy-authorization', 'cookie2', 'authorization2']
const extraHeadersArb = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.stringMatching(/^x-[a-z0-9-]{1,16}$/)), anyString(60).map(headerSafe)), { maxLength: 3 })
const remoteArb = maybe(fc.constantFrom('127.0.0.1', '::1', '192.0.2.1', '::ffff:10.0.0.1', '203.0.113.99', 'not-an-ip', ''), 0.4)

export function authArb (sources: PoolName[]): fc.Arbitrary<AuthSpec> {
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        scheme: fc.oneof({ weight: 12, arbitrary: fc.constant('Bearer') }, fc.constantFrom('bearer', 'BEARER', 'Basic', 'Digest', 'Token', 'JWT', '', 'Bearer:', 'Bearer,', 'DPoP'), fc.string({ maxLength: 8 }).map(headerSafe)),
        sep: fc.oneof({ weight: 12, arbitrary: fc.constant(' ') }, fc.constantFrom('', '  ', '\t', ' \t', '=')),
        token: tokenSpec(sources),
        trail: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, fc.constantFrom(' ', '  ', ' x', ', Bearer x', '\t'))
      })
    },
    { weight: 1, arbitrary: fc.record({ raw: anyString(100).map(headerSafe) }) }
  )
}

export function cookieArb (refreshSources: PoolName[], accessSources: PoolName[]): fc.Arbitrary<CookieSpec> {
  const names = fc.oneof(fc.constantFrom('refresh_token', 'access_token', '__Host-refresh_token', 'REFRESH_TOKEN', ' refresh_token', 'refresh_token ', 'session', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''), fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/))
  return fc.record({
    refresh: maybe(refreshSpec(refreshSources), 0.85),
    access: maybe(tokenSpec(accessSources), 0.3),
    extras: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Array<[string, string]>) }, fc.array(fc.tuple(names, fc.oneof(anyString(40), fc.constantFrom('"x"', '%', '%FF', 'a=b', '=', ''))), { maxLength: 4 })),
    second: maybe(refreshSpec(refreshSources), 0.1),
    refreshLast: fc.boolean(),
    raw: maybe(fc.oneof(anyString(80), fc.constantFrom('=; ;;=;\u00ff; ===; a', 'refresh_token', 'refresh_token=;refresh_token=x', ';;;', '=refresh_token')), 0.08)
  })
}

export function caseArb (parts: {
  target: fc.Arbitrary<TargetSpec>
  authorization?: fc.Arbitrary<AuthSpec | null>
  cookie?: fc.Arbitrary<CookieSpec | null>
  body?: fc.Arbitrary<BodySpec | null>
  browser?: boolean
  extras?: boolean
}): fc.Arbitrary<CaseSpec> {
  return fc.record({
    target: parts.target,
    authorization: parts.authorization ?? fc.constant(null),
    cookie: parts.cookie ?? fc.constant(null),
    body: parts.body ?? fc.constant(null),
    origin: parts.browser === true ? originArb : fc.constant(null),
    referer: parts.browser === true ? refererArb : fc.constant(null),
    secFetchSite: parts.browser === true ? secFetchArb : fc.constant(null),
    userAgent: parts.extras === true ? userAgentArb : fc.constant(null),
    host: parts.extras === true ? hostArb : fc.constant(null),
    extraHeaders: parts.extras === true ? extraHeadersArb : fc.constant([]),
    remoteAddress: parts.extras === true ? remoteArb : fc.constant(null)
  })
}

// ---------------------------------------------------------------- materialise

function bodyPayload (world: World, body: BodySpec): { payload: string | Buffer, contentType: string | null } {
  switch (body.kind) {
    case 'json': return { payload: body.text, contentType: body.contentType }
    case 'login': return { payload: JSON.stringify(body.fields) ?? 'null', contentType: body.contentType }
    case 'refresh': {
      const token = body.token === null ? body.other : refreshToken(world, body.token)
      const clientId = body.clientId === undefined ? {} : { clientId: body.clientId }
      const value = body.where === 'refreshToken' ? { refreshToken: token, ...clientId } : body.where === 'nested' ? { refreshToken: { token }, ...clientId } : [{ refreshToken: token }]
      let payload: string
      try { payload = JSON.stringify(value) ?? 'null' } catch { payload = 'null' }
      return { payload, contentType: body.contentType }
    }
    case 'deep': {
      const n = body.depth
      const nest = body.shape === 'array'
        ? '['.repeat(n) + ']'.repeat(n)
        : body.shape === 'object'
          ? '{"a":'.repeat(n) + '1' + '}'.repeat(n)
          : '[{"a":'.repeat(n) + '1' + '}]'.repeat(n)
      const payload = body.field === 'root' ? nest : `{"${body.field}":${nest},"password":"x"}`
      return { payload, contentType: 'application/json' }
    }
    case 'big': {
      const fields: Record<string, unknown> = { username: 'mallory', password: 'x', [body.field]: body.char.repeat(body.length) }
      return { payload: JSON.stringify(fields), contentType: 'application/json' }
    }
    case 'raw': return { payload: typeof body.data === 'string' ? body.data : Buffer.from(body.data), contentType: body.contentType }
  }
}

function pathOf (world: World, target: TargetSpec): string {
  let path: string = ROUTES[target.route].path
  if (target.route === 'underAuth') path += target.segments.join('/')
  if (target.route === 'deleteSession') {
    const sid = target.sid === null ? target.segments.join('/') : 'garbage' in target.sid ? target.sid.garbage : applyStr(resolve(world, target.sid.ref), target.sid.m)
    path += sid.isWellFormed() ? encodeURIComponent(sid) : 'x'
  }
  switch (target.path) {
    case 'none': break
    case 'trailingSlash': path += '/'; break
    case 'doubleSlash': path = path.replace(/\/(?=[^/]*$)/, '//'); break
    case 'upper': path = path.toUpperCase(); break
    case 'encodeLast': path = path.slice(0, -1) + '%' + path.charCodeAt(path.length - 1).toString(16).toUpperCase(); break
    case 'dotSegment': path = path.replace(/\/(?=[^/]*$)/, '/x/../'); break
    case 'semicolon': path += ';jsessionid=1'; break
    case 'fragment': path += '#frag'; break
    case 'appendSegment': path += '/' + (target.segments[0] ?? 'x'); break
  }
  return target.query === null ? path : `${path}?${target.query}`
}

export function materialize (world: World, spec: CaseSpec): InjectOptions {
  const route = ROUTES[spec.target.route]
  const headers: Record<string, string> = {}
  for (const [name, value] of spec.extraHeaders) headers[name] = value
  if (spec.authorization !== null) {
    headers.authorization = headerSafe('raw' in spec.authorization
      ? spec.authorization.raw
      : `${spec.authorization.scheme}${spec.authorization.sep}${accessToken(world, spec.authorization.token)}${spec.authorization.trail}`)
  }
  if (spec.cookie !== null) {
    const c = spec.cookie
    if (c.raw !== null) {
      headers.cookie = headerSafe(c.raw)
    } else {
      const pairs: string[] = c.extras.map(([name, value]) => `${name}=${value}`)
      if (c.access !== null) pairs.push(`access_token=${accessToken(world, c.access)}`)
      if (c.refresh !== null) {
        const value = `refresh_token=${refreshToken(world, c.refresh)}`
        if (c.refreshLast) pairs.push(value)
        else pairs.unshift(value)
      }
      if (c.second !== null) pairs.push(`refresh_token=${refreshToken(world, c.second)}`)
      if (pairs.length > 0) headers.cookie = headerSafe(pairs.join('; '))
    }
  }
  if (spec.origin !== null) headers.origin = spec.origin
  if (spec.referer !== null) headers.referer = spec.referer
  if (spec.secFetchSite !== null) headers['sec-fetch-site'] = spec.secFetchSite
  if (spec.userAgent !== null) headers['user-agent'] = spec.userAgent
  if (spec.host !== null) headers.host = spec.host
  const options: InjectOptions = { method: (spec.target.method ?? route.method) as InjectOptions['method'], url: pathOf(world, spec.target), headers }
  if (spec.body !== null) {
    const { payload, contentType } = bodyPayload(world, spec.body)
    options.payload = payload
    if (contentType !== null) headers['content-type'] = contentType
  }
  if (spec.remoteAddress !== null) options.remoteAddress = spec.remoteAddress
  return options
}

/** Every string the server could take for a refresh token (or a password) from this request. */
export function carriedStrings (request: InjectOptions): string[] {
  const out: string[] = []
  const headers = (request.headers ?? {}) as Record<string, string>
  const cookie = headers.cookie
  if (typeof cookie === 'string') {
    for (const value of Object.values(fastifyCookie.parse(cookie))) if (typeof value === 'string') out.push(value)
    for (const part of cookie.split(';')) {
      const value = part.slice(part.indexOf('=') + 1).trim()
      out.push(value, value.replace(/^"|"$/g, ''))
      try { out.push(decodeURIComponent(value)) } catch {}
    }
  }
  const payload = request.payload
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
    const text = payload.toString()
    out.push(text)
    try { walkStrings(JSON.parse(text), out) } catch {}
  }
  return out
}

function walkStrings (value: unknown, out: string[], depth = 0): void {
  if (depth > 50) return
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const item of value) walkStrings(item, out, depth + 1)
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) { out.push(key); walkStrings(item, out, depth + 1) }
}

/** The (username, password) pair of a JSON login body, if it has one. */
export function loginPair (request: InjectOptions): [unknown, unknown] | null {
  const payload = request.payload
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return null
  try {
    const body: unknown = JSON.parse(payload.toString())
    return body !== null && typeof body === 'object' ? [(body as Record<string, unknown>).username, (body as Record<string, unknown>).password] : null
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- checks

/** Each code of the plugin and the status it must come with. */
const CODE_STATUS: Record<string, number> = {
  AUTH_INVALID_CREDENTIALS: 401,
  AUTH_TOO_MANY_ATTEMPTS: 429,
  AUTH_REFRESH_MISSING: 401,
  AUTH_REFRESH_INVALID: 401,
  AUTH_REFRESH_REUSED: 401,
  AUTH_CSRF_REJECTED: 403,
  AUTH_TOKEN_MISSING: 401,
  AUTH_TOKEN_INVALID: 401,
  AUTH_TOKEN_EXPIRED: 401,
  AUTH_SESSION_REVOKED: 401,
  AUTH_FORBIDDEN: 403,
  AUTH_SESSION_NOT_FOUND: 404,
  AUTH_ROUTE_NOT_FOUND: 404,
  AUTH_JWKS_NOT_FOUND: 404
}

/** The path as the server gets it: inject parses the URL as WHATWG does (dot segments resolved). */
export function pathname (url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname
  } catch {
    return url.split(/[?#]/)[0] ?? ''
  }
}

/** Under the plugin's prefix, where the plugin answers every path. */
export function underPrefix (url: string): boolean {
  const path = pathname(url)
  return path === '/auth' || path.startsWith('/auth/')
}

/** The error-body contract of SPEC 5; `strict` also requires a stable code (the plugin's paths). */
export function errorProblems (response: LightMyRequestResponse, method: string, strict: boolean): string[] {
  const found: string[] = []
  const status = response.statusCode
  if (!/^application\/json/.test(String(response.headers['content-type']))) found.push(`content-type ${String(response.headers['content-type'])}`)
  if (method === 'HEAD') return found
  let body: Record<string, unknown>
  try {
    body = response.json()
  } catch {
    return [...found, `body is not JSON: ${response.body.slice(0, 100)}`]
  }
  if (body === null || typeof body !== 'object') return [...found, 'body is not an object']
  const keys = Object.keys(body).sort().join(',')
  if (strict ? keys !== 'code,error,message,statusCode' : !['code,error,message,statusCode', 'error,message,statusCode'].includes(keys)) found.push(`keys ${keys}`)
  if (body.statusCode !== status) found.push(`statusCode ${String(body.statusCode)} != ${status}`)
  if (typeof body.error !== 'string' || typeof body.message !== 'string') found.push('error/message not strings')
  if (strict || body.code !== undefined) {
    const code = body.code
    if (typeof code !== 'string') found.push('no string code')
    else if (code.startsWith('AUTH_')) {
      if (CODE_STATUS[code] === undefined) found.push(`unexpected code ${code}`)
      else if (CODE_STATUS[code] !== status) found.push(`code ${code} with status ${status}`)
    } else if (!/^FST_ERR_[A-Z0-9_]+$/.test(code)) found.push(`unexpected code ${code}`)
  }
  if (/"stack"|\bat .+:\d+:\d+|node_modules|\/src\/|\.ts:\d+/i.test(response.body)) found.push('looks like a stack trace')
  return found
}

// ---------------------------------------------------------------- tally

export class Tally {
  readonly statuses = new Map<number, number>()
  readonly codes = new Map<string, number>()
  readonly perProperty = new Map<string, number>()
  /** "POST /auth/refresh 401 AUTH_REFRESH_INVALID" -> count, for the routes the case was aimed at unchanged. */
  readonly perRoute = new Map<string, number>()
  cases = 0
  skipped = 0
  oracles = 0

  record (property: string, response: LightMyRequestResponse, method: string, route: string | null): void {
    this.cases++
    this.perProperty.set(property, (this.perProperty.get(property) ?? 0) + 1)
    this.statuses.set(response.statusCode, (this.statuses.get(response.statusCode) ?? 0) + 1)
    let code = response.statusCode < 400 ? `(${response.statusCode})` : method === 'HEAD' ? '(HEAD, no body)' : '(no code)'
    try {
      const body = response.json() as { code?: unknown }
      if (typeof body?.code === 'string') code = body.code
    } catch {}
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1)
    if (route !== null) {
      const key = `${route} ${response.statusCode} ${code}`
      this.perRoute.set(key, (this.perRoute.get(key) ?? 0) + 1)
    }
  }

  summary (): string {
    const sorted = <K>(map: Map<K, number>): string => [...map].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(k)}: ${n}`).join(', ')
    return [
      `${this.cases} cases (${this.skipped} generated cases skipped: they carried a live token of a protected user; ${this.oracles} oracle look-ups)`,
      `per property: ${sorted(this.perProperty)}`,
      `statuses: ${sorted(this.statuses)}`,
      `codes: ${sorted(this.codes)}`,
      `per route (unchanged method and path): ${[...this.perRoute].sort((a, b) => a[0] < b[0] ? -1 : 1).map(([k, n]) => `${k}: ${n}`).join(', ')}`
    ].join('\n')
  }
}

/** Fails the file on any unhandled rejection while the fuzz runs. */
export function watchUnhandledRejections (): { stop (): unknown[] } {
  const seen: unknown[] = []
  const listener = (reason: unknown): void => { seen.push(reason) }
  process.on('unhandledRejection', listener)
  return {
    stop () {
      process.off('unhandledRejection', listener)
      return seen
    }
  }
}

/** A request, cut down for a failure message. */
export function describeRequest (request: InjectOptions): string {
  const payload = request.payload === undefined ? undefined : String(request.payload)
  return JSON.stringify({ ...request, payload: payload !== undefined && payload.length > 300 ? `${payload.slice(0, 300)}... (${payload.length} chars)` : payload }, (_key, value: unknown) => typeof value === 'string' && value.length > 400 ? `${value.slice(0, 400)}... (${value.length} chars)` : value)
}
