/**
 * The ip and the binding as a Redis record keeps them (src/redis/compact-fields.ts): bytes for
 * the usual forms, and exactly what was given back, whatever it was.
 */
import fc from 'fast-check'
import t from 'tap'
import { decodeBinding, decodeIp, encodeBinding, encodeIp } from '../src/redis/compact-fields.js'

const stored = (value: Buffer | string): Buffer => Buffer.isBuffer(value) ? value : Buffer.from(value)

t.test('canonical ips are kept as 5 or 17 bytes and come back the same', async (t) => {
  for (const [ip, bytes] of [['203.0.113.45', 5], ['0.0.0.0', 5], ['255.255.255.255', 5], ['2001:db8:85a3::8a2e:370:7334', 17], ['::1', 17], ['::', 17], ['fe80::1:0:0:1', 17], ['2001:db8:0:1:1:1:1:1', 17], ['1::', 17]] as const) {
    const encoded = encodeIp(ip)
    t.equal(stored(encoded).length, bytes, `${ip}: ${stored(encoded).length} bytes`)
    t.equal(decodeIp(stored(encoded)), ip)
  }
})

t.test('anything else is kept as text, and comes back the same', async (t) => {
  for (const ip of ['', 'unknown', '2001:DB8::1', '2001:0db8::1', '::ffff:192.0.2.1', '2001:db8:0:0:1:0:0:1', '1.2.3.04', '\x00', '\x01\x02\x03\x04', '\x02abc', 'ü']) {
    t.equal(decodeIp(stored(encodeIp(ip))), ip, JSON.stringify(ip))
  }
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ unit: 'binary', maxLength: 64 })), (ip) => decodeIp(stored(encodeIp(ip))) === ip), { numRuns: 3000 })
})

t.test('bindings are kept as 33 bytes when canonical, else as text; both come back the same', async (t) => {
  const thumbprint = Buffer.alloc(32, 0x5a).toString('base64url')
  for (const kind of ['dbsc', 'dpop']) {
    const encoded = encodeBinding(`${kind}:${thumbprint}`)
    t.equal(stored(encoded).length, 33)
    t.equal(decodeBinding(stored(encoded)), `${kind}:${thumbprint}`)
  }
  for (const binding of ['', `dpop:${'B'.repeat(43)}`, 'other:thing', `dpop:${thumbprint}x`]) t.equal(decodeBinding(stored(encodeBinding(binding))), binding, binding)
  fc.assert(fc.property(fc.constantFrom('dbsc', 'dpop'), fc.uint8Array({ minLength: 32, maxLength: 32 }), (kind, bytes) => {
    const binding = `${kind}:${Buffer.from(bytes).toString('base64url')}`
    return decodeBinding(stored(encodeBinding(binding))) === binding
  }), { numRuns: 500 })
})
