/**
 * argon2.verify held until the test lets it go: a held verify keeps its place in the plugin's
 * argon2 queue, so which logins run, wait or are refused is counted, never timed. The real
 * verify runs once released.
 */
import argon2 from 'argon2'

export function holdVerifies (t: { teardown (fn: () => unknown): void }): { held: () => number, release: () => void } {
  const real = argon2.verify
  const waiting: Array<() => void> = []
  let holding = true
  argon2.verify = (async (...args: Parameters<typeof real>) => {
    if (holding) await new Promise<void>((resolve) => waiting.push(resolve))
    return await real(...args)
  }) as typeof real
  t.teardown(() => { argon2.verify = real })
  return { held: () => waiting.length, release: () => { holding = false; for (const go of waiting.splice(0)) go() } }
}

/** Polls a state (not a duration); throws rather than hang. */
export async function until (what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`never reached: ${what}`)
}
