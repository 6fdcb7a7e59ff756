/**
 * The ip and the binding as a Redis record keeps them: as bytes rather than text when they are
 * what they usually are (an ip or a thumbprint in its canonical form), which saves 8 to 23
 * bytes per session. Lossless: decode gives back exactly what was encoded, whatever it was.
 *
 *   ip:      0x01 + 4 bytes (IPv4, dotted quad as written by Node), 0x02 + 16 bytes (IPv6, RFC 5952
 *            form), 0x00 + the text (text that starts with 0x00-0x02), else the text itself
 *   binding: 0x01 + 32 bytes (dbsc), 0x02 + 32 bytes (dpop) when the thumbprint is canonical
 *            base64url (a SHA-256 thumbprint always is), else the text itself
 *
 * Records of layout 1 (0.1.0) keep both as text, which starts with neither byte and reads unchanged.
 * The scripts compare bindings as stored: a request's binding goes to them in both forms.
 */
import { isIPv4, isIPv6 } from 'node:net'

const TEXT = 0
const IPV4 = 1
const IPV6 = 2
const KINDS = ['dbsc', 'dpop'] as const
const BINDING = /^(dbsc|dpop):([A-Za-z0-9_-]{43})$/

export function encodeIp (ip: string): Buffer | string {
  if (isIPv4(ip)) {
    const bytes = Buffer.from([IPV4, ...ip.split('.').map(Number)])
    if (formatIpv4(bytes.subarray(1)) === ip) return bytes
  } else if (isIPv6(ip) && !ip.includes('.')) {
    const bytes = parseIpv6(ip)
    if (bytes !== null && formatIpv6(bytes) === ip) return Buffer.concat([Buffer.from([IPV6]), bytes])
  }
  const first = ip.charCodeAt(0)
  return first === TEXT || first === IPV4 || first === IPV6 ? String.fromCharCode(TEXT) + ip : ip
}

export function decodeIp (stored: Buffer): string {
  if (stored.length === 5 && stored[0] === IPV4) return formatIpv4(stored.subarray(1))
  if (stored.length === 17 && stored[0] === IPV6) return formatIpv6(stored.subarray(1))
  const text = stored.toString('utf8')
  return stored[0] === TEXT ? text.slice(1) : text
}

export function encodeBinding (binding: string): Buffer | string {
  const match = BINDING.exec(binding)
  if (match === null) return binding
  const thumbprint = Buffer.from(match[2]!, 'base64url')
  // Only a canonical spelling (as a SHA-256 thumbprint always is) comes back the same.
  if (thumbprint.toString('base64url') !== match[2]) return binding
  return Buffer.concat([Buffer.from([KINDS.indexOf(match[1] as typeof KINDS[number]) + 1]), thumbprint])
}

export function decodeBinding (stored: Buffer): string {
  const kind = KINDS[stored[0]! - 1]
  if (stored.length === 33 && kind !== undefined) return `${kind}:${stored.subarray(1).toString('base64url')}`
  return stored.toString('utf8')
}

function formatIpv4 (bytes: Buffer): string {
  // Indexed, not spread: this runs for every session a refresh or a list reads.
  return `${bytes[0]!}.${bytes[1]!}.${bytes[2]!}.${bytes[3]!}`
}

function parseIpv6 (ip: string): Buffer | null {
  const [head, tail] = ip.split('::') as [string, string | undefined]
  const groups = (part: string | undefined): string[] => part === undefined || part === '' ? [] : part.split(':')
  const left = groups(head)
  const right = groups(tail)
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 1) return null
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right]
  const bytes = Buffer.alloc(16)
  all.forEach((group, i) => bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2))
  return bytes
}

/** RFC 5952: lowercase, no leading zeros, the longest run (first if tied) of two or more zero groups as `::`. */
function formatIpv6 (bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2))
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { best = i; bestLength = j - i }
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best === -1) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`
}
