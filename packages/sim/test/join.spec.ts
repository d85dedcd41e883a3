import { expect } from 'chai'
import { SimCluster } from '../src/sim-cluster.js'
import type { SimNode } from '../src/sim-node.js'
import { counter } from './fixtures.js'

describe('a node that joins while cut off from every member', () => {
  it('serves nothing until it hears one, then joins as any other node and takes its share with the state the cluster built (seed 15350)', async () => {
    const sim = new SimCluster({ seed: 7, pools: [counter] })
    for (const id of ['A', 'B']) sim.add(id)
    await sim.started()
    await sim.advance(1_000)
    const a = sim.nodes.get('A') as SimNode
    const ids = Array.from({ length: 40 }, (_, i) => `w${i}`)
    for (const id of ids) expect(await sim.until(a.node.ref('counter', id).call('inc'))).to.equal(1)

    for (const other of ['A', 'B']) sim.network.partition('C', other)
    const c = sim.add('C')
    let up = false
    void c.started?.then(() => { up = true })
    await sim.advance(8_000)
    // a cluster of one would start every worker afresh: C took no work, and is on no ring
    expect(up).to.equal(false)
    expect(c.runtime.counts().counter ?? 0).to.equal(0)
    expect(c.placement().ring('counter')?.nodes ?? []).to.not.include('C')

    sim.network.heal()
    await sim.until(c.started as Promise<void>, 15_000)
    await sim.advance(5_000)
    expect(c.runtime.counts().counter ?? 0).to.be.above(0)
    for (const id of ids) expect(await sim.until(c.node.ref('counter', id).call('inc')), id).to.equal(2)
  })

  it('fails its start with JoinTimeoutError when it hears no member within joinTimeoutMs, and leaves nothing running', async () => {
    const sim = new SimCluster({ seed: 8, pools: [counter] })
    sim.add('A')
    await sim.started()
    sim.network.partition('C', 'A')
    const c = sim.add('C')
    const err = await sim.until((c.started as Promise<void>).then(() => undefined, (e: Error) => e), 40_000)
    expect(err?.name).to.equal('JoinTimeoutError')
    expect(c.running).to.equal(false)
  })
})
