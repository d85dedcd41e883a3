import { expect } from 'chai'
import { definePool } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'
import { StaleWriteError } from '@simplepool/core'
import { SimStore } from '../src/scenario/store.js'

describe('epochs across nodes in the simulator', () => {
  it('a node whose clock ran ahead is killed: the next copy elsewhere ranks above its copy, and the store takes its writes', async () => {
    const store = new SimStore()
    // every increment written through, conditional on the activation's epoch
    const ledger = definePool<{ n: number }, 'inc', number>({
      name: 'ledger',
      init: () => ({ n: 0 }),
      load: (id) => { const n = store.read(id); return n === undefined ? undefined : { n } },
      handle: (s, _msg, ctx) => {
        if (!store.write(ctx.id, s.n + 1, ctx.epoch)) throw new StaleWriteError(`${ctx.id}: epoch ${ctx.epoch} refused`)
        return ++s.n
      }
    })
    const sim = new SimCluster({ seed: 3, pools: [ledger] })
    const a = sim.add('A')
    const b = sim.add('B')
    await sim.started()
    await sim.advance(1_000)
    // B's wall clock steps 30 s ahead (an NTP step, a VM resumed); its epochs follow it
    b.time.jump(30_000)
    const ids = Array.from({ length: 200 }, (_, i) => `w${i}`).filter(id => b.placement().ownerOf('ledger', id) === 'B').slice(0, 20)
    expect(ids.length).to.equal(20)
    for (const id of ids) expect(await sim.until(a.node.ref<'inc', number>('ledger', id).call('inc'))).to.equal(1)
    // one heartbeat on, B is killed; A takes its workers from the store, at A's own wall time
    await sim.advance(1_000)
    b.kill()
    await sim.advance(3_000)
    const values = await sim.until(Promise.all(ids.map(async id => await a.node.ref<'inc', number>('ledger', id).call('inc').catch((err: Error) => err.name))))
    expect(values.filter(v => v !== 2)).to.deep.equal([])
    expect(store.refused).to.equal(0)
  })
})
