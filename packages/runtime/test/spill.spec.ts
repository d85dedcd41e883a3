import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { definePool } from '../src/pool.js'
import type { Runtime } from '../src/runtime.js'
import { LocalCluster, settle } from './fixtures.js'

const pool = definePool<{ n: number }, 'inc' | 'get', number>({
  name: 'c',
  init: () => ({ n: 0 }),
  handle: (s, m) => m === 'inc' ? ++s.n : s.n
})

/**
 * Spill: a node at its hard limit for a pool (target × 1.5) activates no new worker of it;
 * the next node on the ring does, `where` says so, and the worker comes back with its state
 * once the owner is below its soft limit (target × 1.25).
 */
describe('Spill at the hard limit', () => {
  let clock: ManualClock
  let cluster: LocalCluster
  let a: Runtime
  let b: Runtime
  let mine: string[]

  beforeEach(() => {
    clock = new ManualClock()
    cluster = new LocalCluster(clock)
    a = cluster.add('A', { pools: [pool], targets: { c: 10 } }) // hard limit 15, soft 13
    b = cluster.add('B', { pools: [pool], targets: { c: 1_000 } })
    mine = []
    for (let i = 0; mine.length < 30; i++) if (cluster.views.get('A')?.ownerOf('c', `w${i}`) === 'A') mine.push(`w${i}`)
  })
  afterEach(async () => { await cluster.stop() })

  it('sends new workers past the hard limit to the next node on the ring; where says so, and state stays with them', async () => {
    for (const [i, id] of mine.entries()) expect(await (i % 2 === 0 ? a : b).ref('c', id).call('inc')).to.equal(1)
    expect(await a.count('c', { local: true })).to.equal(15)
    expect(await b.count('c', { local: true })).to.equal(15)
    expect(a.localPool('c')?.stats.counters.spilled).to.equal(15)
    const spilled = mine.slice(15)
    for (const id of spilled) {
      expect(await a.where('c', id)).to.deep.include({ node: 'B' })
      expect(await b.where('c', id)).to.deep.include({ node: 'B' })
      expect(await a.ref('c', id).call('inc')).to.equal(2)
      a.ref('c', id).cast('inc')
      b.ref('c', id).cast('inc')
    }
    await settle()
    for (const id of spilled) expect(await b.ref('c', id).call('get')).to.equal(4)
    for (const id of mine.slice(0, 15)) expect(await a.where('c', id)).to.deep.include({ node: 'A' })
    expect(await a.count('c')).to.equal(30)
  })

  it('spills from spawnMany too', async () => {
    expect(await a.spawnMany('c', mine)).to.equal(30)
    expect(await a.count('c', { local: true })).to.equal(15)
    expect(await b.count('c', { local: true })).to.equal(15)
    expect(await b.spawnMany('c', mine)).to.equal(30)
    expect(await a.count('c')).to.equal(30)
  })

  it('takes a spilled worker back, state and all, once below the soft limit', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    const back = mine[20]
    expect(await a.where('c', back)).to.deep.include({ node: 'B' })
    for (const id of mine.slice(0, 5)) expect(await a.stopWorker('c', id)).to.equal(true)
    expect(await a.count('c', { local: true })).to.equal(10) // below the soft limit of 13
    expect(await b.ref('c', back).call('inc')).to.equal(2)
    expect(await a.where('c', back)).to.deep.include({ node: 'A' })
    expect(await b.count('c', { local: true })).to.equal(14)
    expect(await a.count('c')).to.equal(25)
  })

  it('stops a spilled worker through its owner', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    const id = mine[29]
    expect(await b.stopWorker('c', id)).to.equal(true)
    expect(await a.where('c', id)).to.equal(null)
    expect(await b.count('c', { local: true })).to.equal(14)
  })
})
