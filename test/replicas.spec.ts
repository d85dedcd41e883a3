import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster } from '@simplepool/testing'
import { killUnderTraffic } from './ledger-traffic.js'

/**
 * Replicas across real node processes: a counter pool with no store and `replicas: 1`
 * (sync). Four nodes, traffic from two, one killed with SIGKILL: its workers come back on
 * their successors with the state of their last acknowledged turn.
 */
describe('replicas across processes: a pool with no store survives a SIGKILL', function () {
  this.timeout(120_000)
  const pool = 'replicated'
  let cluster: Cluster | undefined

  before(async () => {
    cluster = await startCluster({ nodes: 4, pools: [pool] })
  })
  after(async () => {
    await cluster?.stop()
  })

  it('loses no acknowledged increment when a node is killed under traffic, and no worker answers from two nodes', async () => {
    const [a, b, c] = (cluster as Cluster).nodes
    const n = 500
    expect((await a.request<{ live: number }>('spawnMany', { pool, prefix: 'k-', n })).live).to.equal(n)
    const onC = (await c.request<Array<number | null>>('localEpochs', { pool, prefix: 'k-', n })).filter(e => e !== null).length
    expect(onC).to.be.above(50)
    // an acknowledged increment was on a successor before its reply; one that failed in
    // flight may have been kept or not
    const { wrong, off, acked, twice } = await killUnderTraffic(cluster as Cluster, [a, b], [c], pool, 'k-', n)
    expect(wrong, `of ${n}, ${off} off`).to.deep.equal([])
    expect(acked).to.be.above(500)
    expect(twice, 'ids live on two nodes').to.deep.equal([])
  })
})

describe('replicas across processes: replicas: 2 survives two nodes killed at once', function () {
  this.timeout(150_000)
  const pool = 'replicated2'
  let cluster: Cluster | undefined

  before(async () => {
    cluster = await startCluster({ nodes: 5, pools: [pool] })
  })
  after(async () => {
    await cluster?.stop()
  })

  it('loses no acknowledged increment when two nodes are killed together under traffic', async () => {
    const [a, b, , d, e] = (cluster as Cluster).nodes
    const n = 400
    expect((await a.request<{ live: number }>('spawnMany', { pool, prefix: 'q-', n })).live).to.equal(n)
    const onKilled = (await Promise.all([d, e].map(async node => await node.request<Array<number | null>>('localEpochs', { pool, prefix: 'q-', n }))))
      .flat().filter(x => x !== null).length
    expect(onKilled).to.be.above(80)
    const { wrong, off, acked, twice } = await killUnderTraffic(cluster as Cluster, [a, b], [d, e], pool, 'q-', n)
    expect(wrong, `of ${n}, ${off} off`).to.deep.equal([])
    expect(acked).to.be.above(400)
    expect(twice, 'ids live on two nodes').to.deep.equal([])
  })
})
