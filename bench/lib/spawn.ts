/**
 * The runner side of the scenario protocol (see child.ts): fork one scenario file per process
 * with `node --import tsx`, wait for its port, stop it by its pid.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const READY_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 15_000

export interface ScenarioProcess {
  readonly pid: number
  readonly port: number
  /** What the scenario handed over when ready: tokens, cookies, user names. */
  readonly data: unknown
  /** Sends `message` and waits for the first reply of type `replyType`. */
  ask<T> (message: object, replyType: string): Promise<T>
  stop (): Promise<void>
}

export interface StartOptions {
  env?: Record<string, string>
  /** Write V8 CPU profiles (one per thread: tsx's loader has its own) of the process life to this directory. */
  cpuProfileDir?: string
}

export async function startScenario (file: string, options: StartOptions = {}): Promise<ScenarioProcess> {
  const execArgv = ['--import', 'tsx']
  if (options.cpuProfileDir !== undefined) execArgv.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir)
  const child = fork(file, [], {
    cwd: REPO_ROOT,
    execPath: process.execPath,
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${file}`)
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-4000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  try {
    const ready = await nextMessage<{ port: number, data: unknown }>(child, 'ready', READY_TIMEOUT_MS, () => output)
    return {
      pid,
      port: ready.port,
      data: ready.data,
      ask: async <T>(message: object, replyType: string) => {
        const reply = nextMessage<T>(child, replyType, READY_TIMEOUT_MS, () => output)
        child.send(message)
        return await reply
      },
      stop: async () => await stop(child, pid, exited)
    }
  } catch (error) {
    await stop(child, pid, exited)
    throw new Error(`${file}: ${(error as Error).message}`)
  }
}

async function stop (child: ChildProcess, pid: number, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  try { child.send({ type: 'stop' }) } catch {}
  const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL') } catch {} }, STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

function nextMessage<T> (child: ChildProcess, type: string, timeoutMs: number, output: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const onMessage = (message: { type: string, message?: string }): void => {
      if (message.type === type) {
        done()
        resolve(message as T)
      } else if (message.type === 'error') {
        done()
        reject(new Error(`scenario failed: ${message.message ?? ''}\n${output()}`))
      }
    }
    const onExit = (code: number | null, signal: string | null): void => {
      done()
      reject(new Error(`scenario exited (code ${code}, signal ${signal}) before '${type}'\n${output()}`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no '${type}' within ${timeoutMs} ms\n${output()}`))
    }, timeoutMs)
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}
