/** The thread ids of libuv's pool (named `libuv-worker` by Node 22 and later), started if need be; [] where there is no /proc. */
import { randomFill } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'

export async function poolThreads (): Promise<number[]> {
  if (process.platform !== 'linux') return []
  await new Promise((resolve) => { randomFill(new Uint8Array(1), resolve) })
  return readdirSync('/proc/self/task')
    .filter((task) => readFileSync(`/proc/self/task/${task}/comm`, 'latin1') === 'libuv-worker\n')
    .map(Number)
    .sort((a, b) => a - b)
}
