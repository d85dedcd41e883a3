import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { definePool } from '../../src/pool.js'
import type { PoolDefinition } from '../../src/pool.js'
import { LocalCluster, settle } from '../fixtures.js'

/** Failover of a node that died: its workers come back from `load`, at once for pools with eager recovery. */
describe('Recovery of a lost node', () => {
  let clock: ManualClock
  let cluster: LocalCluster
  let store: Map<string, number>

  const pool = (over: Partial<PoolDefinition<{ n: number }, 'inc' | 'get', number>> = {}): ReturnType<typeof definePool<{ n: number }, 'inc' | 'get', number>> =>
    definePool<{ n: number }, 'inc' | 'get', number>({
      name: 'c',
      init: () => ({ n: 0 }),
      load: (id) => store.has(id) ? { n: store.get(id) as number } : undefined,
      handle: (s, m, ctx) => {
        if (m === 'inc') store.set(ctx.id, ++s.n)
        return s.n
      },
      ...over
    })

  beforeEach(() => {
    clock = new ManualClock()
    cluster = new LocalCluster(clock)
    store = new Map()
  })
  afterEach(async () => { await cluster.stop() })

  const ids = Array.from({ length: 300 }, (_, i) => `w${i}`)

  async function loseC (def: ReturnType<typeof pool>): Promise<string[]> {
    const a = cluster.add('A', { pools: [def] })
    cluster.add('B', { pools: [def] })
    const c = cluster.add('C', { pools: [def] })
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 3; k++) await a.ref('c', id).call('inc')
    const onC = ids.filter(id => c.localPool('c')?.activations.has(id) === true)
    expect(onC.length).to.be.above(50)
    await cluster.down('C')
    for (let t = 0; t < 100; t++) { // past the rebalance delay
      clock.advance(10)
      await settle()
    }
    return onC
  }

  it('eager: brings every listed worker of the lost node back at once on its new owner, from load', async () => {
    const onC = await loseC(pool({ recovery: 'eager', liveIds: () => store.keys() }))
    const a = cluster.runtimes.get('A')
    const b = cluster.runtimes.get('B')
    const live = (id: string): boolean => a?.localPool('c')?.activations.has(id) === true || b?.localPool('c')?.activations.has(id) === true
    expect(onC.filter(id => !live(id))).to.deep.equal([])
    expect(await a?.count('c')).to.equal(300)
    for (const id of onC) expect(await a?.ref('c', id).call('get')).to.equal(Number(id.slice(1)) % 3 + 1)
  })

  it('lazy: brings a worker of the lost node back on its next message, from load', async () => {
    const onC = await loseC(pool())
    const a = cluster.runtimes.get('A')
    expect(await a?.count('c')).to.equal(300 - onC.length)
    expect(await a?.ref('c', onC[0]).call('get')).to.equal(Number(onC[0].slice(1)) % 3 + 1)
  })

  it('refuses eager recovery without liveIds', () => {
    expect(() => pool({ recovery: 'eager' })).to.throw().with.property('name', 'InvalidOptionError')
    expect(() => pool({ recovery: 'soon' as 'eager', liveIds: () => [] })).to.throw().with.property('name', 'InvalidOptionError')
  })
})
