import { expect } from 'chai'
import { definePool } from '../../src/pool.js'
import type { PoolDefinition } from '../../src/pool.js'
import { settle, useCluster } from '../fixtures.js'

/** Failover of a node that died: its workers come back from `load`, at once for pools with eager recovery. */
describe('Recovery of a lost node', () => {
  const t = useCluster()
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
    store = new Map()
  })
  const ids = Array.from({ length: 300 }, (_, i) => `w${i}`)

  async function loseC (def: ReturnType<typeof pool>): Promise<string[]> {
    const a = t.cluster.add('A', { pools: [def] })
    t.cluster.add('B', { pools: [def] })
    const c = t.cluster.add('C', { pools: [def] })
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 3; k++) await a.ref('c', id).call('inc')
    const onC = ids.filter(id => c.localPool('c')?.activations.has(id) === true)
    expect(onC.length).to.be.above(50)
    await t.cluster.down('C')
    for (let step = 0; step < 100; step++) { // past the rebalance delay
      t.clock.advance(10)
      await settle()
    }
    return onC
  }

  it('eager: brings every listed worker of the lost node back at once on its new owner, from load', async () => {
    const onC = await loseC(pool({ recovery: 'eager', liveIds: () => store.keys() }))
    const a = t.cluster.runtimes.get('A')
    const b = t.cluster.runtimes.get('B')
    const live = (id: string): boolean => a?.localPool('c')?.activations.has(id) === true || b?.localPool('c')?.activations.has(id) === true
    expect(onC.filter(id => !live(id))).to.deep.equal([])
    expect(await a?.count('c')).to.equal(300)
    for (const id of onC) expect(await a?.ref('c', id).call('get')).to.equal(Number(id.slice(1)) % 3 + 1)
  })

  it('lazy: brings a worker of the lost node back on its next message, from load', async () => {
    const onC = await loseC(pool())
    const a = t.cluster.runtimes.get('A')
    expect(await a?.count('c')).to.equal(300 - onC.length)
    expect(await a?.ref('c', onC[0]).call('get')).to.equal(Number(onC[0].slice(1)) % 3 + 1)
  })

  it('refuses eager recovery without liveIds', () => {
    expect(() => pool({ recovery: 'eager' })).to.throw().with.property('name', 'InvalidOptionError')
    expect(() => pool({ recovery: 'soon' as 'eager', liveIds: () => [] })).to.throw().with.property('name', 'InvalidOptionError')
  })
})
