/** The refresh cookie as the load generators and bench servers read it; no dependencies, so scenario servers can import it. */

/** The plugin's default refresh cookie name, which every app put under load here keeps. */
export const REFRESH_COOKIE = 'refresh_token'

/** The value of cookie `name` in a Set-Cookie header (one string or several), or null. */
export function setCookieValue (header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null
  for (const line of Array.isArray(header) ? header : [header]) {
    if (!line.startsWith(`${name}=`)) continue
    const end = line.indexOf(';')
    const value = line.slice(name.length + 1, end === -1 ? undefined : end)
    return value === '' ? null : decodeURIComponent(value)
  }
  return null
}
