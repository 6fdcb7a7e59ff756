// Redis process harness for the tests and the benchmarks: starts real, throw-away
// redis-server processes (standalone or cluster) on free loopback ports, each with
// its own temp dir. Admin commands (INFO, CLUSTER INFO, ROLE) go through ioredis;
// `redis-cli --cluster create` assigns the slots.
//
// Safety rules baked in:
// - never port 6379 (a shared Redis lives there), never a port this process
//   already handed out;
// - every spawned pid is SIGKILLed (and its temp dir removed) on close(), on
//   process 'exit', and by a tiny `sh` watchdog when this process dies without
//   running 'exit' handlers (tap kills a timed-out test file with SIGALRM,
//   which skips them; so does SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, rmSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'

export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly url: string
  /** undefined while stopped or when external */
  readonly pid: number | undefined
  /** true when it came from REDIS_URL (cannot be stopped/restarted) */
  readonly external: boolean
  /** SIGKILL the process and wait for its exit; the port is free afterwards */
  stop(): Promise<void>
  /** start again on the same port with the same options (data dir kept) */
  start(): Promise<void>
  restart(): Promise<void>
  /** stop and delete the temp dir; idempotent */
  close(): Promise<void>
}

export interface StartRedisOptions {
  /** default false: `--save "" --appendonly no`; true: `--appendonly yes --appendfsync always` */
  appendonly?: boolean
  /** extra redis-server args, appended last so they override the defaults */
  args?: string[]
  /** default true: when REDIS_URL is set, return it instead of spawning */
  allowExternal?: boolean
}

export interface RedisCluster {
  /** all nodes, masters first */
  readonly nodes: { host: string; port: number }[]
  readonly masters: RedisServer[]
  readonly replicas: RedisServer[]
  close(): Promise<void>
}

export interface StartRedisClusterOptions {
  masters?: number
  replicasPerMaster?: number
}

interface Teardownable {
  teardown(fn: () => unknown): void
}

const HOST = '127.0.0.1'
const SHARED_PORT = 6379
const START_TIMEOUT_MS = 5_000
const CLUSTER_TIMEOUT_MS = 30_000
const PORT_ATTEMPTS = 5

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------- binaries

function onPath (bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    try {
      accessSync(path.join(dir, bin), fsConstants.X_OK)
      return true
    } catch {}
  }
  return false
}

export function requireRedisBinary (): void {
  if (!onPath('redis-server')) {
    throw new Error('redis-server not found on PATH: install it with `apt-get install redis-server`')
  }
}

function requireRedisCli (): void {
  if (!onPath('redis-cli')) {
    throw new Error('redis-cli not found on PATH: install it with `apt-get install redis-server`')
  }
}

// ---------------------------------------------------------------- process tracking

const TMP_PREFIX = 'rs-test-redis-'
const livePids = new Set<number>()
const liveDirs = new Set<string>()
let exitHookInstalled = false
let watchdog: ChildProcess | undefined

// The watchdog reads "add PID"/"del PID" and "dir NAME"/"undir NAME" lines
// (NAME: a temp dir's basename, inside $1 = os.tmpdir()). When our end of the
// pipe closes, however this process died, it kills and removes what is listed.
const WATCHDOG_SCRIPT = `p=" "; d=" "
drop() { n=" "; for x in $1; do [ "$x" = "$2" ] || n="$n$x "; done; echo "$n"; }
while read -r op arg; do
  case "$op" in
    add) p="$p$arg " ;;
    del) p=$(drop "$p" "$arg") ;;
    dir) d="$d$arg " ;;
    undir) d=$(drop "$d" "$arg") ;;
  esac
done
for x in $p; do kill -9 "$x" 2>/dev/null; done
cd "$1" && for x in $d; do rm -rf "./$x"; done`

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    for (const dir of liveDirs) {
      try {
        rmSync(dir, { recursive: true, force: true })
      } catch {}
    }
  })
}

function tellWatchdog (line: string): void {
  try {
    if (!watchdog) {
      watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'sh', os.tmpdir()], { stdio: ['pipe', 'ignore', 'ignore'] })
      watchdog.on('error', () => {})
      watchdog.stdin?.on('error', () => {})
      // must not keep the test process alive
      watchdog.unref()
      ;(watchdog.stdin as unknown as net.Socket | null)?.unref()
    }
    watchdog.stdin?.write(line + '\n')
  } catch {}
}

function track (child: ChildProcess): void {
  const pid = child.pid
  if (pid === undefined) return
  installExitHook()
  livePids.add(pid)
  tellWatchdog(`add ${pid}`)
  child.once('exit', () => {
    livePids.delete(pid)
    tellWatchdog(`del ${pid}`)
  })
}

async function makeTempDir (): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), TMP_PREFIX))
  installExitHook()
  liveDirs.add(dir)
  // basename is TMP_PREFIX + alphanumerics: safe as a word in the sh script
  if (/^[A-Za-z0-9_-]+$/.test(path.basename(dir))) tellWatchdog(`dir ${path.basename(dir)}`)
  return dir
}

async function removeTempDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  liveDirs.delete(dir)
  tellWatchdog(`undir ${path.basename(dir)}`)
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

async function killAndWait (child: ChildProcess): Promise<void> {
  if (child.pid === undefined || hasExited(child)) return
  child.ref() // the awaited 'exit' must keep the event loop alive
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGKILL')
  await exited
}

// ---------------------------------------------------------------- ports

// Ports handed out by this process: concurrent starts must not race each other.
const reservedPorts = new Set<number>()

function listenOnce (port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', () => resolve(undefined))
    srv.listen(port, HOST, () => {
      const addr = srv.address() as net.AddressInfo
      srv.close(() => resolve(addr.port))
    })
  })
}

async function pickPort (withBus: boolean): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await listenOnce(0)
    if (port === undefined || port === SHARED_PORT || reservedPorts.has(port)) continue
    if (withBus) {
      // cluster bus listens on port + 10000
      const bus = port + 10_000
      if (bus > 65_535 || bus === SHARED_PORT || reservedPorts.has(bus)) continue
      if ((await listenOnce(bus)) === undefined) continue
      reservedPorts.add(bus)
    }
    reservedPorts.add(port)
    return port
  }
  throw new Error('could not find a free loopback port for redis-server')
}

// ---------------------------------------------------------------- admin commands

/**
 * One admin exchange over a fresh ioredis connection that never retries, never queues and is
 * closed afterwards: a probe of a server that is still starting must fail fast, not reconnect.
 */
async function withAdminClient<T> (port: number, fn: (client: Redis) => Promise<T>, timeoutMs = 1_000): Promise<T> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  // connect() and the command reject with the failure; the event must not go unhandled
  client.on('error', () => {})
  try {
    await client.connect()
    return await fn(client)
  } finally {
    client.disconnect()
  }
}

// ---------------------------------------------------------------- spawned server

function logTail (file: string, from = 0): string {
  try {
    const text = readFileSync(file, 'latin1').slice(from)
    return text.trimEnd().split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}

class StartError extends Error {
  constructor (message: string, readonly addrInUse: boolean) {
    super(message)
  }
}

class LocalRedis implements RedisServer {
  readonly host = HOST
  readonly external = false
  #child: ChildProcess | undefined
  #closed = false
  #startedOnce = false
  #queue: Promise<unknown> = Promise.resolve()

  constructor (
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[],
    private readonly withBus: boolean
  ) {}

  releasePorts (): void {
    reservedPorts.delete(this.port)
    if (this.withBus) reservedPorts.delete(this.port + 10_000)
  }

  get url (): string {
    return `redis://${HOST}:${this.port}`
  }

  get pid (): number | undefined {
    const c = this.#child
    return c && !hasExited(c) ? c.pid : undefined
  }

  get logFile (): string {
    return path.join(this.dir, 'redis.log')
  }

  // start/stop/close are serialized so overlapping calls can't spawn twice
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn)
    this.#queue = p.catch(() => {})
    return p
  }

  start (): Promise<void> {
    return this.#serial(() => this.#start())
  }

  stop (): Promise<void> {
    return this.#serial(() => this.#stop())
  }

  restart (): Promise<void> {
    return this.#serial(async () => {
      await this.#stop()
      await this.#start()
    })
  }

  close (): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return
      this.#closed = true
      await this.#stop()
      await removeTempDir(this.dir)
      this.releasePorts()
    })
  }

  async #stop (): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child) await killAndWait(child)
  }

  async #start (): Promise<void> {
    if (this.#closed) throw new Error(`redis-server on port ${this.port} was closed; it cannot be started again`)
    if (this.pid !== undefined) return
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      try {
        await this.#launch(deadline)
        this.#startedOnce = true
        return
      } catch (err) {
        // On a restart the port is ours by contract: if something briefly holds
        // it (e.g. an outgoing connection's local port), wait and retry.
        const retry = this.#startedOnce && err instanceof StartError && err.addrInUse && Date.now() < deadline - 100
        if (!retry) throw err
        await sleep(100)
      }
    }
  }

  async #launch (deadline: number): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', HOST,
      '--protected-mode', 'no',
      '--daemonize', 'no',
      '--dir', this.dir,
      '--logfile', '', // log to stdout, which goes to redis.log below
      ...this.extraArgs,
    ]
    let logStart = 0
    try {
      logStart = statSync(this.logFile).size
    } catch {}
    const fd = openSync(this.logFile, 'a')
    let child: ChildProcess
    try {
      child = spawn('redis-server', args, { cwd: this.dir, stdio: ['ignore', fd, fd] })
    } finally {
      closeSync(fd)
    }
    let exitInfo: string | undefined
    child.once('exit', (code, signal) => (exitInfo = `exit code ${code}, signal ${signal}`))
    child.once('error', (err) => (exitInfo = err.message))
    track(child)
    child.unref() // a test that forgets close() must not hang; the exit hooks clean up
    this.#child = child

    const fail = async (why: string) => {
      await killAndWait(child)
      this.#child = undefined
      const tail = logTail(this.logFile, logStart)
      return new StartError(
        `redis-server on ${HOST}:${this.port} ${why}\n--- ${this.logFile} (tail) ---\n${tail}`,
        /Address already in use/i.test(tail)
      )
    }

    for (;;) {
      if (exitInfo !== undefined) throw await fail(`exited during startup (${exitInfo})`)
      if (Date.now() > deadline) throw await fail(`did not answer PING within ${START_TIMEOUT_MS} ms`)
      try {
        // Acts as PING, and the pid check proves the answer comes from *our*
        // process and not from someone else who won the race for the port.
        const info = await withAdminClient(this.port, (c) => c.info('server'), 500)
        if (typeof info === 'string' && info.match(/process_id:(\d+)/)?.[1] === String(child.pid)) return
      } catch {}
      await sleep(20)
    }
  }
}

class ExternalRedis implements RedisServer {
  readonly external = true
  readonly pid = undefined
  readonly host: string
  readonly port: number

  constructor (readonly url: string) {
    const u = new URL(url)
    this.host = u.hostname
    this.port = Number(u.port || 6379)
  }

  #refuse (what: string): Promise<never> {
    return Promise.reject(
      new Error(`cannot ${what} the external Redis from REDIS_URL (${this.url}); skip this test when server.external is true`)
    )
  }

  stop (): Promise<void> {
    return this.#refuse('stop')
  }

  start (): Promise<void> {
    return this.#refuse('start')
  }

  restart (): Promise<void> {
    return this.#refuse('restart')
  }

  async close (): Promise<void> {}
}

// Spawns one server on a fresh port; retries with another port when it loses
// the race for the port (another test file grabbed it between check and bind).
async function spawnRedis (extraArgs: string[], withBus: boolean): Promise<LocalRedis> {
  requireRedisBinary()
  const dir = await makeTempDir()
  for (let attempt = 1; ; attempt++) {
    const server = new LocalRedis(await pickPort(withBus), dir, extraArgs, withBus)
    try {
      await server.start()
      return server
    } catch (err) {
      server.releasePorts()
      if (attempt < PORT_ATTEMPTS && err instanceof StartError && err.addrInUse) continue
      await removeTempDir(dir)
      throw err
    }
  }
}

export async function startRedis (options: StartRedisOptions = {}): Promise<RedisServer> {
  const externalUrl = process.env.REDIS_URL
  if ((options.allowExternal ?? true) && externalUrl) return new ExternalRedis(externalUrl)
  const persistence = options.appendonly
    ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no']
  return spawnRedis([...persistence, ...(options.args ?? [])], false)
}

// ---------------------------------------------------------------- cluster

function run (cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // no stdin: CI has none, and redis-cli must never wait for a "yes"
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    track(child)
    let out = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${cmd} ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${out.trimEnd()}`))
    })
  })
}

const infoField = (info: string, field: string) => info.match(new RegExp(`^${field}:(.*)$`, 'm'))?.[1]?.trim()

// Why a node is not ready yet, or undefined when it is.
async function nodeNotReady (node: LocalRedis, totalNodes: number, replicasPerMaster: number): Promise<string | undefined> {
  const info = await withAdminClient(node.port, (c) => c.cluster('INFO'))
  if (typeof info !== 'string') return `CLUSTER INFO replied ${String(info)}`
  const state = infoField(info, 'cluster_state')
  const slotsOk = infoField(info, 'cluster_slots_ok')
  const known = infoField(info, 'cluster_known_nodes')
  if (state !== 'ok' || slotsOk !== '16384' || known !== String(totalNodes)) {
    return `cluster_state:${state} cluster_slots_ok:${slotsOk} cluster_known_nodes:${known}`
  }
  const role = await withAdminClient(node.port, (c) => c.role())
  if (!Array.isArray(role)) return `ROLE replied ${String(role)}`
  if (role[0] === 'slave' && role[3] !== 'connected') return `replica link is ${String(role[3])}`
  if (role[0] === 'master' && Array.isArray(role[2]) && role[2].length !== replicasPerMaster) {
    return `master sees ${role[2].length}/${replicasPerMaster} replicas`
  }
  return undefined
}

export async function startRedisCluster (options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3
  const replicasPerMaster = options.replicasPerMaster ?? 0
  if (!Number.isInteger(masterCount) || masterCount < 3) {
    throw new Error(`startRedisCluster: masters must be an integer >= 3 (redis-cli --cluster create needs 3), got ${masterCount}`)
  }
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error(`startRedisCluster: replicasPerMaster must be an integer >= 0, got ${replicasPerMaster}`)
  }
  requireRedisBinary()
  requireRedisCli()
  const total = masterCount * (1 + replicasPerMaster)
  const args = [
    '--save', '', '--appendonly', 'no',
    '--cluster-enabled', 'yes',
    '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', '2000',
    // default delay is 5 s before a diskless full sync starts: replicas would lag
    '--repl-diskless-sync-delay', '0',
  ]
  const settled = await Promise.allSettled(Array.from({ length: total }, () => spawnRedis(args, true)))
  const servers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const closeAll = () => Promise.all(servers.map((s) => s.close())).then(() => {})
  try {
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason

    await run(
      'redis-cli',
      ['--cluster', 'create', ...servers.map((s) => `${HOST}:${s.port}`),
        '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      CLUSTER_TIMEOUT_MS
    )

    const deadline = Date.now() + CLUSTER_TIMEOUT_MS
    for (;;) {
      const problems = await Promise.all(
        servers.map((s) => nodeNotReady(s, total, replicasPerMaster).catch((err: Error) => err.message))
      )
      const bad = problems.flatMap((p, i) => (p ? [`${servers[i]?.port}: ${p}`] : []))
      if (bad.length === 0) break
      if (Date.now() > deadline) throw new Error(`redis cluster not ready after ${CLUSTER_TIMEOUT_MS} ms:\n${bad.join('\n')}`)
      await sleep(100)
    }

    // redis-cli picks which nodes become masters: ask each node
    const roles = await Promise.all(servers.map((s) => withAdminClient(s.port, (c) => c.role())))
    const isMaster = (i: number) => Array.isArray(roles[i]) && roles[i]?.[0] === 'master'
    const masters = servers.filter((_, i) => isMaster(i))
    const replicas = servers.filter((_, i) => !isMaster(i))
    return {
      nodes: [...masters, ...replicas].map((s) => ({ host: s.host, port: s.port })),
      masters,
      replicas,
      close: closeAll,
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}

// ---------------------------------------------------------------- tap wrappers

export async function redisForTest (t: Teardownable, options?: StartRedisOptions): Promise<RedisServer> {
  const server = await startRedis(options)
  t.teardown(() => server.close())
  return server
}

export async function redisClusterForTest (t: Teardownable, options?: StartRedisClusterOptions): Promise<RedisCluster> {
  const cluster = await startRedisCluster(options)
  t.teardown(() => cluster.close())
  return cluster
}
