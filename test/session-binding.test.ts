/** The binding format: `<kind>:<RFC 7638 SHA-256 thumbprint>`, nothing else. */
import t from 'tap'
import { formatBinding, parseBinding } from '../src/session/binding.js'

const thumbprint = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'

t.test('format and parse are inverses for both kinds', async (t) => {
  for (const kind of ['dbsc', 'dpop'] as const) {
    const text = formatBinding({ kind, thumbprint })
    t.equal(text, `${kind}:${thumbprint}`)
    t.same(parseBinding(text), { kind, thumbprint })
  }
})

t.test('anything else is no binding, and cannot be formatted', async (t) => {
  for (const text of [null, undefined, '', 'dpop:', `dpop:${thumbprint}x`, `dpop:${thumbprint.slice(1)}`, `mtls:${thumbprint}`, `DPOP:${thumbprint}`, `dpop:${thumbprint.slice(1)}+`, ` dpop:${thumbprint}`]) {
    t.equal(parseBinding(text), null, JSON.stringify(text))
  }
  t.throws(() => formatBinding({ kind: 'mtls' as 'dpop', thumbprint }), TypeError)
  t.throws(() => formatBinding({ kind: 'dpop', thumbprint: thumbprint + '=' }), TypeError)
})
