/**
 * The asymmetric key set (`accessToken.keys`), judged once at registration by resolveOptions:
 * unique kids, one key that signs, and every key read into a KeyObject of the type, curve and
 * size its `alg` needs, each private key the pair of its public key. access-token.ts builds its
 * verifiers from what this returns and checks nothing itself.
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import { OptionsError } from '../errors.js'

/** PEM (string or Buffer) or a KeyObject. */
export type KeyInput = string | Buffer | KeyObject
export type KeyAlg = 'EdDSA' | 'ES256' | 'RS256'

/** One entry of the `accessToken.keys` option. */
export interface KeyOption { kid: string, alg: KeyAlg, privateKey?: KeyInput, publicKey: KeyInput }

/** A key after judging: KeyObjects of the right kind; privateKey null for a verify-only key. */
export interface ResolvedKey { kid: string, alg: KeyAlg, publicKey: KeyObject, privateKey: KeyObject | null }

const KEY_TYPES: Record<KeyAlg, readonly string[]> = { EdDSA: ['ed25519'], ES256: ['ec'], RS256: ['rsa'] }

/** `signingKid` undefined: the first key with a private key signs. Throws OptionsError. */
export function resolveKeySet (keys: readonly KeyOption[], signingKid: string | undefined): { keys: ResolvedKey[], signingKid: string } {
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw new OptionsError('option accessToken.keys has duplicate kids')
  const kid = signingKid ?? keys.find((k) => k.privateKey !== undefined)?.kid
  const signer = keys.find((k) => k.kid === kid)
  if (signer === undefined) throw new OptionsError('option accessToken.signingKid must name a key of accessToken.keys')
  if (signer.privateKey === undefined) throw new OptionsError(`option accessToken.keys: the signing key ${signer.kid} needs a privateKey`)
  return { keys: keys.map(resolveKey), signingKid: signer.kid }
}

function resolveKey ({ kid, alg, privateKey, publicKey }: KeyOption): ResolvedKey {
  const publicObject = toKeyObject(kid, publicKey, 'public')
  checkKeyType(kid, alg, publicObject)
  const privateObject = privateKey === undefined ? null : toKeyObject(kid, privateKey, 'private')
  if (privateObject !== null) {
    checkKeyType(kid, alg, privateObject)
    // A mismatched pair would sign tokens that no verifier (ours or a JWKS reader) accepts.
    if (!createPublicKey(privateObject).equals(publicObject)) throw new OptionsError(`option accessToken.keys: the private and public keys of ${kid} are not one pair`)
  }
  return { kid, alg, publicKey: publicObject, privateKey: privateObject }
}

function checkKeyType (kid: string, alg: KeyAlg, key: KeyObject): void {
  if (!KEY_TYPES[alg].includes(key.asymmetricKeyType ?? '')) {
    throw new OptionsError(`option accessToken.keys: key ${kid} is ${key.asymmetricKeyType ?? 'not asymmetric'}, not a key for ${alg}`)
  }
  if (alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new OptionsError(`option accessToken.keys: key ${kid} must be on P-256 for ES256`)
  if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new OptionsError(`option accessToken.keys: key ${kid} must have at least 2048 bits for RS256`)
}

function toKeyObject (kid: string, input: KeyInput, kind: 'private' | 'public'): KeyObject {
  // createPublicKey refuses a public KeyObject and createPrivateKey any KeyObject: take them as they are.
  if (input instanceof KeyObject) {
    if (input.type === kind) return input
    if (kind === 'public' && input.type === 'private') return createPublicKey(input)
    throw new OptionsError(`option accessToken.keys: the ${kind} key of ${kid} is a ${input.type} key`)
  }
  try {
    return kind === 'private' ? createPrivateKey(input as string) : createPublicKey(input as string)
  } catch {
    throw new OptionsError(`option accessToken.keys: the ${kind} key of ${kid} cannot be read`)
  }
}
