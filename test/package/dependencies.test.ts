/**
 * package.json's dependencies are exactly what the shipped code imports: no dependency that nothing
 * imports (issue 9: @fastify/rate-limit was one), no import that a user's install would lack.
 */
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>, peerDependencies: Record<string, string> }

/** The package names of every bare import in src/ (type-only imports included: the .d.ts need them too). */
function importedPackages (): Set<string> {
  const names = new Set<string>()
  const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'))
  for (const file of files) {
    const text = readFileSync(path.join(root, 'src', file), 'utf8')
    for (const match of text.matchAll(/(?:from|import|reference types=)\s*['"]([^'"]+)['"]/g)) {
      const specifier = match[1]!
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue
      const parts = specifier.split('/')
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
    }
  }
  return names
}

t.test('every dependency is imported by src/, every import is a dependency or a peer', async (t) => {
  const imported = importedPackages()
  t.ok(imported.size > 0, `src/ imports ${[...imported].join(', ')}`)
  t.same(Object.keys(pkg.dependencies).filter((name) => !imported.has(name)), [], 'no dependency that nothing imports')
  t.same([...imported].filter((name) => pkg.dependencies[name] === undefined && pkg.peerDependencies[name] === undefined), [], 'no import outside dependencies and peerDependencies')
  t.same(Object.keys(pkg.peerDependencies).sort(), ['fastify', 'ioredis'], 'fastify and ioredis are peers')
  t.same(Object.keys(pkg.dependencies).filter((name) => pkg.peerDependencies[name] !== undefined), [], 'a peer is never also a dependency')
})
