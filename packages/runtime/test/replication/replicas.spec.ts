import { expect } from 'chai'
import { NodeUnavailableError } from '@simplepool/core'
import { definePool } from '../../src/pool.js'
import type { PoolDefinition } from '../../src/pool.js'
import type { Runtime } from '../../src/runtime.js'
import { settle, useCluster } from '../fixtures.js'

type Def = PoolDefinition<{ n: number }, 'inc' | 'get', number>

/** Replicas of workers' state on their owner's successors: kept after each turn, taken over when the owner is lost. */
describe('Replicas', () => {
  const t = useCluster()
  const pool = (over: Partial<Def> = {}): ReturnType<typeof definePool<{ n: number }, 'inc' | 'get', number>> =>
    definePool<{ n: number }, 'inc' | 'get', number>({ name: 'c', replicas: 1, init: () => ({ n: 0 }), handle: (s, m) => m === 'inc' ? ++s.n : s.n, ...over })
  const ids = Array.from({ length: 200 }, (_, i) => `w${i}`)

  async function run (ms: number): Promise<void> {
    for (let step = 0; step < ms / 10; step++) {
      t.clock.advance(10)
      await settle()
    }
  }

  function three (def: ReturnType<typeof pool>): Runtime[] {
    return ['A', 'B', 'C'].map(p => t.cluster.add(p, { pools: [def] }))
  }

  it('keeps each worker\'s state on one successor after every turn, before the reply (sync)', async () => {
    const [a, b, c] = three(pool())
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 3; k++) await a.ref('c', id).call('inc')
    const replicas = [a, b, c].map(r => r.replicator.figures.replicas)
    // one replica of each worker, none on its owner
    expect(replicas.reduce((x, y) => x + y, 0)).to.equal(ids.length)
    for (const r of [a, b, c]) {
      for (const id of ids) {
        if (r.localPool('c')?.activations.has(id) === true) expect(r.replicator.figures.replicas).to.be.below(ids.length)
      }
    }
    expect([a, b, c].map(r => r.replicator.figures.missed)).to.deep.equal([0, 0, 0])
    // where names the node its state went to: not its own
    const at = await a.where('c', 'w7')
    expect(at?.replicas).to.have.length(1)
    expect(at?.replicas).to.not.include(at?.node)
  })

  it('brings a lost node\'s workers back on their successors with the state of their last turn: no load, no init', async () => {
    let inits = 0
    const [a, , c] = three(pool({ init: () => { inits++; return { n: 0 } } }))
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 3; k++) await a.ref('c', id).call('inc')
    const onC = ids.filter(id => c.localPool('c')?.activations.has(id) === true)
    expect(onC.length).to.be.above(30)
    const before = inits
    await t.cluster.down('C')
    await run(500)
    for (const id of onC) expect(await a.ref('c', id).call('get'), id).to.equal(ids.indexOf(id) % 3 + 1)
    expect(inits - before).to.equal(0)
  })

  it('keeps two replicas with replicas: 2, and survives two nodes lost at once', async () => {
    const def = pool({ replicas: 2 })
    const rts = ['A', 'B', 'C', 'D'].map(p => t.cluster.add(p, { pools: [def] }))
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 3; k++) await rts[0].ref('c', id).call('inc')
    expect(rts.map(r => r.replicator.figures.replicas).reduce((x, y) => x + y, 0)).to.equal(2 * ids.length)
    await t.cluster.down('C')
    await t.cluster.down('D')
    await run(500)
    for (const id of ids) expect(await rts[0].ref('c', id).call('get'), id).to.equal(ids.indexOf(id) % 3 + 1)
  })

  it('drops a worker\'s replicas when it passivates or is stopped', async () => {
    const [a, b, c] = three(pool({ idleTimeoutMs: 1_000 }))
    for (const id of ids.slice(0, 50)) await a.ref('c', id).call('inc')
    await a.stopWorker('c', 'w0')
    await run(20)
    expect([a, b, c].map(r => r.replicator.figures.replicas).reduce((x, y) => x + y, 0)).to.equal(49)
    await run(1_500)
    expect([a, b, c].map(r => r.replicator.figures.replicas).reduce((x, y) => x + y, 0)).to.equal(0)
  })

  it('moves replicas with the ring: after a join, each worker\'s replica is on its successor of the new ring', async () => {
    const def = pool()
    const [a, b] = ['A', 'B'].map(p => t.cluster.add(p, { pools: [def] }))
    for (const id of ids) await a.ref('c', id).call('inc')
    t.cluster.add('C', { pools: [def] })
    // past the handoffs, and past the time a node that left a chain keeps what it passed on
    await run(12_000)
    const rts = [...t.cluster.runtimes.values()]
    expect(rts.map(r => r.replicator.figures.replicas).reduce((x, y) => x + y, 0)).to.equal(ids.length)
    // each live worker is on its owner, and its one replica on the node after it
    for (const id of ids) expect(await b.ref('c', id).call('get')).to.equal(1)
  })

  it('refuses a put from a stale copy: the successor that took over holds a newer epoch, and the old copy is dropped', async () => {
    const [a, b] = ['A', 'B'].map(p => t.cluster.add(p, { pools: [pool()] }))
    const id = ids.find(x => t.cluster.views.get('A')?.ownerOf('c', x) === 'A') as string
    await a.ref('c', id).call('inc')
    // B cannot reach A, and starts its own copy from the replica while A still serves (their views disagree)
    t.cluster.failCall = (from, to) => from === 'B' && to === 'A' ? new NodeUnavailableError('cut off') : undefined
    t.cluster.skew('B', ['B'])
    await run(100)
    expect(await b.ref('c', id).call('inc')).to.equal(2)
    const err = await a.ref('c', id).call('inc').then(() => undefined, (e: Error) => e)
    expect(err?.name).to.equal('StaleWriteError')
    expect(a.localPool('c')?.activations.has(id)).to.equal(false)
  })

  it('names bad options', () => {
    expect(() => pool({ replicas: 3 as 2 })).to.throw(/replicas must be 0, 1 or 2/)
    expect(() => pool({ replication: 'lazy' as 'sync' })).to.throw(/replication must be 'sync' or 'async'/)
  })
})
