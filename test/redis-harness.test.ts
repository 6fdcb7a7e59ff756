import t from 'tap'
import { existsSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { Redis, Cluster } from 'ioredis'
import {
  redisClusterForTest,
  redisForTest,
  requireRedisBinary,
  startRedis,
  type RedisServer,
} from '../support/redis-harness.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Resolves 'connected' or the socket error code (e.g. 'ECONNREFUSED').
const probe = (port: number) =>
  new Promise<string>((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port })
    sock.once('connect', () => {
      sock.destroy()
      resolve('connected')
    })
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })

// Client that fails fast instead of retrying/queueing, and quits on teardown.
const client = (t: { teardown(fn: () => unknown): void }, server: RedisServer) => {
  const c = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  c.on('error', () => {})
  t.teardown(() => c.disconnect())
  return c
}

// the server's temp dir, read from its cwd (Linux only)
const cwdOf = (pid: number) => (process.platform === 'linux' ? readlinkSync(`/proc/${pid}/cwd`) : undefined)

const uniq = `rs-harness-${process.pid}-${Date.now()}`

t.test('requireRedisBinary', async (t) => {
  t.doesNotThrow(() => requireRedisBinary())
  const path = process.env.PATH
  process.env.PATH = '/nonexistent'
  try {
    t.throws(() => requireRedisBinary(), {
      message: 'redis-server not found on PATH: install it with `apt-get install redis-server`',
    })
  } finally {
    process.env.PATH = path
  }
})

t.test('standalone: set/get, stop, start on the same port, close', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.close())

  const c1 = client(t, server)
  await c1.connect()
  t.equal(await c1.set(`${uniq}:a`, '1'), 'OK')
  t.equal(await c1.get(`${uniq}:a`), '1')
  await c1.del(`${uniq}:a`)
  c1.disconnect()

  if (server.external) {
    t.rejects(server.stop(), /external/)
    t.pass('external server (REDIS_URL): stop/start/close parts skipped')
    return
  }

  t.equal(server.host, '127.0.0.1')
  t.not(server.port, 6379)
  t.equal(server.url, `redis://127.0.0.1:${server.port}`)
  const c0 = client(t, server)
  await c0.connect()
  t.same(await c0.config('GET', 'save'), ['save', ''], 'no RDB snapshots')
  t.same(await c0.config('GET', 'appendonly'), ['appendonly', 'no'])
  c0.disconnect()
  const pid1 = server.pid
  t.type(pid1, 'number')
  const dir = cwdOf(pid1!)
  if (dir) t.match(dir, /rs-test-redis-/)

  await server.stop()
  t.equal(server.pid, undefined)
  t.notOk(alive(pid1!), 'old process is gone')
  t.equal(await probe(server.port), 'ECONNREFUSED')
  // ioredis rejects connect()/commands with generic messages; the
  // ECONNREFUSED only shows up on the 'error' event
  const c2 = client(t, server)
  const errors: string[] = []
  c2.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))
  await t.rejects(c2.connect(), /Connection is closed/)
  await t.rejects(c2.get('x'), /Connection is closed|enableOfflineQueue/)
  t.ok(errors.includes('ECONNREFUSED'), `ioredis saw ECONNREFUSED: ${errors.join(',')}`)
  await server.stop() // stopping a stopped server is a no-op

  await server.start()
  const pid2 = server.pid
  t.type(pid2, 'number')
  t.not(pid2, pid1)
  const c3 = client(t, server)
  await c3.connect()
  t.equal(await c3.get(`${uniq}:a`), null, 'without appendonly nothing survives')
  t.equal(await c3.set('b', '2'), 'OK')
  c3.disconnect()

  await server.close()
  t.equal(server.pid, undefined)
  t.notOk(alive(pid2!), 'process is gone after close')
  if (dir) t.notOk(existsSync(dir), 'temp dir removed')
  await server.close() // idempotent
  await t.rejects(server.start(), /closed/)
})

t.test('a server that fails to start reports its log', async (t) => {
  await t.rejects(startRedis({ args: ['--no-such-directive', 'x'], allowExternal: false }), {
    message: /exited during startup[\s\S]*Bad directive/,
  })
})

t.test('appendonly: data survives restart', async (t) => {
  const server = await redisForTest(t, { appendonly: true })
  if (server.external) return t.pass('external server (REDIS_URL): restart part skipped')
  const c1 = client(t, server)
  await c1.connect()
  await c1.set('persisted', 'yes')
  c1.disconnect()

  const pid1 = server.pid
  await server.restart()
  t.not(server.pid, pid1)
  const c2 = client(t, server)
  await c2.connect()
  t.equal(await c2.get('persisted'), 'yes')
  c2.disconnect()
})

t.test('redisForTest closes the server on teardown', async (t) => {
  let pid: number | undefined
  let external = false
  await t.test('inner', async (t) => {
    const server = await redisForTest(t)
    external = server.external
    pid = server.pid
    const c = client(t, server)
    await c.connect()
    t.equal(await c.ping(), 'PONG')
    c.disconnect()
  })
  if (external) return
  t.type(pid, 'number')
  t.notOk(alive(pid!), 'pid gone after the inner test ended')
})

t.test('cluster: 3 masters', async (t) => {
  let pids: number[] = []
  await t.test('inner', async (t) => {
    const rc = await redisClusterForTest(t)
    t.equal(rc.masters.length, 3)
    t.equal(rc.replicas.length, 0)
    t.equal(rc.nodes.length, 3)
    pids = rc.masters.map((m) => m.pid!)
    t.ok(pids.every((p) => typeof p === 'number' && alive(p)))

    const cluster = new Cluster(rc.nodes, { enableOfflineQueue: true })
    t.teardown(() => cluster.disconnect())
    const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`)
    for (const k of keys) await cluster.set(k, k)
    for (const k of keys) t.equal(await cluster.get(k), k)
    const info = (await cluster.cluster('INFO')) as string
    t.match(info, /cluster_state:ok/)

    // keys really are spread over the masters
    const sizes = await Promise.all(
      rc.masters.map(async (m) => {
        const c = new Redis(m.port, m.host)
        try {
          return await c.dbsize()
        } finally {
          c.disconnect()
        }
      })
    )
    t.equal(sizes.reduce((a, b) => a + b, 0), keys.length)
    t.ok(sizes.every((n) => n > 0), `every master holds keys: ${sizes.join(',')}`)
  })
  t.equal(pids.length, 3)
  t.ok(pids.every((p) => !alive(p)), 'all cluster pids gone after close')
})

t.test('cluster: 3 masters + 1 replica each', async (t) => {
  const rc = await redisClusterForTest(t, { replicasPerMaster: 1 })
  t.equal(rc.masters.length, 3)
  t.equal(rc.replicas.length, 3)
  t.same(
    rc.nodes.map((n) => n.port),
    [...rc.masters, ...rc.replicas].map((s) => s.port),
    'masters first'
  )
  const cluster = new Cluster(rc.nodes.slice(0, 1), { scaleReads: 'slave' })
  t.teardown(() => cluster.disconnect())
  await cluster.set('{r}k', 'v')
  // reads go to replicas (ioredis sends READONLY); replication is async, so poll
  let value: string | null = null
  for (let i = 0; i < 100 && value !== 'v'; i++) {
    value = await cluster.get('{r}k')
    if (value !== 'v') await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(value, 'v')
  for (const r of rc.replicas) t.type(r.pid, 'number')
})
