import { expect } from 'chai'
import type { NodeFenceDetail } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'
import { counter } from './fixtures.js'

describe('fencing after a stall in the simulator', () => {
  it('two nodes that stood still one after the other each learn that the other marked them down (seed 50111)', async () => {
    const sim = new SimCluster({ seed: 5, pools: [counter] })
    const a = sim.add('A')
    const b = sim.add('B')
    await sim.started()
    await sim.advance(1_000)
    const ids = Array.from({ length: 100 }, (_, i) => `w${i}`)
    await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc'))))
    expect(b.runtime.counts().counter).to.be.above(0)
    const fences: NodeFenceDetail[] = []
    b.node.addEventListener('node:fence', (e) => { fences.push(e.detail) })
    // A stands still and B marks it down; B stands still a second before A comes back, so
    // B never reads that A did, and A marks B down in turn, before its own fence is over
    a.time.pause(6_000)
    await sim.advance(5_000)
    expect(b.view.snapshot().members.find(m => m.peerId === 'A')?.liveness).to.equal('down')
    b.time.pause(6_000)
    await sim.advance(8_000)
    // back, B sees A as down still; A marked it down all the same: its copies are stale
    expect(fences.map(f => f.markedDown)).to.deep.equal([true])
    expect(fences[0].dropped).to.be.above(0)
  })
})
