import { expect } from 'chai'
import { definePool } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'

/** Each worker keeps the messages it ran, in the order it ran them. */
const log = definePool<{ ran: string[] }, string, string[]>({
  name: 'log',
  init: () => ({ ran: [] }),
  handle: (s, msg) => {
    if (msg !== 'read') s.ran.push(msg)
    return s.ran
  }
})

describe('a sender\'s order in the simulator', () => {
  // a sender's view moved (an undrain) while its earlier message waited in a node that
  // stood still a second, the owner before; the later one, sent straight to the new
  // owner, ran first (seed 50236). The sender's barriers close it: the later one waits
  // until a barrier down the route before came through (routing/send-order.ts).
  it('keeps a sender\'s order when a message sent just after its view moved would run before one sent just before, held by the owner before as it stood still (seed 50236)', async () => {
    const sim = new SimCluster({ seed: 6, pools: [log] })
    const a = sim.add('A')
    sim.add('B')
    const c = sim.add('C')
    const d = sim.add('D')
    await sim.started()
    await sim.advance(1_000)
    await sim.until(c.node.drain('A'))
    await sim.until(c.node.drain('D'))
    await sim.advance(2_000)
    const ids = Array.from({ length: 2_000 }, (_, i) => `w${i}`)
    const ownerNow = (id: string): string => c.placement().ownerOf('log', id)
    const onB = ids.filter(id => ownerNow(id) === 'B')
    await sim.until(Promise.all(onB.map(async id => await c.node.ref('log', id).call('m0'))))
    // D comes back: its workers are still on B, to go over after the rebalance delay
    await sim.until(c.node.undrain('D'))
    while (!onB.some(id => ownerNow(id) === 'D')) await sim.advance(1)
    const viaD = onB.filter(id => ownerNow(id) === 'D')
    // D stands still short of the suspicion deadline: what C sends it meanwhile waits there
    d.time.pause(900)
    for (const id of viaD) c.node.ref('log', id).cast('m1')
    // A comes back while D stands still: some of D's workers are A's now, in C's view
    await sim.until(a.node.undrain('A'))
    while (!viaD.some(id => ownerNow(id) === 'A')) await sim.advance(1)
    const moved = viaD.filter(id => ownerNow(id) === 'A')
    for (const id of moved) c.node.ref('log', id).cast('m2')
    await sim.advance(5_000)
    const ran = await sim.until(Promise.all(moved.map(async id => (await c.node.ref<string, string[]>('log', id).call('read')).join(' '))))
    expect(moved.length).to.be.above(5)
    expect(ran.filter(r => r !== 'm0 m1 m2')).to.deep.equal([])
  })
})
