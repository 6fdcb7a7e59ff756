/**
 * Loads the Lua scripts once per client with ioredis `defineCommand` (EVALSHA, EVAL on
 * NOSCRIPT). A script is `lua/<name>-<numKeys>.lua`; every script gets `lua/clock.lua` (time and
 * write deadlines) in front of it, session scripts `lua/session-rules.lua` and `lua/record.lua`
 * (the record layouts) too, so the rules they share are written once.
 */
import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

const read = (file: string): string => readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8')

/** The rules the session scripts share; exported for the test that proves they agree with their TypeScript home. */
export const SESSION_RULES = read('session-rules.lua')
const CLOCK = read('clock.lua')
const RECORD = read('record.lua')

export interface ScriptSource {
  lua: string
  numberOfKeys: number
}

export function scriptSource (file: string, options: { sessionRules?: boolean } = {}): ScriptSource {
  const numberOfKeys = /-(\d+)\.lua$/.exec(file)
  if (numberOfKeys === null) throw new Error(`script file ${file} does not name its number of keys`)
  const body = read(file)
  const preludes = options.sessionRules === true ? [CLOCK, SESSION_RULES, RECORD] : [CLOCK]
  return { lua: [...preludes, body].join('\n'), numberOfKeys: Number(numberOfKeys[1]) }
}

/** defineCommand is idempotent per name here: several stores and limiters may share one client. */
export function defineScripts (redis: Redis | Cluster, scripts: Record<string, ScriptSource>): void {
  for (const [name, source] of Object.entries(scripts)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, source)
  }
}
