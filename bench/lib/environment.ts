/** What RESULTS.md says about the machine and the software a run measured. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { createRequire } from 'node:module'
import { REPO_ROOT } from './spawn.js'

export interface Environment {
  cpuModel: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  redis: string
  loadAverage: number[]
  packages: Array<[name: string, version: string]>
}

const PACKAGES = ['fastify', '@fastify/jwt', 'fast-jwt', '@fastify/cookie', '@fastify/session', '@fastify/secure-session', 'connect-redis', 'ioredis', 'ioredis-6', 'argon2', 'autocannon', 'tsx']
/** Resolved from bench/peers/ (see lib/peers.ts). */
const PEER_PACKAGES = ['better-auth']

function packageVersion (name: string, from = REPO_ROOT): string {
  const require = createRequire(`${from}package.json`)
  try {
    // Not every package exports its package.json: read it from where the entry point resolves.
    let dir = require.resolve(name).replace(/\/[^/]*$/, '')
    for (;;) {
      try {
        const json = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { name?: string, version?: string }
        // An npm alias (ioredis-6) keeps the real package's name: its folder has the alias'.
        if (json.name === name || dir.endsWith(`/node_modules/${name}`)) return json.version ?? '?'
      } catch {}
      const up = dir.replace(/\/[^/]*$/, '')
      if (up === dir || up === '') return 'not installed'
      dir = up
    }
  } catch {
    return 'not installed'
  }
}

export function environment (): Environment {
  const cpuinfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8') } catch { return '' } })()
  const ours = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { name: string, version: string }
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: redisVersion(),
    loadAverage: os.loadavg(),
    packages: [
      [ours.name, ours.version],
      ...PACKAGES.map((name) => [name, packageVersion(name)] as [string, string]),
      ...PEER_PACKAGES.map((name) => [`${name} (bench/peers)`, packageVersion(name, `${REPO_ROOT}bench/peers/`)] as [string, string])
    ]
  }
}

function redisVersion (): string {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return 'redis-server not found'
  }
}
