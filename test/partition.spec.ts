import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, FileStore, PrivateNetwork } from '@simplepool/testing'
import type { NodeHandle } from '@simplepool/testing'
import { lastFailure, ledgerTraffic, settled } from './ledger-traffic.js'
import type { Timeline, Traffic } from './ledger-traffic.js'

const unavailable = PrivateNetwork.unavailable()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** What one cut and heal came to, in ms (see the closing figures the suite prints with SIMPLEPOOL_PARTITION_FIGURES). */
interface Figures {
  scenario: string
  /** From the cut to when the first node of the minority stopped serving (its fence began). */
  minorityStoppedMs: number | undefined
  /** From the cut to the last call that failed on the majority side's client before the heal. */
  majorityServedMs: number
  /** From the heal to every node seeing every other serving. */
  wholeMs: number
  /** From the heal to the last call that failed, on any client (0: none failed after it). */
  lastFailureMs: number
  /** The same, per client: X (with the majority), Y (with the minority). */
  lastFailureByClient: number[]
  errors: Record<string, number>
  /** The failures after the heal, latest last: ms after it, the error's name and message. */
  late: string[]
}

/**
 * Real network partitions between node processes, each in a network namespace of its own
 * on a private bridge (see PrivateNetwork): five nodes host the `ledger` pool (a counter
 * that writes each increment through to a shared store with its activation's epoch, and
 * refuses and logs an older epoch's write), two clients with target 0 call it from
 * either side of each cut. After every heal: each counter holds its acknowledged
 * increments (and at most the failed calls' on top), no stale write was ever tried, every
 * node names the same single copy of every id, and `count()` is exact.
 */
const suite = unavailable === undefined ? describe : describe.skip
suite(unavailable === undefined ? 'network partitions between namespaces' : `network partitions: skipped because ${unavailable}`, function () {
  this.timeout(180_000)
  const N = 400
  let net: PrivateNetwork
  let cluster: Cluster
  let dir: string
  let store: FileStore
  let hosts: NodeHandle[]
  let x: NodeHandle
  let y: NodeHandle
  const figures: Figures[] = []

  before(async () => {
    net = PrivateNetwork.create(7)
    dir = mkdtempSync(join(tmpdir(), 'simplepool-partition-'))
    store = new FileStore(dir)
    // off loopback, as a deployment is: with a cluster key (a node refuses to listen there without one)
    cluster = new Cluster({ pools: ['ledger', 'available'], poolOptions: { storeDir: dir }, clusterKey: randomBytes(32).toString('hex') })
    const add = async (k: number, name: string, targets?: Record<string, number>): Promise<NodeHandle> =>
      await cluster.addNode({ name, netns: net.namespaces[k], listen: [net.listen(k)], ...(targets != null ? { targets } : {}) })
    const a = await add(0, 'A')
    hosts = [a, ...await Promise.all(['B', 'C', 'D', 'E'].map(async (name, i) => await add(i + 1, name)))]
    ;[x, y] = await Promise.all([add(5, 'X', { ledger: 0, available: 0 }), add(6, 'Y', { ledger: 0, available: 0 })])
    await cluster.waitForConvergence({ timeoutMs: 20_000 })
  })
  after(async () => {
    try {
      await cluster?.stop()
    } finally {
      net?.destroy()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    }
    if (process.env.SIMPLEPOOL_PARTITION_FIGURES != null) console.log(JSON.stringify(figures, null, 1))
  })

  /** What `read` resolves with once it does without throwing and `ok` holds, trying for up to 15 s. */
  async function eventually<T> (read: () => Promise<T>, ok: (v: T) => boolean = () => true): Promise<T> {
    const deadline = Date.now() + 15_000
    for (;;) {
      try {
        const v = await read()
        if (ok(v) || Date.now() > deadline) return v
      } catch (err) {
        if (Date.now() > deadline) throw err
      }
      await sleep(250)
    }
  }

  /** Every node sees every node serving: resolves with the time it first did. */
  async function whole (timeoutMs: number): Promise<number> {
    await cluster.waitForConvergence({ timeoutMs })
    return Date.now()
  }

  /** The checks after a heal, on ids `prefix`0..N-1 and the traffic they took. */
  async function intact (prefix: string, t: Traffic): Promise<void> {
    await settled(cluster.running, 20_000)
    // every worker answers (a connection that carried nothing across the cut may still wait
    // out the kernel's backoff for a moment: how late calls fail is in the figures)
    const values = await eventually(async () => await x.request<Array<number | null>>('callEach', { pool: 'ledger', prefix, n: N, msg: 'get' }, 30_000), v => !v.includes(null))
    const wrong = values.map((v, i) => ({ id: `${prefix}${i}`, v, acked: t.acks[i], failed: t.failed[i] }))
      .filter(r => r.v === null || r.v < r.acked || r.v > r.acked + r.failed)
    expect(wrong.slice(0, 5), 'counters that lost acknowledged increments (or gained more than failed)').to.deep.equal([])
    expect(store.staleWrites().slice(0, 5), 'stale writes tried').to.deep.equal([])
    const wheres = await eventually(async () => await Promise.all(cluster.running.map(async n => await n.request<Array<string | null>>('whereEach', { pool: 'ledger', prefix, n: N }, 30_000))))
    const apart = wheres[0].map((w, i) => ({ id: `${prefix}${i}`, seen: wheres.map(ws => ws[i]) }))
      .filter(r => r.seen.some(s => s === null || s !== r.seen[0]))
    expect(apart.slice(0, 3), 'ids whose copy the nodes name differently').to.deep.equal([])
    const running = hosts.filter(h => h.exitCode === undefined)
    const epochs = await Promise.all(running.map(async h => await h.request<Array<number | null>>('localEpochs', { pool: 'ledger', prefix, n: N })))
    const doubled = values.map((_, i) => `${prefix}${i}`).filter((_, i) => epochs.filter(e => e[i] !== null).length > 1)
    expect(doubled.slice(0, 5), 'ids live on two nodes').to.deep.equal([])
    // every id of every scenario so far: what each host holds, summed
    const live = (await Promise.all(running.map(async h => (await h.request<{ value: number }>('count', { pool: 'ledger', local: true })).value))).reduce((a, b) => a + b, 0)
    for (const n of cluster.running) {
      const counted = await n.request<{ ok: boolean, value: number }>('count', { pool: 'ledger' })
      expect(counted, `count() through ${n.name}`).to.deep.equal({ ok: true, value: live })
    }
  }

  /**
   * Under traffic from X (on the majority's side) and Y (on the minority's), runs `cut`
   * (which cuts the network and heals it), waits for the cluster to be whole, and checks.
   */
  async function underTraffic (scenario: string, prefix: string, cutMs: number, cut: () => Promise<void>): Promise<Figures> {
    expect((await hosts[0].request<{ live: number }>('spawnMany', { pool: 'ledger', prefix, n: N })).live).to.equal(N)
    const traffic = ledgerTraffic([x, y], prefix, N, (1_000 + cutMs + 6_000) / 1000)
    await sleep(1_000)
    const cutAt = Date.now()
    try {
      await cut()
    } finally {
      net.heal()
    }
    const healAt = Date.now()
    const wholeAt = await whole(20_000)
    const t = await traffic
    await intact(prefix, t)
    const fences = cluster.running.flatMap(n => n.events.filter(e => e.name === 'node:fence' && e.at > cutAt && e.detail.cause === 'isolation'))
    const starts = fences.map(e => e.at - (e.detail.pausedMs ?? 0) - cutAt)
    const majorityLast = lastFailure(t.timelines[0], healAt)
    const f: Figures = {
      scenario,
      minorityStoppedMs: starts.length > 0 ? Math.round(Math.min(...starts)) : undefined,
      majorityServedMs: majorityLast === undefined || majorityLast < cutAt ? 0 : majorityLast - cutAt,
      wholeMs: wholeAt - healAt,
      lastFailureMs: Math.max(0, ...t.timelines.map(tl => (lastFailure(tl) ?? 0) - healAt)),
      lastFailureByClient: t.timelines.map(tl => Math.max(0, (lastFailure(tl) ?? 0) - healAt)),
      errors: t.errors,
      late: t.latest.filter(l => l.at > healAt).slice(-6).map(l => `${l.at - healAt} ms ${l.name}: ${l.message}`)
    }
    figures.push(f)
    return f
  }

  /** Cuts `minority` (and the client Y) off the rest for `cutMs` (the caller heals). */
  const cutOff = (minority: number[], cutMs: number) => async (): Promise<void> => {
    net.split([[...minority, 6]])
    await sleep(cutMs)
  }

  it('a node alone: it stops serving, the rest take its ids, and after the heal nothing is lost or stale', async () => {
    const f = await underTraffic('alone', 'alone-', 8_000, cutOff([4], 8_000))
    expect(f.minorityStoppedMs, 'the cut-off node fenced').to.be.a('number')
  })

  it('two of five: the three serve, the two stop, and after the heal nothing is lost or stale', async () => {
    const f = await underTraffic('two of five', 'minority-', 8_000, cutOff([3, 4], 8_000))
    expect(f.minorityStoppedMs, 'the minority fenced').to.be.a('number')
  })

  it('a link that flaps ten times (0.5 s cut, 0.5 s back): nobody is marked down, nothing is lost', async () => {
    const from = Date.now()
    await underTraffic('flapping', 'flap-', 10_000, async () => {
      for (let i = 0; i < 10; i++) {
        net.split([[4]])
        await sleep(500)
        net.heal()
        await sleep(500)
      }
    })
    const names = new Map(cluster.running.map(n => [n.peerId, n.name]))
    const downs = cluster.running.flatMap(n => n.events.filter(e => e.name === 'member:down' && e.at > from).map(e => `${n.name} marked ${names.get(e.detail.peerId ?? '') ?? e.detail.peerId ?? '?'} down`))
    expect(downs, 'the membership flapped').to.deep.equal([])
  })

  it('a pool that chose availability: the node cut off goes on serving the workers it held, and after the heal one copy is left of each, the older reported', async () => {
    const prefix = 'avail-'
    const n = 200
    expect((await hosts[0].request<{ live: number }>('spawnMany', { pool: 'available', prefix, n })).live).to.equal(n)
    const conflictsBefore = await conflicts()
    // the ids E holds: Y, cut off with it, calls them alone too, so that what it sees of them
    // is not held up behind its calls to the other side's ids, which wait out their deadline
    const onE = (await hosts[4].request<Array<number | null>>('localEpochs', { pool: 'available', prefix, n })).flatMap((e, i) => e === null ? [] : [`${prefix}${i}`])
    expect(onE.length, 'ids E holds').to.be.above(0)
    const traffic = Promise.all([x, y].map(async c => await c.request<{ timeline: Timeline }>('incTraffic', { pool: 'available', prefix, n, seconds: 12, concurrency: 32 }, 60_000)))
    const toE = y.request<{ timeline: Timeline }>('incTraffic', { pool: 'available', ids: onE, seconds: 12, concurrency: 4 }, 60_000)
    await sleep(1_000)
    const cutAt = Date.now()
    try {
      await cutOff([4], 6_000)()
    } finally {
      net.heal()
    }
    const healAt = Date.now()
    await whole(20_000)
    await traffic
    const { timeline } = await toE
    // Y, on E's side, was answered through the cut by E, past its lease
    const during = timeline.ok.filter((k, b) => timeline.t0 + b * timeline.bucketMs > cutAt + 2_000 && timeline.t0 + (b + 1) * timeline.bucketMs < healAt).reduce((a, b) => a + b, 0)
    expect(during, 'calls to the ids E held answered on the cut-off side').to.be.above(0)
    await settled(cluster.running, 20_000)
    const wheres = await eventually(async () => await Promise.all(cluster.running.map(async node => await node.request<Array<string | null>>('whereEach', { pool: 'available', prefix, n }, 30_000))))
    const apart = wheres[0].map((w, i) => ({ id: `${prefix}${i}`, seen: wheres.map(ws => ws[i]) })).filter(r => r.seen.some(s => s === null || s !== r.seen[0]))
    expect(apart.slice(0, 3), 'ids whose copy the nodes name differently').to.deep.equal([])
    const epochs = await Promise.all(hosts.map(async h => await h.request<Array<number | null>>('localEpochs', { pool: 'available', prefix, n })))
    const doubled = wheres[0].map((_, i) => `${prefix}${i}`).filter((_, i) => epochs.filter(e => e[i] !== null).length > 1)
    expect(doubled.slice(0, 5), 'ids live on two nodes').to.deep.equal([])
    // both sides served E's workers: where the copies met, the older went, reported
    expect(await conflicts() - conflictsBefore, 'worker:conflict events').to.be.above(0)
  })

  /** worker:conflict events so far, over every node. */
  async function conflicts (): Promise<number> {
    const seen = await Promise.all(cluster.running.map(async n => (await n.request<{ seen: Record<string, number> }>('events')).seen['worker:conflict'] ?? 0))
    return seen.reduce((a, b) => a + b, 0)
  }

  it('equal halves (clients count too): the half with the oldest member serves, the other stops', async () => {
    // E leaves: six members, A (the oldest), B and the client X against C, D and the client Y
    const e = hosts[4]
    await e.stop(30_000)
    await cluster.waitForConvergence({ timeoutMs: 20_000 })
    // every node's ring is without E before the ids are made
    await eventually(async () => await Promise.all(cluster.running.map(async node => JSON.stringify(await node.request('owners', { pool: 'ledger', prefix: 'halves-', n: N })))), owners => owners.every(o => o === owners[0]))
    await settled(cluster.running, 20_000)
    const from = Date.now()
    const f = await underTraffic('equal halves', 'halves-', 8_000, cutOff([2, 3], 8_000))
    expect(f.minorityStoppedMs, 'the half without the oldest fenced').to.be.a('number')
    const fenced = (n: NodeHandle): boolean => n.events.some(ev => ev.name === 'node:fence' && ev.at > from && ev.detail.cause === 'isolation')
    expect(hosts.slice(0, 4).map(fenced), 'A, B, C, D fenced').to.deep.equal([false, false, true, true])
  })
})
