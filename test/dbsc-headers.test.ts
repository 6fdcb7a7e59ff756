/** The DBSC structured headers: what is written, and both forms that are read (the draft's sf-string, Chromium's bare value). */
import t from 'tap'
import { challengeHeader, readStringField, registrationHeader } from '../src/binding/dbsc/headers.js'

t.test('written as RFC 9651 structured fields', async (t) => {
  t.equal(registrationHeader('/auth/dbsc/register', 'c'.repeat(43)), `(ES256 RS256);path="/auth/dbsc/register";challenge="${'c'.repeat(43)}"`)
  t.equal(registrationHeader('/a"b\\c/é', 'x'), '(ES256 RS256);path="/a%22b%5Cc/%C3%A9";challenge="x"', 'a path is percent-encoded, so it is printable ASCII without quotes')
  t.equal(challengeHeader('abc', 'AAAAAAAAAAAAAAAAAAAAAA'), '"abc";id="AAAAAAAAAAAAAAAAAAAAAA"')
  t.throws(() => challengeHeader('a\nb', 'id'), TypeError, 'never a control character')
})

t.test('read: an sf-string or a bare value, parameters ignored', async (t) => {
  const cases: Array<[string | string[] | undefined, string | null]> = [
    ['eyJ.a.b', 'eyJ.a.b'],
    ['  eyJ.a.b  ', 'eyJ.a.b'],
    ['eyJ.a.b;x=1', 'eyJ.a.b'],
    ['"eyJ.a.b"', 'eyJ.a.b'],
    ['"eyJ.a.b";x="y"', 'eyJ.a.b'],
    ['"a\\"b\\\\c"', 'a"b\\c'],
    ['"a\\nb"', null],
    ['"unterminated', null],
    ['""', null],
    ['', null],
    [';x=1', null],
    [undefined, null],
    [['a', 'b'], null]
  ]
  for (const [value, expected] of cases) t.equal(readStringField(value), expected, JSON.stringify(value))
})
