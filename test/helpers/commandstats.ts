import type { Redis } from 'ioredis'

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
export async function commandCalls (admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats')
  const calls = new Map<string, number>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]))
  return calls
}

/**
 * The commands `client` sends over the network while `fn` runs, seen by a MONITOR on `admin`.
 * MONITOR tags the commands a script runs inside Redis with source `lua`: those are not round
 * trips, and lines from other connections are someone else's.
 */
export async function networkCommands (admin: Redis, client: Redis, fn: () => Promise<void>): Promise<string[]> {
  const source = `${client.stream.localAddress}:${client.stream.localPort}`
  const monitor = await admin.monitor()
  const seen: string[] = []
  monitor.on('monitor', (_time: string, args: string[], from: string) => {
    if (from === source) seen.push(String(args[0]).toLowerCase())
  })
  try {
    await fn()
    await new Promise((resolve) => setTimeout(resolve, 100)) // MONITOR lines trail the replies
  } finally {
    monitor.disconnect()
  }
  return seen
}
