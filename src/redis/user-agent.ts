/**
 * The user agent as a Redis record keeps it: the longest field of a session (111 to 135
 * characters for today's browsers), most of it boilerplate every browser repeats. Substrings of
 * a fixed dictionary are replaced by one control character each (none of which an HTTP header
 * value may contain), which takes a desktop Chrome user agent from 111 characters to 12. Lossless:
 * decode gives back exactly what was encoded, whatever it was; a value that itself contains a
 * control character is kept as it is behind an escape character.
 *
 * Records of layout 1 (0.1.0) keep the user agent as it came; decoding it changes nothing, since
 * a header value has no control characters to expand.
 */

/** Order is the format: entry i is written as CODES[i]. Append only; never reorder or remove. */
const DICTIONARY = [
  'Mozilla/5.0 (',
  ') AppleWebKit/537.36 (KHTML, like Gecko) Chrome/',
  ') AppleWebKit/605.1.15 (KHTML, like Gecko)',
  ' Safari/537.36',
  ' Mobile Safari/537.36',
  'Windows NT 10.0; Win64; x64',
  'Macintosh; Intel Mac OS X 10_15_7',
  'Macintosh; Intel Mac OS X 10.15',
  'X11; Linux x86_64',
  'Linux; Android 10; K',
  'iPhone; CPU iPhone OS ',
  'iPad; CPU OS ',
  ' like Mac OS X',
  ' Version/',
  ' Mobile/15E148 Safari/604.1',
  ' Safari/605.1.15',
  '; rv:',
  ') Gecko/20100101 Firefox/',
  ' Edg/',
  '.0.0.0',
  'CriOS/',
  ' OPR/',
  'SamsungBrowser/'
]
/** Control characters other than tab, line feed and carriage return, one per entry. */
const CODES = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26].map((c) => String.fromCharCode(c))
/** Starts a value kept as it is (one that contains a control character of its own). */
const ESCAPE = '\x1f'
const CONTROL = /[\x00-\x1f]/ // eslint-disable-line no-control-regex
const CODE = new RegExp(`[${CODES.join('')}]`, 'g')
const EXPAND = new Map(CODES.map((code, i) => [code, DICTIONARY[i]!]))
/** Longest first, so that an entry inside another (' Safari/537.36') does not break it up. */
const BY_LENGTH = DICTIONARY.map((entry, i) => [entry, CODES[i]!] as const).sort(([a], [b]) => b.length - a.length)

export function encodeUserAgent (userAgent: string): string {
  if (CONTROL.test(userAgent)) return ESCAPE + userAgent
  let encoded = userAgent
  for (const [entry, code] of BY_LENGTH) {
    if (encoded.includes(entry)) encoded = encoded.replaceAll(entry, code)
  }
  return encoded
}

export function decodeUserAgent (stored: string): string {
  if (stored.startsWith(ESCAPE)) return stored.slice(1)
  return CONTROL.test(stored) ? stored.replace(CODE, (code) => EXPAND.get(code)!) : stored
}
