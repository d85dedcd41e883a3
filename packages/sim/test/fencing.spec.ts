import { expect } from 'chai'
import type { NodeFenceDetail } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'
import { counter } from './fixtures.js'

describe('fencing after a stall in the simulator', () => {
  it('two nodes that stood still one after the other each learn that the others marked them down (seed 50111)', async () => {
    // three hosts: of two, neither may mark the oldest down (it may be serving alone on the
    // other side of a cut), so the third is the majority that decides
    const sim = new SimCluster({ seed: 5, pools: [counter] })
    const a = sim.add('A')
    const b = sim.add('B')
    sim.add('C')
    await sim.started()
    await sim.advance(1_000)
    const ids = Array.from({ length: 100 }, (_, i) => `w${i}`)
    await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc'))))
    expect(b.runtime.counts().counter).to.be.above(0)
    const fences: Record<string, NodeFenceDetail[]> = { A: [], B: [] }
    a.node.addEventListener('node:fence', (e) => { fences.A.push(e.detail) })
    b.node.addEventListener('node:fence', (e) => { fences.B.push(e.detail) })
    // A stands still and B marks it down; B stands still a second before A comes back, so
    // B never reads that A did, and A marks B down in turn, before its own fence is over
    a.time.pause(6_000)
    await sim.advance(5_000)
    expect(b.view.snapshot().members.find(m => m.peerId === 'A')?.liveness).to.equal('down')
    b.time.pause(6_000)
    await sim.advance(8_000)
    // back, each learns that it was marked down: its copies are stale
    expect(fences.A.map(f => [f.cause, f.markedDown])).to.deep.equal([['stall', true]])
    // (B fences again a moment after, for the lease: the others doubt it until they hear it)
    expect([fences.B[0].cause, fences.B[0].markedDown]).to.deep.equal(['stall', true])
    expect(fences.B[0].dropped).to.be.above(0)
  })
})
