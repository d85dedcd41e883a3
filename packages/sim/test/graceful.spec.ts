import { expect } from 'chai'
import { definePool } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'
import type { SimNode } from '../src/sim-node.js'
import { counter } from './fixtures.js'

/** Two nodes A and B, formed, and `n` workers of `counter` each incremented 3 times (through A). */
async function twoNodesCounted (seed: number, n: number): Promise<{ sim: SimCluster, a: SimNode, b: SimNode, ids: string[] }> {
  const sim = new SimCluster({ seed, pools: [counter] })
  const a = sim.add('A')
  const b = sim.add('B')
  await sim.started()
  await sim.advance(1_000)
  const ids = Array.from({ length: n }, (_, i) => `w${i}`)
  for (let k = 0; k < 3; k++) await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc'))))
  return { sim, a, b, ids }
}

describe('graceful operations in the simulator', () => {
  it('drain, undrain, then at once stop: the stopping node waits for a fresh view and hands every worker over (no state lost)', async () => {
    const { sim, a, b, ids } = await twoNodesCounted(1, 300)
    await sim.until(b.node.drain('A'))
    expect(a.runtime.counts().counter).to.equal(0)
    // the undrain's reply reaches B before A's new record does (gossip is another stream):
    // B's view still shows A drained when B stops
    await sim.until(b.node.undrain('A'))
    await sim.until(b.stop())
    const values = await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('get'))))
    expect(values.filter(v => v !== 3)).to.deep.equal([])
  })

  it('a node that just came up claims the workers others started a moment before they heard of it, though their counts still said none', async () => {
    const sim = new SimCluster({ seed: 2, pools: [counter] })
    const a = sim.add('A')
    await sim.started()
    await sim.advance(2_000)
    const b = sim.add('B')
    // to the first millisecond B sees itself up: A has not heard it yet
    const upInOwnView = (): boolean => b.view.snapshot().members.some(m => m.peerId === 'B' && m.status === 'up')
    while (!upInOwnView()) await sim.advance(1)
    const ids = Array.from({ length: 400 }, (_, i) => `w${i}`).filter(id => b.placement().ownerOf('counter', id) === 'B').slice(0, 50)
    expect(ids.length).to.equal(50)
    expect(ids.every(id => a.placement().ownerOf('counter', id) === 'A')).to.equal(true)
    // A starts them, as their owner in its view; B is asked for them next, as theirs in its own
    const fromA = Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc')))
    await sim.advance(1)
    expect(ids.every(id => a.runtime.pool('counter')?.epochOf(id) !== undefined)).to.equal(true)
    const fromB = Promise.all(ids.map(async id => await b.node.ref('counter', id).call('inc')))
    await sim.until(Promise.all([fromA, fromB]))
    await sim.advance(5_000)
    const values = await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('get'))))
    expect(values.filter(v => v !== 2)).to.deep.equal([])
  })

  it('a stop of the last node serving while another node is still joining waits for it and hands every worker over', async () => {
    const { sim, a, b, ids } = await twoNodesCounted(1, 300)
    await sim.until(b.node.drain('A'))
    expect(b.runtime.counts().counter).to.equal(300)
    const c = sim.add('C')
    // B stops as soon as it hears C, still joining (C is up within a few ms of hearing the members that hold workers)
    const statusOfC = (): string | undefined => b.view.snapshot().members.find(m => m.peerId === 'C')?.status
    for (let t = 0; t < 1_000 && statusOfC() === undefined; t++) await sim.advance(1)
    expect(statusOfC()).to.equal('joining')
    await sim.until(b.stop())
    expect(c.runtime.counts().counter).to.equal(300)
    const values = await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('get'))))
    expect(values.filter(v => v !== 3)).to.deep.equal([])
  })

  it('a node joining while a member stands still for a moment waits to hear from it before it takes work, and claims what it holds', async () => {
    const { sim, b, ids } = await twoNodesCounted(3, 200)
    // B stands still short of the suspicion deadline just as C joins through A: C hears no
    // record of B's for as long as its view takes to settle
    b.time.pause(1_400)
    const c = sim.add('C')
    await sim.until(c.started)
    expect(c.view.snapshot().members.map(m => m.peerId)).to.include('B')
    const values = await sim.until(Promise.all(ids.map(async id => await c.node.ref('counter', id).call('get'))))
    expect(values.filter(v => v !== 3)).to.deep.equal([])
  })

  it('a claim asks the owner before a ring change that other pools\' ring changes came after (seed 30482)', async () => {
    const other = definePool<{ n: number }, 'inc', number>({ name: 'other', init: () => ({ n: 0 }), handle: (s) => ++s.n })
    // handoffs wait 4 s after a ring change: A and B still hold every worker when D comes
    const sim = new SimCluster({ seed: 4, pools: [counter, other], runtime: { rebalanceDelayMs: 4_000 } })
    const a = sim.add('A')
    sim.add('B')
    await sim.started()
    await sim.advance(1_000)
    const ids = Array.from({ length: 300 }, (_, i) => `w${i}`)
    for (let k = 0; k < 3; k++) await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc'))))
    const c = sim.add('C')
    await sim.until(c.started)
    // five changes of another pool's ring: more placements than a claim remembers
    for (let t = 1; t <= 5; t++) {
      await sim.until(a.node.setTargets('A', { other: 1_000 * t }))
      await sim.advance(200)
    }
    const d = sim.add('D')
    await sim.until(d.started)
    // D's first view had C up: D claims these from C, whose one placement before it came,
    // the one that names their holders, is older than the five
    const chained = ids.filter(id => d.placement().ownerOf('counter', id) === 'D' &&
      d.placement().ring('counter')?.ownerWithout(id, 'D') === 'C' && c.runtime.pool('counter')?.epochOf(id) === undefined)
    expect(chained.length).to.be.above(10)
    const values = await sim.until(Promise.all(chained.map(async id => await d.node.ref('counter', id).call('inc'))))
    expect(values.filter(v => v !== 4)).to.deep.equal([])
  })
})
