import { MemoryStore } from '../src/index.js'
import { storeContract } from './contract.js'

describe('MemoryStore', () => {
  // one map stands for the database both nodes share
  storeContract(async () => {
    const store = new MemoryStore()
    return { a: store, b: store, drop: async () => { await store.close() } }
  })
})
