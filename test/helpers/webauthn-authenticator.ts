/**
 * A software WebAuthn authenticator for Node tests: makes the responses a browser's
 * navigator.credentials.create() / get() would (as @simplewebauthn/browser serialises them), with
 * ES256 keys from node:crypto, so a relying party's routes can be driven over HTTP without a
 * browser. Attestation `none` or `packed` (self attestation: signed by the credential's own key).
 *
 * What it sends is what the WebAuthn spec says, byte for byte: clientDataJSON, authenticator data
 * (rpIdHash, flags, counter, attested credential data with a COSE key), CBOR attestation object,
 * DER ECDSA signature over authenticatorData || SHA-256(clientDataJSON). It checks nothing a
 * browser would refuse itself beyond excludeCredentials / allowCredentials.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON
} from '@simplewebauthn/server'

export interface SoftwareCredential {
  /** base64url */
  id: string
  rpId: string
  /** base64url of the user handle the RP gave at registration (options.user.id). */
  userHandle: string
  privateKey: KeyObject
  publicKey: KeyObject
  counter: number
}

export interface AuthenticatorOptions {
  /** Default 'none'. */
  attestation?: 'none' | 'packed'
  /** The UV flag (PIN or biometrics passed); default true. */
  userVerified?: boolean
  /** Signature counter step per assertion; 0 behaves as a synced passkey (always 0). Default 1. */
  counterStep?: number
  /** The BE and BS flags: a passkey that is synced (backed up), as platform password managers make. Default false. */
  backedUp?: boolean
}

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_BE = 0x08
const FLAG_BS = 0x10
const FLAG_AT = 0x40
const COSE_ES256 = -7
/** An all-zero AAGUID: what authenticators that do not say what they are send. */
const AAGUID = Buffer.alloc(16)

export class SoftwareAuthenticator {
  readonly credentials: SoftwareCredential[] = []
  readonly #attestation: 'none' | 'packed'
  readonly #userVerified: boolean
  readonly #counterStep: number
  readonly #backedUp: boolean

  constructor (options: AuthenticatorOptions = {}) {
    this.#attestation = options.attestation ?? 'none'
    this.#userVerified = options.userVerified ?? true
    this.#counterStep = options.counterStep ?? 1
    this.#backedUp = options.backedUp ?? false
  }

  /** navigator.credentials.create() on `origin`, for the RP's options. */
  register (options: PublicKeyCredentialCreationOptionsJSON, origin: string): RegistrationResponseJSON {
    const rpId = options.rp.id ?? new URL(origin).hostname
    const excluded = new Set((options.excludeCredentials ?? []).map((credential) => credential.id))
    if (this.credentials.some((credential) => credential.rpId === rpId && excluded.has(credential.id))) {
      throw Object.assign(new Error('The authenticator already holds an excluded credential'), { name: 'InvalidStateError' })
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const id = randomBytes(32)
    const credential: SoftwareCredential = { id: id.toString('base64url'), rpId, userHandle: options.user.id, privateKey, publicKey, counter: 0 }

    const clientDataJSON = clientData('webauthn.create', options.challenge, origin)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(id.length)
    const authData = Buffer.concat([authenticatorData(rpId, FLAG_AT | this.#flags(), credential.counter), AAGUID, idLength, id, coseKey(publicKey)])
    const attStmt = this.#attestation === 'none'
      ? new Map()
      : new Map<string, unknown>([['alg', COSE_ES256], ['sig', sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey)]])
    const attestationObject = cbor(new Map<string, unknown>([['fmt', this.#attestation], ['attStmt', attStmt], ['authData', authData]]))
    this.credentials.push(credential)
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        transports: ['internal'],
        publicKeyAlgorithm: COSE_ES256,
        publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64url')
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform'
    }
  }

  /**
   * navigator.credentials.get() on `origin`: signs with the credential named (or the newest one
   * allowed for the RP: any of its own with an empty allowCredentials, as for a passkey sign-in).
   */
  authenticate (options: PublicKeyCredentialRequestOptionsJSON, origin: string, credentialId?: string): AuthenticationResponseJSON {
    const rpId = options.rpId ?? new URL(origin).hostname
    const allowed = new Set((options.allowCredentials ?? []).map((credential) => credential.id))
    const credential = this.credentials.findLast((candidate) => candidate.rpId === rpId &&
      (credentialId === undefined || candidate.id === credentialId) &&
      (credentialId !== undefined || allowed.size === 0 || allowed.has(candidate.id)))
    if (credential === undefined) throw Object.assign(new Error('No credential for this RP'), { name: 'NotAllowedError' })
    credential.counter += this.#counterStep
    const clientDataJSON = clientData('webauthn.get', options.challenge, origin)
    const authData = authenticatorData(rpId, this.#flags(), credential.counter)
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey).toString('base64url'),
        userHandle: credential.userHandle
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform'
    }
  }

  #flags (): number {
    return FLAG_UP | (this.#userVerified ? FLAG_UV : 0) | (this.#backedUp ? FLAG_BE | FLAG_BS : 0)
  }
}

function sha256 (data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest()
}

function clientData (type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8')
}

/** rpIdHash (32) | flags (1) | signCount (4, big-endian). */
function authenticatorData (rpId: string, flags: number, counter: number): Buffer {
  const tail = Buffer.alloc(5)
  tail.writeUInt8(flags, 0)
  tail.writeUInt32BE(counter, 1)
  return Buffer.concat([sha256(rpId), tail])
}

/** The EC2 P-256 public key as a COSE_Key (RFC 9053): kty 2, alg -7, crv 1, x, y. */
function coseKey (publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' })
  return cbor(new Map<number, unknown>([[1, 2], [3, COSE_ES256], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]))
}

/** CBOR (RFC 8949) for what WebAuthn needs: integers, byte and text strings, maps. */
export function cbor (value: unknown): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError('integers only')
    return value >= 0 ? head(0, value) : head(1, -1 - value)
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value])
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    return Buffer.concat([head(3, bytes.length), bytes])
  }
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([key, item]) => [cbor(key), cbor(item)])])
  throw new TypeError(`no CBOR encoding for ${typeof value}`)
}

function head (major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length])
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length])
  if (length < 0x10000) {
    const bytes = Buffer.alloc(3)
    bytes.writeUInt8((major << 5) | 25)
    bytes.writeUInt16BE(length, 1)
    return bytes
  }
  const bytes = Buffer.alloc(5)
  bytes.writeUInt8((major << 5) | 26)
  bytes.writeUInt32BE(length, 1)
  return bytes
}
