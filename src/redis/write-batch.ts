/**
 * One socket write per event-loop turn instead of one per command. ioredis writes every command
 * to its socket at once, a system call each (the largest item of a refresh's profile); commands
 * sent while the socket is corked go out together, in one writev, when the turn's I/O callbacks
 * are done (setImmediate runs right after them): Redis then also reads them in one go. Nothing
 * waits on a timer, and the order of commands on the connection is unchanged.
 *
 * Only a standalone client's own socket is corked; a Cluster routes each command to a node's
 * connection of its own choosing, and is left as it is.
 */
import type { Cluster, Redis } from 'ioredis'

interface Corkable { cork (): void, uncork (): void }

/** The sockets corked in this turn: each is uncorked exactly once, by the setImmediate that corked it. */
const corked = new WeakSet<Corkable>()

function uncork (stream: Corkable): void {
  corked.delete(stream)
  stream.uncork()
}

/** Call before sending a command on `redis`: it is then written with the other commands of this turn. */
export function batchWrites (redis: Redis | Cluster): void {
  const stream = (redis as { stream?: Corkable }).stream
  if (stream === undefined || typeof stream.cork !== 'function' || corked.has(stream)) return
  stream.cork()
  corked.add(stream)
  setImmediate(uncork, stream)
}
