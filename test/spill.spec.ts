import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster } from '@simplepool/testing'

/**
 * Spill across processes, with the `pinned` pool, whose placement puts every id on one
 * node (target 20, so a hard limit of 30): past its limit that node starts no new worker;
 * the next node on the ring does, `where` says which, and the worker keeps its state there.
 */
describe('spill at the hard limit, across processes', function () {
  this.timeout(60_000)
  let cluster: Cluster

  before(async () => { cluster = await startCluster({ nodes: 3, pools: ['pinned'] }) })
  after(async () => { await cluster?.stop() })

  it('sends new workers past the limit to the next node on the ring; where tells the truth; state and counts hold', async () => {
    const n = 200
    const [a] = cluster.nodes
    // the pool's placement: the first serving node by peer id
    const full = [...cluster.nodes].sort((x, y) => x.peerId < y.peerId ? -1 : 1)[0]
    const others = cluster.nodes.filter(x => x !== full)
    for (const o of others) await a.request('setTargets', { peer: o.peerId, targets: { pinned: 1_000 } })
    await new Promise(resolve => setTimeout(resolve, 1_000)) // the new targets reach every node
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'pinned', prefix: 'p-', n })).live).to.equal(n)
    const local = async (x: typeof a): Promise<number> => (await x.request<{ value: number }>('count', { pool: 'pinned', local: true })).value
    expect(await local(full)).to.equal(30)
    expect(await local(others[0]) + await local(others[1])).to.equal(n - 30)
    expect(await a.request('count', { pool: 'pinned' })).to.deep.equal({ ok: true, value: n })
    const where = await Promise.all(Array.from({ length: n }, async (_, i) => await others[1].request<{ node: string } | null>('where', { pool: 'pinned', id: `p-${i}` })))
    expect(where.filter(w => w?.node === full.peerId).length).to.equal(30)
    for (const x of others) expect(where.filter(w => w?.node === x.peerId).length).to.equal(await local(x))
    // a spilled worker keeps its state, whichever node calls it
    const spilled = `p-${where.findIndex(w => w?.node !== full.peerId)}`
    expect(await others[0].request('call', { pool: 'pinned', id: spilled, msg: 'inc' })).to.deep.equal({ ok: true, value: 1 })
    expect(await full.request('call', { pool: 'pinned', id: spilled, msg: 'inc' })).to.deep.equal({ ok: true, value: 2 })
    expect(await others[1].request('call', { pool: 'pinned', id: spilled, msg: 'get' })).to.deep.equal({ ok: true, value: 2 })
    const health = await full.request<{ pools: Record<string, { spilled: number, status: string }> }>('health')
    expect(health.pools.pinned.spilled).to.equal(n - 30)
    expect(health.pools.pinned.status).to.equal('critical')
  })
})
