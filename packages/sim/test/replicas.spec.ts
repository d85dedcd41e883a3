import { expect } from 'chai'
import { definePool } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'
import { counter } from './fixtures.js'

describe('a fenced copy of a replicated worker in the simulator', () => {
  it('is kept as a replica: the owner and its only successor stand still one after the other, and the worker comes back with every acknowledged turn (seed 3073 with --replicas 1)', async () => {
    const pool = definePool<{ n: number }, 'inc' | 'get', number>({ ...counter, replicas: 1 })
    const sim = new SimCluster({ seed: 7, pools: [pool] })
    const [a, b, c] = ['A', 'B', 'C', 'D', 'E'].map(name => sim.add(name))
    await sim.started()
    await sim.advance(1_000)
    // workers A owns, with B their only successor
    const ids = Array.from({ length: 300 }, (_, i) => `w${i}`).filter(id => a.runtime.replicator.chain('counter', id, 1).join() === 'A,B')
    expect(ids.length).to.be.above(5)
    for (let k = 0; k < 5; k++) await sim.until(Promise.all(ids.map(async id => await c.node.ref('counter', id).call('inc'))))
    // A stands still and is marked down; B, which holds every replica, stands still before
    // A comes back, and is marked down too. A's fence finds it was marked down and drops its
    // copies; nothing is sent to them meanwhile, so nobody starts them elsewhere
    a.time.pause(4_500)
    await sim.advance(1_500)
    b.time.pause(10_000)
    await sim.advance(5_000)
    expect(c.view.snapshot().members.filter(m => m.liveness === 'down').map(m => m.peerId)).to.deep.equal(['B'])
    expect(a.runtime.counts().counter ?? 0, 'A dropped its stale copies').to.equal(0)
    // A owns them again, B gone: each comes back with its five increments
    const got = await sim.until(Promise.all(ids.map(async id => await c.node.ref('counter', id).call('get'))))
    expect(got).to.deep.equal(ids.map(() => 5))
  })
})

describe('replicas whose puts were not acknowledged, in the simulator', () => {
  it('are sent again to every successor that missed one, not only the first named (seed 9008 with --replicas 2 --partitions)', async () => {
    const pool = definePool<{ n: number }, 'inc' | 'get', number>({ ...counter, replicas: 2 })
    const sim = new SimCluster({ seed: 11, pools: [pool] })
    const [a] = ['A', 'B', 'C', 'D', 'E'].map(name => sim.add(name))
    await sim.started()
    await sim.advance(1_000)
    // workers A owns, with B and C their successors
    const ids = Array.from({ length: 400 }, (_, i) => `w${i}`).filter(id => a.runtime.replicator.chain('counter', id, 2).join() === 'A,B,C')
    expect(ids.length).to.be.above(3)
    await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc'))))
    // both successors cut off from A for less than it takes to mark them down: each turn's
    // call fails, its state kept on A and on neither successor
    sim.network.partition('A', 'B')
    sim.network.partition('A', 'C')
    const failed = await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc').then(() => 'kept', (err: Error) => err.name))))
    expect(failed).to.deep.equal(ids.map(() => 'NodeUnavailableError'))
    sim.network.heal()
    // the sweep sends the state again to both
    await sim.advance(3_000)
    const held = (node: string): unknown[] => ids.map(id => sim.nodes.get(node)?.runtime.replicator.peek('counter', id)?.state)
    expect(held('B')).to.deep.equal(ids.map(() => ({ n: 2 })))
    expect(held('C')).to.deep.equal(ids.map(() => ({ n: 2 })))
  })
})
