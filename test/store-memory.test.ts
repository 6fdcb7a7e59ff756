import t from 'tap'
import { MemoryStore } from '../src/session/memory-store.js'
import { SessionCore } from '../src/session/session-core.js'
import { storeContract } from './helpers/store-contract.js'

storeContract(t, async (limits, count = 1) => {
  const sessions = new SessionCore(new MemoryStore(limits))
  t.teardown(() => sessions.close())
  return Array.from({ length: count }, () => sessions)
})
