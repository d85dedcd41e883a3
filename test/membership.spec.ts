import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'

const IDS = 10_000

async function ownersOf (node: NodeHandle, pool = 'test'): Promise<Array<string | null>> {
  return node.request<Array<string | null>>('owners', { pool, n: IDS, prefix: 'worker-' })
}

describe('membership across real processes', function () {
  this.timeout(60_000)
  let cluster: Cluster

  beforeEach(async () => {
    cluster = await startCluster({ nodes: 3 })
  })

  afterEach(async () => {
    await cluster?.stop()
  })

  it('three nodes converge on one membership and agree on the owner of every id', async () => {
    const views = await Promise.all(cluster.nodes.map(async n => n.request<string[]>('serving')))
    const expected = cluster.nodes.map(n => n.peerId).sort()
    for (const v of views) expect(v.sort()).to.deep.equal(expected)

    const owners = await Promise.all(cluster.nodes.map(async n => ownersOf(n)))
    expect(owners[1]).to.deep.equal(owners[0])
    expect(owners[2]).to.deep.equal(owners[0])
    // every node owns a share, and nobody outside the cluster owns anything
    const counts = new Map<string | null, number>()
    for (const o of owners[0]) counts.set(o, (counts.get(o) ?? 0) + 1)
    expect([...counts.keys()].sort()).to.deep.equal(expected)
    for (const c of counts.values()) expect(c).to.be.greaterThan(IDS / 3 * 0.8)
  })

  it('a fourth node joins, and all four agree again; only ids moving to it change owner', async () => {
    const before = await ownersOf(cluster.nodes[0])
    const d = await cluster.addNode()
    await cluster.waitForConvergence()
    const owners = await Promise.all(cluster.nodes.map(async n => ownersOf(n)))
    for (const o of owners) expect(o).to.deep.equal(owners[0])
    let moved = 0
    for (let i = 0; i < IDS; i++) {
      if (owners[0][i] !== before[i]) {
        moved++
        expect(owners[0][i]).to.equal(d.peerId)
      }
    }
    // ideal is 1/4 of the ids; the ring property tests hold the tight bound
    expect(moved / IDS).to.be.within(0.25 * 0.7, 0.25 * 1.3)
  })

  // how fast (the goal is under 1 s, by the closed connection) is measured in
  // bench/membership.bench.ts: a timed assertion here would fail on a loaded machine
  it('marks a killed node down, and the rest agree on the owners without it', async () => {
    const [a, b, c] = cluster.nodes
    c.kill('SIGKILL')
    await Promise.all([a, b].map(async n =>
      n.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 5_000, 'member:down')))
    await cluster.waitForConvergence({ nodes: [a, b] })
    const [oa, ob] = await Promise.all([ownersOf(a), ownersOf(b)])
    expect(oa).to.deep.equal(ob)
    expect(oa).to.not.include(c.peerId)
  })

  it('marks a hung node (SIGSTOP) down within 3 s, and up again after SIGCONT', async () => {
    const [a, b, c] = cluster.nodes
    const pausedAt = Date.now()
    c.pause()
    try {
      const downs = await Promise.all([a, b].map(async n =>
        n.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 6_000, 'member:down')))
      for (const e of downs) expect(e.at - pausedAt).to.be.below(3_000)
      await cluster.waitForConvergence({ nodes: [a, b], expect: [a.peerId, b.peerId] })
    } finally {
      c.resume()
    }
    const resumedAt = Date.now()
    const ups = await Promise.all([a, b].map(async n =>
      n.waitForEvent(e => e.name === 'member:join' && e.detail.peerId === c.peerId && e.at >= resumedAt, 5_000, 'member:join after SIGCONT')))
    expect(ups).to.have.length(2)
    await cluster.waitForConvergence()
  })

  it('a graceful stop announces leaving: the others see member:leave, not member:down', async () => {
    const [a, b, c] = cluster.nodes
    await c.stop()
    for (const n of [a, b]) {
      await n.waitForEvent(e => e.name === 'member:leave' && e.detail.peerId === c.peerId, 3_000, 'member:leave')
      expect(n.events.some(e => e.name === 'member:down' && e.detail.peerId === c.peerId)).to.equal(false)
    }
    await cluster.waitForConvergence({ nodes: [a, b] })
  })

  it('targets travel with the heartbeat and change the ring weights everywhere', async () => {
    const [a, b, c] = cluster.nodes
    await c.request('setTargets', { targets: { test: 300 } })
    const deadline = Date.now() + 5_000
    let shares: number[] = []
    while (Date.now() < deadline) {
      const owners = await Promise.all(cluster.nodes.map(async n => ownersOf(n)))
      if (owners.every(o => JSON.stringify(o) === JSON.stringify(owners[0]))) {
        shares = [a, b, c].map(n => owners[0].filter(o => o === n.peerId).length / IDS)
        if (shares[2] > 0.5) break
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    // weights 100:100:300 give 0.2:0.2:0.6
    expect(shares[2]).to.be.within(0.6 * 0.9, 0.6 * 1.1)
    expect(shares[0]).to.be.within(0.2 * 0.85, 0.2 * 1.15)
  })
})
