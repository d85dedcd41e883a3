import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster } from '@simplepool/testing'

/**
 * Workers move with their state when a node joins or is drained under traffic: every
 * counter ends equal to its acknowledged increments, none lost and none doubled.
 */
describe('handoff across processes', function () {
  this.timeout(90_000)
  let cluster: Cluster

  before(async () => { cluster = await startCluster({ nodes: 3, pools: ['counter'] }) })
  after(async () => { await cluster?.stop() })

  it('hands workers to a node that joins under traffic, losing and doubling nothing', async () => {
    const [a, b] = cluster.nodes
    const n = 3_000
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'counter', prefix: 'j-', n })).live).to.equal(n)
    const traffic = Promise.all([a, b].map(async node => await node.request<{ acks: number[], errors: Record<string, number> }>(
      'incTraffic', { pool: 'counter', prefix: 'j-', n, seconds: 6, concurrency: 32 }, 30_000)))
    await new Promise(resolve => setTimeout(resolve, 1_000))
    const d = await cluster.addNode()
    await cluster.waitForConvergence()
    const results = await traffic
    // every node has handed over what it had to
    const deadline = Date.now() + 20_000
    for (const node of cluster.nodes) {
      while (await node.request<number>('migrationBacklog') > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    }
    const acks = new Array<number>(n).fill(0)
    for (const r of results) r.acks.forEach((k, i) => { acks[i] += k })
    const failed = results.map(r => r.errors)
    const values = await a.request<Array<number | null>>('callEach', { pool: 'counter', prefix: 'j-', n, msg: 'get' }, 30_000)
    const wrong = values.map((v, i) => ({ i, v, acked: acks[i] })).filter(x => x.v !== x.acked)
    expect(wrong.slice(0, 5), `failed calls: ${JSON.stringify(failed)}`).to.deep.equal([])
    expect(acks.reduce((x, y) => x + y, 0)).to.be.above(1_000)
    // the newcomer holds its share of the ring (a quarter), and the count is exact
    const onD = (await d.request<{ value: number }>('count', { pool: 'counter', local: true })).value
    expect(onD).to.be.within(n * 0.25 * 0.8, n * 0.25 * 1.2)
    expect(await a.request('count', { pool: 'counter' })).to.deep.equal({ ok: true, value: n })
  })

  it('drains a node under traffic to zero workers, and undrains it, losing and doubling nothing', async () => {
    const [a, b, c] = cluster.nodes
    const n = 3_000
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'counter', prefix: 'd-', n })).live).to.equal(n)
    const before = await a.request<Array<number | null>>('callEach', { pool: 'counter', prefix: 'd-', n, msg: 'get' }, 30_000)
    const traffic = Promise.all([a, b].map(async node => await node.request<{ acks: number[], errors: Record<string, number> }>(
      'incTraffic', { pool: 'counter', prefix: 'd-', n, seconds: 5, concurrency: 32 }, 30_000)))
    await new Promise(resolve => setTimeout(resolve, 1_000))
    await a.request('drain', { peer: c.peerId, timeoutMs: 20_000 }, 30_000)
    expect((await c.request<{ value: number }>('count', { pool: 'counter', local: true })).value).to.equal(0)
    const results = await traffic
    for (const node of cluster.nodes) {
      const deadline = Date.now() + 20_000
      while (await node.request<number>('migrationBacklog') > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    }
    const acks = before.map(v => v ?? 0)
    for (const r of results) r.acks.forEach((k, i) => { acks[i] += k })
    const values = await b.request<Array<number | null>>('callEach', { pool: 'counter', prefix: 'd-', n, msg: 'get' }, 30_000)
    const wrong = values.map((v, i) => ({ i, v, acked: acks[i] })).filter(x => x.v !== x.acked)
    expect(wrong.slice(0, 5), `failed calls: ${JSON.stringify(results.map(r => r.errors))}`).to.deep.equal([])
    expect((await c.request<{ value: number }>('count', { pool: 'counter', local: true })).value).to.equal(0)
    // back in service: its share of the ring comes back to it, state and all
    await b.request('undrain', { peer: c.peerId })
    const deadline = Date.now() + 20_000
    let onC = 0
    while (onC < 500 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 200))
      onC = (await c.request<{ value: number }>('count', { pool: 'counter', local: true })).value
    }
    expect(onC).to.be.above(500)
    const after = await a.request<Array<number | null>>('callEach', { pool: 'counter', prefix: 'd-', n, msg: 'get' }, 30_000)
    expect(after.filter((v, i) => v !== acks[i]).length).to.equal(0)
  })

  it('follows a doubled target with a bigger share under traffic, losing and doubling nothing', async () => {
    const [a, b, c] = cluster.nodes
    const n = 3_000
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'counter', prefix: 't-', n })).live).to.equal(n)
    const before = await a.request<Array<number | null>>('callEach', { pool: 'counter', prefix: 't-', n, msg: 'get' }, 30_000)
    const share = async (): Promise<number> => {
      const owners = await b.request<Array<string | null>>('owners', { pool: 'counter', prefix: 't-', n })
      const mine = owners.filter(o => o === c.peerId).length
      return mine / n
    }
    const shareBefore = await share()
    const countOnC = async (): Promise<number> => (await c.request<{ value: number }>('count', { pool: 'counter', local: true })).value
    const onCBefore = await countOnC()
    const traffic = Promise.all([a, b].map(async node => await node.request<{ acks: number[], errors: Record<string, number> }>(
      'incTraffic', { pool: 'counter', prefix: 't-', n, seconds: 4, concurrency: 32 }, 30_000)))
    await new Promise(resolve => setTimeout(resolve, 500))
    await a.request('setTargets', { peer: c.peerId, targets: { counter: 200_000 } })
    const results = await traffic
    for (const node of cluster.nodes) {
      const deadline = Date.now() + 20_000
      while (await node.request<number>('migrationBacklog') > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    }
    const shareAfter = await share()
    expect(shareAfter).to.be.above(shareBefore * 1.3)
    // the workers followed the ring: c gained about what its bigger share gives it (of these
    // ids and of the earlier tests' ids alike)
    expect(await countOnC() - onCBefore).to.be.above((shareAfter - shareBefore) * n * 0.8)
    const acks = before.map(v => v ?? 0)
    for (const r of results) r.acks.forEach((k, i) => { acks[i] += k })
    const values = await b.request<Array<number | null>>('callEach', { pool: 'counter', prefix: 't-', n, msg: 'get' }, 30_000)
    const wrong = values.map((v, i) => ({ i, v, acked: acks[i] })).filter(x => x.v !== x.acked)
    expect(wrong.slice(0, 5), `failed calls: ${JSON.stringify(results.map(r => r.errors))}`).to.deep.equal([])
  })
})
