import { expect } from 'chai'
import { definePool } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'

/** A pool with no `save`: its state lives only in memory, so only a handoff keeps it. */
const counter = definePool<{ n: number }, 'inc' | 'get', number>({
  name: 'counter',
  init: () => ({ n: 0 }),
  handle: (s, msg) => msg === 'inc' ? ++s.n : s.n
})

describe('graceful operations in the simulator', () => {
  it('drain, undrain, then at once stop: the stopping node waits for a fresh view and hands every worker over (no state lost)', async () => {
    const sim = new SimCluster({ seed: 1, pools: [counter] })
    const a = sim.add('A')
    const b = sim.add('B')
    await sim.started()
    await sim.advance(1_000)
    const ids = Array.from({ length: 300 }, (_, i) => `w${i}`)
    for (let k = 0; k < 3; k++) await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('inc'))))
    await sim.until(b.node.drain('A'))
    expect(a.runtime.counts().counter).to.equal(0)
    // the undrain's reply reaches B before A's new record does (gossip is another stream):
    // B's view still shows A drained when B stops
    await sim.until(b.node.undrain('A'))
    await sim.until(b.stop())
    const values = await sim.until(Promise.all(ids.map(async id => await a.node.ref('counter', id).call('get'))))
    expect(values.filter(v => v !== 3)).to.deep.equal([])
  })
})
