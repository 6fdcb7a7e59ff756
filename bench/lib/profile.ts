/**
 * A V8 CPU profile (node --cpu-prof) boiled down to what dominates the server's JS thread: self
 * time by owner (our src/, each npm package, Node core, V8 natives, GC) and the hottest functions.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { REPO_ROOT } from './spawn.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

/**
 * --cpu-prof writes one file per thread, `CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile`;
 * the server is thread 0 (tsx's module loader is another).
 */
export function mainThreadProfile (dir: string): string {
  const file = readdirSync(dir).find((name) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(name))
  if (file === undefined) throw new Error(`no main-thread CPU profile in ${dir}`)
  return `${dir}/${file}`
}

export interface ProfileShare { name: string, ms: number, share: number }
export interface ProfileSummary {
  /** ms the profile covers, and ms the thread was not idle */
  totalMs: number
  busyMs: number
  owners: ProfileShare[]
  functions: ProfileShare[]
  /** ms with one of our src/ functions on the stack: our code and everything it calls (crypto, ioredis, fast-jwt...). */
  oursInclusiveMs: number
  /** Our functions by inclusive time. */
  oursInclusive: ProfileShare[]
}

export const OURS = 'fastify-refresh-sessions (src/)'

function ownerOf (frame: ProfileNode['callFrame']): string {
  const { functionName, url } = frame
  if (url === '') {
    if (functionName === '(garbage collector)') return 'V8 garbage collector'
    if (functionName === '(program)') return 'native, unattributed (V8, libuv, syscalls)'
    return 'V8 builtins and native bindings'
  }
  if (url.startsWith('node:')) return 'Node core (http, net, streams, crypto bindings)'
  const path = url.replace(/^file:\/\//, '')
  const modules = path.lastIndexOf('/node_modules/')
  if (modules !== -1) {
    const [first = '', second = ''] = path.slice(modules + '/node_modules/'.length).split('/')
    return first.startsWith('@') ? `${first}/${second}` : first
  }
  if (path.startsWith(`${REPO_ROOT}src/`)) return OURS
  if (path.startsWith(`${REPO_ROOT}bench/`)) return 'bench scenario code'
  return path
}

function where (frame: ProfileNode['callFrame']): string {
  const path = frame.url.replace(/^file:\/\//, '').replace(REPO_ROOT, '').replace(/^.*\/node_modules\//, '')
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName
  return path === '' ? name : `${name} (${path}:${frame.lineNumber + 1})`
}

/**
 * `window`: only samples taken between these two `process.hrtime` readings (µs) of the profiled
 * process count: the load, not start-up and minting. V8 stamps samples with the same monotonic clock.
 */
export function summarizeProfile (file: string, window: { fromUs: number, toUs: number } | null = null, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const oursInclusive = new Map<string, number>()
  let oursInclusiveMs = 0
  const owners = new Map<string, number>()
  const functions = new Map<string, number>()
  let idleMs = 0
  let totalMs = 0
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (window !== null && (at < window.fromUs || at > window.toUs)) return
    const frame = frames.get(id)
    if (frame === undefined) return
    const ms = delta / 1000
    totalMs += ms
    if (frame.functionName === '(idle)') {
      idleMs += ms
      return
    }
    const owner = ownerOf(frame)
    owners.set(owner, (owners.get(owner) ?? 0) + ms)
    const key = `${where(frame)} [${owner}]`
    functions.set(key, (functions.get(key) ?? 0) + ms)
    const seen = new Set<string>()
    for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) {
      const f = frames.get(node)!
      if (ownerOf(f) !== OURS || f.functionName === '') continue
      const name = where(f)
      if (!seen.has(name)) oursInclusive.set(name, (oursInclusive.get(name) ?? 0) + ms)
      seen.add(name)
    }
    if (seen.size > 0) oursInclusiveMs += ms
  })
  const busyMs = totalMs - idleMs
  const ranked = (map: Map<string, number>, limit: number): ProfileShare[] => [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }))
  return { totalMs, busyMs, owners: ranked(owners, Number.POSITIVE_INFINITY), functions: ranked(functions, top), oursInclusiveMs, oursInclusive: ranked(oursInclusive, top) }
}
