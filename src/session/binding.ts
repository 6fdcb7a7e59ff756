/**
 * A session's binding: the key a device proved it holds, as `<kind>:<thumbprint>` (the RFC 7638
 * SHA-256 thumbprint of its public JWK, base64url). The one home of that format: the stores keep
 * it as an opaque string and compare it whole.
 */
export type BindingKind = 'dbsc' | 'dpop'

export interface Binding {
  kind: BindingKind
  /** RFC 7638 JWK SHA-256 thumbprint, base64url (43 characters). */
  thumbprint: string
}

const BINDING = /^(dbsc|dpop):([A-Za-z0-9_-]{43})$/

export function formatBinding ({ kind, thumbprint }: Binding): string {
  const text = `${kind}:${thumbprint}`
  if (!BINDING.test(text)) throw new TypeError('a binding is dbsc or dpop and a 43-character base64url SHA-256 thumbprint')
  return text
}

/** null for '' (not bound) and anything that is not a binding. */
export function parseBinding (text: string | null | undefined): Binding | null {
  const match = BINDING.exec(text ?? '')
  return match === null ? null : { kind: match[1] as BindingKind, thumbprint: match[2]! }
}
