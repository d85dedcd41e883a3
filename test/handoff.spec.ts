import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore, startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import { ledgerTraffic, settled } from './ledger-traffic.js'
import type { Traffic } from './ledger-traffic.js'

/**
 * Workers move with their state when a node joins, when a target changes and when a node
 * is drained, all under steady calls, with the `ledger` pool: a counter that writes every
 * increment through to a store all nodes share and answers with the new count. Every
 * counter must end equal to its acknowledged increments (none lost, none doubled), equal
 * to what the store holds, and no call may fail.
 */
describe('handoff across processes', function () {
  this.timeout(120_000)
  const n = 20_000
  let cluster: Cluster
  let dir: string
  let store: FileStore

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplepool-handoff-'))
    store = new FileStore(dir)
    cluster = await startCluster({ nodes: 3, pools: ['ledger'], poolOptions: { storeDir: dir } })
  })
  after(async () => {
    await cluster?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  const settle = async (): Promise<void> => { await settled(cluster.running, 30_000) }

  /** Every counter equals its acknowledged increments (`before` plus `t`) and what the store holds. */
  async function exact (via: NodeHandle, prefix: string, t: Traffic, before?: number[]): Promise<void> {
    const values = await via.request<Array<number | null>>('callEach', { pool: 'ledger', prefix, n, msg: 'get' }, 60_000)
    const wrong = values.map((v, i) => ({ id: `${prefix}${i}`, v, acked: (before?.[i] ?? 0) + t.acks[i], stored: store.read<number>(`${prefix}${i}`)?.value ?? 0 }))
      .filter(x => x.v !== x.acked || x.stored !== x.acked)
    expect(wrong.slice(0, 5)).to.deep.equal([])
    expect(t.acks.reduce((x, y) => x + y, 0)).to.be.above(1_000)
  }

  /** The share of the ids live on each running node. */
  async function shares (prefix: string): Promise<number[]> {
    const epochs = await Promise.all(cluster.running.map(async node => await node.request<Array<number | null>>('localEpochs', { pool: 'ledger', prefix, n })))
    return epochs.map(e => e.filter(x => x !== null).length / n)
  }

  function within (actual: number[], expected: number[]): void {
    actual.forEach((a, i) => { expect(a, `share of node ${i + 1}: ${actual.map(x => x.toFixed(3)).join(', ')}`).to.be.within(expected[i] * 0.9, expected[i] * 1.1) })
  }

  it('hands workers to a node that joins under traffic: shares follow the weights, nothing lost or doubled, no call fails', async () => {
    const [a, b] = cluster.nodes
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'ledger', prefix: 'j-', n })).live).to.equal(n)
    const running = ledgerTraffic([a, b], 'j-', n, 6)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    await cluster.addNode()
    await cluster.waitForConvergence()
    const t = await running
    expect(t.errors).to.deep.equal({})
    await settle()
    within(await shares('j-'), [0.25, 0.25, 0.25, 0.25])
    await exact(a, 'j-', t)
    expect(await a.request('count', { pool: 'ledger' })).to.deep.equal({ ok: true, value: n })
  })

  it('follows a doubled target under traffic: shares follow, nothing lost or doubled, no call fails', async () => {
    const [a, b, c] = cluster.nodes
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'ledger', prefix: 't-', n })).live).to.equal(n)
    within(await shares('t-'), [0.25, 0.25, 0.25, 0.25])
    const running = ledgerTraffic([a, b], 't-', n, 5)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    await a.request('setTargets', { peer: c.peerId, targets: { ledger: 200_000 } })
    const t = await running
    expect(t.errors).to.deep.equal({})
    await settle()
    within(await shares('t-'), [0.2, 0.2, 0.4, 0.2])
    await exact(b, 't-', t)
    await a.request('setTargets', { peer: c.peerId, targets: { ledger: 100_000 } })
    await settle()
  })

  it('drains a node under traffic to zero workers, and undrains it, losing and doubling nothing', async () => {
    const [a, b, c] = cluster.nodes
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'ledger', prefix: 'd-', n })).live).to.equal(n)
    const running = ledgerTraffic([a, b], 'd-', n, 5)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    await a.request('drain', { peer: c.peerId, timeoutMs: 60_000 }, 70_000)
    expect((await c.request<{ value: number }>('count', { pool: 'ledger', local: true })).value).to.equal(0)
    const t = await running
    expect(t.errors).to.deep.equal({})
    await settle()
    expect((await c.request<{ value: number }>('count', { pool: 'ledger', local: true })).value).to.equal(0)
    within((await shares('d-')).filter((_, i) => i !== 2), [1 / 3, 1 / 3, 1 / 3])
    await exact(b, 'd-', t)
    // back in service: its share of the ring comes back to it, state and all
    const before = await a.request<Array<number | null>>('callEach', { pool: 'ledger', prefix: 'd-', n, msg: 'get' }, 60_000)
    await b.request('undrain', { peer: c.peerId })
    const again = await ledgerTraffic([a, b], 'd-', n, 3)
    expect(again.errors).to.deep.equal({})
    await settle()
    within(await shares('d-'), [0.25, 0.25, 0.25, 0.25])
    await exact(a, 'd-', again, before.map(v => v ?? 0))
  })
})
