/**
 * The public types: test/types/usage.ts (real usage) must compile, test/types/misuse.fail.ts
 * must fail with exactly the errors its `// expect TSxxxx <text>` comments name. One tsc run over
 * both files, with the project's strict compiler options (test/types/tsconfig.json extends them).
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const FAIL_FILE = 'test/types/misuse.fail.ts'

interface Diagnostic { file: string, line: number, code: string, text: string }

function runTsc (): Promise<{ exitCode: number, output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '--pretty', 'false', '-p', 'test/types/tsconfig.json'], { cwd: root, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ exitCode: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: stdout + stderr })
    })
  })
}

/** `file(line,col): error TSxxxx: message`, with the indented lines that follow as part of its text. */
function parse (output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = []
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line)
    if (match !== null) diagnostics.push({ file: match[1]!.replaceAll('\\', '/'), line: Number(match[2]), code: match[3]!, text: match[4]! })
    else if (/^\s+\S/.test(line) && diagnostics.length > 0) diagnostics.at(-1)!.text += '\n' + line.trim()
  }
  return diagnostics
}

/** line number -> [code, text that must appear in the message] from the `// expect` comments. */
function expectations (): Map<number, { code: string, text: string }> {
  const expected = new Map<number, { code: string, text: string }>()
  readFileSync(new URL(`../${FAIL_FILE}`, import.meta.url), 'utf8').split('\n').forEach((line, index) => {
    const match = /\/\/ expect (TS\d+)(?: (.+))?$/.exec(line)
    if (match !== null) expected.set(index + 1, { code: match[1]!, text: match[2] ?? '' })
  })
  return expected
}

t.test('the project tsconfig leaves the must-not-compile file out', async (t) => {
  const config = JSON.parse(readFileSync(new URL('../tsconfig.json', import.meta.url), 'utf8')) as { include: string[], exclude: string[] }
  t.ok(config.include.includes('test'), 'test/ (so test/types/usage.ts) is type-checked by npm run typecheck')
  t.ok(config.exclude.includes('test/types/*.fail.ts'), 'test/types/*.fail.ts is excluded')
})

t.test('usage.ts compiles; misuse.fail.ts fails with exactly the expected errors', async (t) => {
  const { exitCode, output } = await runTsc()
  const diagnostics = parse(output)
  t.not(exitCode, 0, 'tsc fails')
  t.ok(diagnostics.length > 0, `tsc reported ${diagnostics.length} errors`)

  const elsewhere = diagnostics.filter((d) => d.file !== FAIL_FILE)
  t.same(elsewhere, [], 'no error outside misuse.fail.ts: usage.ts (and the sources) compile')

  const expected = expectations()
  t.ok(expected.size >= 20, `${expected.size} misuses`)
  for (const [line, { code, text }] of expected) {
    const found = diagnostics.filter((d) => d.file === FAIL_FILE && d.line === line)
    t.same(found.map((d) => d.code), [code], `line ${line}: ${code}`)
    t.ok(found.some((d) => d.text.includes(text)), `line ${line}: the message says ${text}`, { found: found.map((d) => d.text.split('\n').at(-1)) })
  }
  const unexpected = diagnostics.filter((d) => d.file === FAIL_FILE && !expected.has(d.line))
  t.same(unexpected, [], 'no error on an unmarked line')
})
