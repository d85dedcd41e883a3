import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore, startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import { ledgerTraffic, settled } from './ledger-traffic.js'

/**
 * Graceful stops, crashes and hangs under traffic, with the `ledger` pool: a counter that
 * writes every increment through to a store all nodes share, tagged with its activation's
 * epoch, and that refuses (and logs) a write older than the stored one. So a lost, doubled
 * or stale increment shows.
 */
describe('stop, crash and hang under traffic', function () {
  this.timeout(120_000)
  let cluster: Cluster
  let dir: string
  let store: FileStore

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplepool-ledger-'))
    store = new FileStore(dir)
    cluster = await startCluster({ nodes: 4, pools: ['ledger', 'eager-ledger'], poolOptions: { storeDir: dir } })
  })
  after(async () => {
    await cluster?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

  const settle = async (): Promise<void> => { await settled(cluster.running, 20_000) }

  /** Each id's count, read through `via`; each must equal what the store holds. */
  async function counts (via: NodeHandle, prefix: string, n: number): Promise<number[]> {
    const values = await via.request<Array<number | null>>('callEach', { pool: 'ledger', prefix, n, msg: 'get' }, 30_000)
    const stored = ids(prefix, n).map(id => store.read<number>(id)?.value ?? 0)
    const apart = values.map((v, i) => ({ id: `${prefix}${i}`, v, stored: stored[i] })).filter(x => x.v !== x.stored)
    expect(apart.slice(0, 5), 'live counts and stored counts differ').to.deep.equal([])
    return values.map(v => v ?? 0)
  }

  /** No live copy of any id on two nodes at once. */
  async function oneCopyEach (prefix: string, n: number): Promise<void> {
    const epochs = await Promise.all(cluster.running.map(async node => await node.request<Array<number | null>>('localEpochs', { pool: 'ledger', prefix, n })))
    const doubled = ids(prefix, n).filter((_, i) => epochs.filter(e => e[i] !== null).length > 1)
    expect(doubled.slice(0, 5), 'ids live on two nodes').to.deep.equal([])
  }

  it('stops a node gracefully under traffic: its workers move out with their state first, no call fails', async () => {
    const [a, b, , d] = cluster.nodes
    const n = 2_000
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'ledger', prefix: 'g-', n })).live).to.equal(n)
    const onD = (await d.request<{ value: number }>('count', { pool: 'ledger', local: true })).value
    expect(onD).to.be.above(n * 0.1)
    const migratedIn = async (): Promise<number> => (await Promise.all(cluster.running.filter(x => x !== d).map(async x =>
      (await x.request<{ seen: Record<string, number> }>('events')).seen['worker:migrate'] ?? 0))).reduce((x, y) => x + y, 0)
    const before = await migratedIn()
    const running = ledgerTraffic([a, b], 'g-', n, 5)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    await d.stop(30_000)
    expect(d.exitCode).to.equal(0)
    // handed over with their state, not saved and loaded again
    expect(await migratedIn() - before).to.be.at.least(onD)
    const t = await running
    expect(t.errors, JSON.stringify(t.latest.slice(-3))).to.deep.equal({})
    await settle()
    const values = await counts(a, 'g-', n)
    const wrong = values.map((v, i) => ({ i, v, acked: t.acks[i] })).filter(x => x.v !== x.acked)
    expect(wrong.slice(0, 5)).to.deep.equal([])
    expect(t.acks.reduce((x, y) => x + y, 0)).to.be.above(1_000)
    expect(store.staleWrites()).to.deep.equal([])
  })

  it('survives a SIGKILL under traffic: only calls in flight to it fail, with NodeUnavailableError; its workers come back from the store', async () => {
    const [a, b, c] = cluster.nodes
    const n = 2_000
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'ledger', prefix: 'k-', n })).live).to.equal(n)
    const running = ledgerTraffic([a, b], 'k-', n, 4)
    await new Promise(resolve => setTimeout(resolve, 1_500))
    c.kill('SIGKILL')
    await a.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 10_000, 'c marked down')
    await b.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 10_000, 'c marked down')
    const during = await running
    expect(Object.keys(during.errors).filter(name => name !== 'NodeUnavailableError')).to.deep.equal([])
    // calls made once it is marked down all succeed
    const after = await ledgerTraffic([a, b], 'k-', n, 2)
    expect(after.errors).to.deep.equal({})
    await settle()
    const values = await counts(a, 'k-', n)
    // an increment is durable before it is acknowledged; one that failed in flight may have
    // been written or not
    const wrong = values.map((v, i) => ({ i, v, acked: during.acks[i] + after.acks[i], failed: during.failed[i] }))
      .filter(x => x.v < x.acked || x.v > x.acked + x.failed)
    expect(wrong.slice(0, 5)).to.deep.equal([])
    await oneCopyEach('k-', n)
    expect(store.staleWrites()).to.deep.equal([])
  })

  it('fences a node that hung (SIGSTOP) past being marked down: back (SIGCONT), it drops its stale copies and writes nothing stale', async () => {
    const [a, b] = cluster.nodes
    const e = await cluster.addNode()
    await cluster.waitForConvergence()
    const n = 2_000
    expect((await a.request<{ live: number }>('spawnMany', { pool: 'ledger', prefix: 's-', n })).live).to.equal(n)
    const onE = (await e.request<{ value: number }>('count', { pool: 'ledger', local: true })).value
    expect(onE).to.be.above(n * 0.1)
    const running = ledgerTraffic([a, b], 's-', n, 8)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    e.pause()
    await a.waitForEvent(ev => ev.name === 'member:down' && ev.detail.peerId === e.peerId, 10_000, 'e marked down')
    // meanwhile its workers start elsewhere from the store, with newer epochs
    await new Promise(resolve => setTimeout(resolve, 1_500))
    e.resume()
    const t = await running
    expect(Object.keys(t.errors).filter(name => name !== 'NodeUnavailableError')).to.deep.equal([])
    await settle()
    const fence = await e.request<{ lastFence?: { markedDown: boolean, dropped: number } }>('events')
    expect(fence.lastFence?.markedDown).to.equal(true)
    expect(fence.lastFence?.dropped).to.be.above(0)
    // what E was running when it froze (a turn, the rest of a drain of its run queue) goes
    // on when it wakes, before the stall guard can look at the clock: those turns' writes
    // are stale, and the store's conditional write refuses them. They are at most the
    // calls in flight to E then (32 at once from each of 2 senders); nothing after them runs.
    expect(store.staleWrites().length).to.be.at.most(64)
    await oneCopyEach('s-', n)
    const values = await counts(a, 's-', n)
    const wrong = values.map((v, i) => ({ i, v, acked: t.acks[i], failed: t.failed[i] }))
      .filter(x => x.v < x.acked || x.v > x.acked + x.failed)
    expect(wrong.slice(0, 5)).to.deep.equal([])
    // back in service: it holds a share again
    await cluster.waitForConvergence()
  })

  it('brings a killed node\'s workers back at once, from the store and before any message, for a pool with eager recovery', async () => {
    const [a] = cluster.nodes
    const v = await cluster.addNode()
    await cluster.waitForConvergence()
    const n = 600
    const pool = 'eager-ledger'
    expect((await a.request<Array<number | null>>('callEach', { pool, prefix: 'r-', n, msg: 'inc' }, 30_000)).filter(x => x !== 1)).to.deep.equal([])
    const onV = (await v.request<Array<number | null>>('localEpochs', { pool, prefix: 'r-', n })).filter(e => e !== null).length
    expect(onV).to.be.above(50)
    v.kill('SIGKILL')
    // gone from `cluster.running` only once its exit is seen, which a loaded machine can
    // deliver after the others marked it down
    await v.exited
    await a.waitForEvent(ev => ev.name === 'member:down' && ev.detail.peerId === v.peerId, 10_000, 'v marked down')
    const live = async (): Promise<number> => (await Promise.all(cluster.running.map(async x =>
      (await x.request<Array<number | null>>('localEpochs', { pool, prefix: 'r-', n })).filter(e => e !== null).length))).reduce((x, y) => x + y, 0)
    const deadline = Date.now() + 10_000
    while (await live() < n && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    expect(await live()).to.equal(n) // no message was sent to them
    const epochs = await Promise.all(cluster.running.map(async x => await x.request<Array<number | null>>('localEpochs', { pool, prefix: 'r-', n })))
    expect(ids('r-', n).filter((_, i) => epochs.filter(e => e[i] !== null).length !== 1)).to.deep.equal([])
    expect((await a.request<Array<number | null>>('callEach', { pool, prefix: 'r-', n, msg: 'get' }, 30_000)).filter(x => x !== 1)).to.deep.equal([])
  })
})
