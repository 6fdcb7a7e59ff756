import t from 'tap'
import { MemoryStore } from '../src/session/memory-store.js'
import { storeContract } from './helpers/store-contract.js'

storeContract(t, async (limits, count = 1) => {
  const store = new MemoryStore(limits)
  t.teardown(() => store.close())
  return Array.from({ length: count }, () => store)
})
