import { expect } from 'chai'
import { definePool } from '../../src/pool.js'
import type { Runtime } from '../../src/runtime.js'
import { settle, useCluster } from '../fixtures.js'

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
  const t = useCluster()
  let a: Runtime
  let b: Runtime
  let mine: string[]

  beforeEach(() => {
    a = t.cluster.add('A', { pools: [pool], targets: { c: 10 } }) // hard limit 15, soft 13
    b = t.cluster.add('B', { pools: [pool], targets: { c: 1_000 } })
    mine = []
    for (let i = 0; mine.length < 30; i++) if (t.cluster.views.get('A')?.ownerOf('c', `w${i}`) === 'A') mine.push(`w${i}`)
  })
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

  it('keeps spilled workers where they are when the ring moves but their owner does not', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    const spilled = mine.slice(15)
    t.cluster.add('C', { pools: [pool], targets: { c: 1 } })
    const stillA = spilled.filter(id => t.cluster.views.get('B')?.ownerOf('c', id) === 'A')
    expect(stillA.length).to.be.above(5)
    for (let step = 0; step < 100; step++) {
      t.clock.advance(10)
      await settle()
    }
    for (const id of stillA) expect(await a.where('c', id)).to.deep.include({ node: 'B' })
    expect(b.localPool('c')?.stats.counters.migratedOut).to.equal(0)
  })

  it('gives spilled workers back to their owner when the node they spilled to is drained', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    b.setTarget('c', 0)
    t.cluster.retarget('B', { c: 0 })
    for (let step = 0; step < 100; step++) {
      t.clock.advance(10)
      await settle()
    }
    expect(await b.count('c', { local: true })).to.equal(0)
    expect(await a.count('c', { local: true })).to.equal(30)
    for (const id of mine) expect(await a.ref('c', id).call('get')).to.equal(1)
    expect(a.spillTables('c')?.spilled.size).to.equal(0)
  })

  it('forgets a pointer when the worker ends where it spilled, and spills it there again on its next message', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    const id = mine[29]
    expect(a.spillTables('c')?.spilled.get(id)).to.equal('B')
    expect(await b.stopWorker('c', id)).to.equal(true)
    await settle()
    expect(a.spillTables('c')?.spilled.has(id)).to.equal(false)
    expect(b.spillTables('c')?.spilledFrom.has(id)).to.equal(false)
    // the owner is still full: the next message starts it on B again, and the pointer is back
    expect(await a.ref('c', id).call('inc')).to.equal(1)
    await settle()
    expect(a.spillTables('c')?.spilled.get(id)).to.equal('B')
    expect(b.spillTables('c')?.spilledFrom.get(id)).to.equal('A')
  })

  it('gives an owner that lost its pointers (a restart) them back on the next ring change', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    a.spillTables('c')?.spilled.clear()
    t.cluster.add('C', { pools: [pool], targets: { c: 1 } })
    await settle()
    const staying = mine.slice(15).filter(id => t.cluster.views.get('B')?.ownerOf('c', id) === 'A')
    expect(staying.length).to.be.above(5)
    for (const id of staying) expect(a.spillTables('c')?.spilled.get(id)).to.equal('B')
  })

  it('refuses a spill the next node cannot take (at its own hard limit), and the owner forgets the pointer', async () => {
    b.setTarget('c', 10) // hard limit 15 on B too, though the ring still weighs it at 1000
    for (const id of mine) await a.ref('c', id).call('inc')
    expect(await b.count('c', { local: true })).to.equal(15)
    let over = ''
    for (let i = 0; over === ''; i++) if (t.cluster.views.get('A')?.ownerOf('c', `z${i}`) === 'A') over = `z${i}`
    expect(await a.ref('c', over).call('inc').then(() => 'answered', (err: Error) => err.name)).to.equal('OverloadedError')
    await settle()
    expect(a.spillTables('c')?.spilled.has(over)).to.equal(false)
    // reads never start anything, so they never fail for the limit
    expect(await a.where('c', over)).to.equal(null)
    expect(await a.stopWorker('c', over)).to.equal(false)
  })

  it('stops a spilled worker through its owner', async () => {
    for (const id of mine) await a.ref('c', id).call('inc')
    const id = mine[29]
    expect(await b.stopWorker('c', id)).to.equal(true)
    expect(await a.where('c', id)).to.equal(null)
    expect(await b.count('c', { local: true })).to.equal(14)
  })
})
