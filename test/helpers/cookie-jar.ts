/** A cookie jar for Node's fetch, as a browser keeps the refresh cookie: for tests that talk to a real server. */
export interface JarFetch { fetch: typeof fetch, cookies: Map<string, { value: string, path: string }> }

/** Node's fetch keeps no cookies: this one stores Set-Cookie and sends Cookie (honouring Path and Max-Age=0). */
export function cookieJarFetch (): JarFetch {
  const cookies = new Map<string, { value: string, path: string }>()
  const jarFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input)
    const headers = new Headers(init.headers)
    const sent = [...cookies].filter(([, cookie]) => url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
    if (sent.length > 0) headers.set('cookie', sent.map(([name, cookie]) => `${name}=${cookie.value}`).join('; '))
    const response = await fetch(url, { ...init, headers })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim())
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at)
      const value = pair!.slice(at + 1)
      const attribute = (key: string): string | undefined => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1)
      if (attribute('max-age') === '0' || value === '') cookies.delete(name)
      else cookies.set(name, { value, path: attribute('path') ?? '/' })
    }
    return response
  }
  return { fetch: jarFetch as typeof fetch, cookies }
}
