/**
 * The software authenticator (test/helpers/webauthn-authenticator.ts) against
 * @simplewebauthn/server itself, before the demo's passkey tests rely on it: its registrations
 * (none and packed attestation) and assertions verify, and what a relying party must refuse
 * (another origin, no user verification, a signature that does not match, a replayed counter)
 * is refused.
 */
import t, { type Test } from 'tap'
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse, type WebAuthnCredential } from '@simplewebauthn/server'
import { SoftwareAuthenticator } from './helpers/webauthn-authenticator.js'

const ORIGIN = 'http://localhost:3000'
const RP_ID = 'localhost'

async function registered (t: Test, authenticator: SoftwareAuthenticator, fmt: 'none' | 'packed' = 'none'): Promise<WebAuthnCredential> {
  const options = await generateRegistrationOptions({ rpName: 'test', rpID: RP_ID, userName: 'carol', attestationType: 'none' })
  const response = authenticator.register(options, ORIGIN)
  const { verified, registrationInfo } = await verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID })
  t.ok(verified, 'the registration verifies')
  t.equal(registrationInfo!.credential.id, response.id, 'with the credential id sent')
  t.equal(registrationInfo!.fmt, fmt, `a ${fmt} attestation statement`)
  t.equal(registrationInfo!.credential.counter, 0)
  t.ok(registrationInfo!.userVerified, 'user verified')
  return registrationInfo!.credential
}

async function assertion (authenticator: SoftwareAuthenticator, origin = ORIGIN): Promise<{ challenge: string, response: ReturnType<SoftwareAuthenticator['authenticate']> }> {
  const options = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: 'required' })
  return { challenge: options.challenge, response: authenticator.authenticate(options, origin) }
}

const verify = async (credential: WebAuthnCredential, { challenge, response }: Awaited<ReturnType<typeof assertion>>): Promise<string> => {
  try {
    const result = await verifyAuthenticationResponse({ response, expectedChallenge: challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID, credential })
    return result.verified ? `verified, counter ${result.authenticationInfo.newCounter}` : 'not verified'
  } catch (error) {
    return (error as Error).message
  }
}

for (const attestation of ['none', 'packed'] as const) {
  t.test(`${attestation} attestation: registers, then signs in; the counter goes up`, async (t) => {
    const authenticator = new SoftwareAuthenticator({ attestation })
    const credential = await registered(t, authenticator, attestation)
    t.equal(await verify(credential, await assertion(authenticator)), 'verified, counter 1')
    credential.counter = 1
    t.equal(await verify(credential, await assertion(authenticator)), 'verified, counter 2')
  })
}

t.test('what a relying party must refuse is refused', async (t) => {
  const authenticator = new SoftwareAuthenticator()
  const credential = await registered(t, authenticator)

  t.match(await verify(credential, await assertion(authenticator, 'http://evil.localhost:3000')), /Unexpected authentication response origin/, 'another origin')

  const forged = await assertion(authenticator)
  const signature = Buffer.from(forged.response.response.signature, 'base64url')
  signature.writeUInt8(signature.readUInt8(signature.length - 1) ^ 1, signature.length - 1)
  forged.response.response.signature = signature.toString('base64url')
  t.match(await verify(credential, forged), /not verified|signature/i, 'a signature off by one bit')

  const later = { ...credential, counter: 100 }
  t.match(await verify(later, await assertion(authenticator)), /counter/i, 'a counter not above the one stored (a cloned authenticator)')

  const noUv = new SoftwareAuthenticator({ userVerified: false })
  const options = await generateRegistrationOptions({ rpName: 'test', rpID: RP_ID, userName: 'dave' })
  await t.rejects(verifyRegistrationResponse({ response: noUv.register(options, ORIGIN), expectedChallenge: options.challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID }), /User verification was required/, 'no user verification')
})
