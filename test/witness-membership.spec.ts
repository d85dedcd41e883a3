import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'

type Outcome = { ok: true, value: unknown } | { ok: false, error: { name: string, message: string } }

/** Increments each of `ids` once from `node`; the values answered. */
async function incEach (node: NodeHandle, ids: string[]): Promise<Outcome[]> {
  return await Promise.all(ids.map(async id => await node.request<Outcome>('call', { pool: 'counter', id, msg: 'inc' })))
}

async function getEach (node: NodeHandle, ids: string[]): Promise<Outcome[]> {
  return await Promise.all(ids.map(async id => await node.request<Outcome>('call', { pool: 'counter', id, msg: 'get' })))
}

const IDS = Array.from({ length: 30 }, (_, i) => `w-${i}`)

// the nodes of createNode({ membership: 'witness' }) (docs/design/membership-v2.md), each in
// a process of its own over loopback TCP: members learn of each other from a pulled list and
// records pushed over witness links, a member is down once a majority of its witnesses
// doubts it, and a node serves while a majority of its own witnesses echoes it
describe('witness membership across real processes', function () {
  this.timeout(60_000)
  let cluster: Cluster

  beforeEach(async () => {
    cluster = await startCluster({ nodes: 3, pools: ['counter'], mesh: { membership: 'witness' } })
    await cluster.waitForConvergence()
  })

  afterEach(async () => {
    await cluster?.stop()
  })

  it('three nodes agree on the members and on every owner, and every call is counted once', async () => {
    const [a, b, c] = cluster.nodes
    const owners = await Promise.all(cluster.nodes.map(async n => n.request<Array<string | null>>('owners', { pool: 'counter', n: 1_000, prefix: 'w-' })))
    expect(owners[1]).to.deep.equal(owners[0])
    expect(owners[2]).to.deep.equal(owners[0])
    for (const n of [a, b, c]) expect((await incEach(n, IDS)).every(o => o.ok)).to.equal(true)
    expect((await getEach(a, IDS)).map(o => o.ok ? o.value : o.error.name)).to.deep.equal(IDS.map(() => 3))
    expect(await b.request('count', { pool: 'counter' })).to.deep.equal({ ok: true, value: IDS.length })
  })

  it('a node killed with SIGKILL is down on the others, and its workers answer from them', async () => {
    const [a, b, c] = cluster.nodes
    await incEach(a, IDS)
    c.kill('SIGKILL')
    await Promise.all([a, b].map(async n => await n.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 10_000, 'member:down')))
    await cluster.waitForConvergence({ nodes: [a, b], expect: [a.peerId, b.peerId] })
    // the counters that lived on the killed node start afresh (a memory pool); every call is answered
    const after = await incEach(b, IDS)
    expect(after.filter(o => !o.ok)).to.deep.equal([])
  })

  it('a node that stops hands its workers over with their state and leaves every view, not down', async () => {
    const [a, b, c] = cluster.nodes
    await incEach(a, IDS)
    await incEach(b, IDS)
    await c.stop()
    await Promise.all([a, b].map(async n => await n.waitForEvent(e => e.name === 'member:leave' && e.detail.peerId === c.peerId, 10_000, 'member:leave')))
    expect(a.events.some(e => e.name === 'member:down' && e.detail.peerId === c.peerId)).to.equal(false)
    expect((await getEach(a, IDS)).map(o => o.ok ? o.value : o.error.name)).to.deep.equal(IDS.map(() => 2))
  })

  it('a hung node (SIGSTOP) is down on the others within seconds, and comes back as a new generation after SIGCONT', async () => {
    const [a, b, c] = cluster.nodes
    // the witnesses named as the cluster forms are named anew within seconds; a member that
    // hangs before its first beat reaches a witness is doubted there only after
    // UNHEARD_GRACE_MS (link-state.ts), and the first node, which named nobody when it
    // started alone, only once it named the others
    await new Promise(resolve => setTimeout(resolve, 3_000))
    const pausedAt = Date.now()
    c.pause()
    try {
      await Promise.all([a, b].map(async n => await n.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 15_000, 'member:down')))
    } finally {
      c.resume()
    }
    // held down, it learns so as it resumes, drops what it held, and joins again
    await Promise.all([a, b].map(async n => await n.waitForEvent(e => e.name === 'member:join' && e.detail.peerId === c.peerId && e.at > pausedAt, 20_000, 'member:join')))
    await cluster.waitForConvergence({ timeoutMs: 20_000 })
    // back, it fences until its new generation's witnesses echo it (calls meanwhile fail by name), then serves
    let failed: Outcome[] = []
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise(resolve => setTimeout(resolve, 250))) {
      failed = (await getEach(c, IDS)).filter(o => !o.ok)
      if (failed.length === 0) break
      for (const f of failed) expect(['NodeIsolatedError', 'NodeUnavailableError']).to.include(f.ok ? '' : f.error.name)
    }
    expect(failed).to.deep.equal([])
  })
})
