/**
 * The peers that cannot be root devDependencies (better-auth: npm ERESOLVE against ours) live in
 * bench/peers/ with their own package.json and package-lock.json, installed there on demand:
 * `npm ci --prefix bench/peers --legacy-peer-deps`, only when its node_modules lacks them.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { REPO_ROOT } from './spawn.js'

const PEERS = `${REPO_ROOT}bench/peers`
const INSTALL_TIMEOUT_MS = 300_000

/** null when bench/peers is ready; otherwise why it could not be installed. */
export function ensurePeers (log: (line: string) => void): string | null {
  if (existsSync(`${PEERS}/node_modules/better-auth/package.json`)) return null
  log('[peers] installing bench/peers (better-auth): npm ci --prefix bench/peers --legacy-peer-deps')
  const result = spawnSync('npm', ['ci', '--prefix', PEERS, '--legacy-peer-deps', '--no-audit', '--no-fund'], { encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS })
  if (result.status === 0 && existsSync(`${PEERS}/node_modules/better-auth/package.json`)) return null
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n')
  return `npm ci --prefix bench/peers failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${output}`
}
