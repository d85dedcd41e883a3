import { expect } from 'chai'
import { definePool } from '@simplepool/runtime'
import type { WorkerConflictDetail } from '@simplepool/runtime'
import { SimCluster } from '../src/sim-cluster.js'
import type { SimNode } from '../src/sim-node.js'
import { counter } from './fixtures.js'

/** The same counter, for workers whose users prefer an answer to exactness. */
const available = definePool({ ...counter, name: 'available', partition: 'available' })

const ids = Array.from({ length: 60 }, (_, i) => `w${i}`)

/** Calls `inc` on every id through `node`: how many were answered, and the names of the errors. */
async function incEach (sim: SimCluster, node: SimNode, pool: string): Promise<{ ok: number, errors: string[] }> {
  const out = await sim.until(Promise.all(ids.map(async id => await node.node.ref(pool, id).call('inc', { timeoutMs: 1_000 }).then(() => 'ok', (e: Error) => e.name))))
  return { ok: out.filter(r => r === 'ok').length, errors: [...new Set(out.filter(r => r !== 'ok'))] }
}

describe('a pool\'s choice for a node cut off from a majority', () => {
  it('safe (the default): the cut-off node refuses its workers at once; available: it serves those it held, and after the heal one copy is left of each, the newer, and the loser is reported', async () => {
    const sim = new SimCluster({ seed: 21, pools: [counter, available] })
    for (const id of ['A', 'B', 'C']) sim.add(id)
    await sim.started()
    await sim.advance(1_000)
    const c = sim.nodes.get('C') as SimNode
    const a = sim.nodes.get('A') as SimNode
    for (const pool of ['counter', 'available']) expect((await incEach(sim, a, pool)).ok).to.equal(ids.length)
    const conflicts: WorkerConflictDetail[] = []
    for (const n of sim.nodes.values()) n.node.addEventListener('worker:conflict', (e) => { conflicts.push(e.detail) })

    const heldByC = c.runtime.counts().available ?? 0
    expect(heldByC).to.be.above(0)
    for (const other of ['A', 'B']) sim.network.partition('C', other)
    await sim.advance(4_000)
    // C is alone of three: past its lease, a safe pool's calls fail at once there (those
    // to workers of A and B time out: C cannot tell them down, as B may still hear A)...
    const safe = await incEach(sim, c, 'counter')
    expect(safe.ok).to.equal(0)
    expect(safe.errors).to.include('NodeIsolatedError')
    expect(safe.errors.filter(e => e !== 'NodeIsolatedError' && e !== 'TimeoutError')).to.deep.equal([])
    // ...an available pool's are answered, for every worker C held
    const served = await incEach(sim, c, 'available')
    expect(served.ok).to.equal(heldByC)
    expect(served.errors.filter(e => e !== 'TimeoutError')).to.deep.equal([])
    // and the majority serves both pools, C's workers too
    for (const pool of ['counter', 'available']) expect((await incEach(sim, a, pool)).ok).to.equal(ids.length)

    sim.network.heal()
    await sim.advance(10_000)
    // one copy of each id, which every node names
    for (const id of ids) {
      const where = await Promise.all([...sim.nodes.values()].map(async n => await sim.until(n.node.where('available', id))))
      expect(new Set(where.map(w => `${w?.node}:${w?.epoch}`)).size, id).to.equal(1)
      expect(where[0], id).to.not.equal(null)
    }
    const live = [...sim.nodes.values()].reduce((sum, n) => sum + (n.runtime.counts().available ?? 0), 0)
    expect(live).to.equal(ids.length)
    // both sides served C's workers: where their copies met, the older went and was reported
    expect(conflicts.length).to.be.above(0)
    for (const x of conflicts) expect(x.newerEpoch).to.be.above(x.epoch)
  })
})
