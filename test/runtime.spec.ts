import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'

type Outcome = { ok: true, value: unknown } | { ok: false, error: { name: string, message: string } }
interface Location { node: string, epoch: number }

/**
 * The pool runtime across real node processes: three SimplePool nodes on 127.0.0.1 with
 * the harness's test pools, driven over IPC.
 */
describe('pool runtime across processes', function () {
  this.timeout(60_000)
  let cluster: Cluster
  let a: NodeHandle
  let b: NodeHandle
  let c: NodeHandle

  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      pools: ['counter', 'stored', 'ticker', 'slow-load', 'fail-init'],
      poolOptions: { idleTimeoutMs: 300, tickMs: 100, loadMs: 400 }
    })
    ;[a, b, c] = cluster.nodes
  })

  after(async () => { await cluster?.stop() })

  const call = async (node: NodeHandle, pool: string, id: string, msg: unknown, extra: Record<string, unknown> = {}): Promise<Outcome> =>
    await node.request<Outcome>('call', { pool, id, msg, ...extra })

  /** An id of `pool` owned by `owner`, as `asker` sees the ring. */
  async function idOwnedBy (owner: NodeHandle, prefix: string, pool = 'counter'): Promise<string> {
    const owners = await a.request<string[]>('owners', { pool, n: 200, prefix })
    const i = owners.indexOf(owner.peerId)
    if (i < 0) throw new Error(`no id of ${prefix}0..199 is owned by ${owner.name}`)
    return `${prefix}${i}`
  }

  it('calls and casts a worker that lives on another node', async () => {
    const id = await idOwnedBy(b, 'remote-')
    expect(await call(a, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    await a.request('cast', { pool: 'counter', id, msg: 'inc', n: 5 })
    // a's casts run before a's next call (one sender's order); another node's call is not
    // ordered with them, so it reads once a's has come back
    expect(await call(a, 'counter', id, 'get')).to.deep.equal({ ok: true, value: 6 })
    expect(await call(c, 'counter', id, 'get')).to.deep.equal({ ok: true, value: 6 })
    const where = await a.request<Location>('where', { pool: 'counter', id })
    expect(where.node).to.equal(b.peerId)
  })

  it('activates lazily on the first message, and spawn: false reaches only a live worker', async () => {
    const id = await idOwnedBy(c, 'lazy-')
    expect(await a.request('spawn', { pool: 'counter', id, mode: 'lazy' })).to.deep.equal({ ok: true, value: null })
    expect(await a.request('alive', { pool: 'counter', id })).to.equal(false)
    const dead = await call(a, 'counter', id, 'get', { spawn: false })
    expect(dead.ok).to.equal(false)
    expect((dead as { error: { name: string } }).error.name).to.equal('WorkerNotAliveError')
    expect(await a.request('alive', { pool: 'counter', id })).to.equal(false)
    expect(await call(a, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    expect(await b.request('alive', { pool: 'counter', id })).to.equal(true)
    expect(await call(b, 'counter', id, 'get', { spawn: false })).to.deep.equal({ ok: true, value: 1 })
  })

  it('spawns sync once load and init ran, async once the owner accepted, lazy not at all', async () => {
    const syncId = await idOwnedBy(b, 'sync-', 'slow-load')
    const asyncId = await idOwnedBy(b, 'async-', 'slow-load')
    let t0 = Date.now()
    const s = await a.request<Outcome>('spawn', { pool: 'slow-load', id: syncId, mode: 'sync' })
    expect(s.ok).to.equal(true)
    expect(Date.now() - t0).to.be.at.least(350) // load takes 400 ms
    expect((s as { value: Location }).value.node).to.equal(b.peerId)
    t0 = Date.now()
    const as = await a.request<Outcome>('spawn', { pool: 'slow-load', id: asyncId, mode: 'async' })
    expect(as.ok).to.equal(true)
    expect(Date.now() - t0).to.be.below(350)
    expect(await a.request('alive', { pool: 'slow-load', id: asyncId })).to.equal(true)
    expect(await call(a, 'slow-load', asyncId, 'get')).to.deep.equal({ ok: true, value: true })
  })

  it('counts exactly across three nodes after spawning 30,000 ids', async () => {
    const before = (await a.request<Outcome & { value: number }>('count', { pool: 'counter' })).value
    const spawned = await a.request<{ live: number, ms: number }>('spawnMany', { pool: 'counter', prefix: 'bulk-', n: 30_000, mode: 'async' })
    expect(spawned.live).to.equal(30_000)
    for (const n of [a, b, c]) {
      expect(await n.request('count', { pool: 'counter' })).to.deep.equal({ ok: true, value: before + 30_000 })
    }
    const locals = await Promise.all([a, b, c].map(async n => (await n.request<{ value: number }>('count', { pool: 'counter', local: true })).value))
    expect(locals.reduce((x, y) => x + y, 0)).to.equal(before + 30_000)
    for (const n of locals) expect(n).to.be.above(5_000) // each node holds its share of the ring
    // the heartbeat carries counts too: members() shows them without a round of calls
    const deadline = Date.now() + 5_000
    let seen = 0
    while (Date.now() < deadline) {
      const members = await a.request<Array<{ pools: Record<string, { count: number }> }>>('members')
      seen = members.reduce((x, m) => x + (m.pools.counter?.count ?? 0), 0)
      if (seen === before + 30_000) break
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    expect(seen).to.equal(before + 30_000)
  })

  it('answers alive and where before and after stopWorker', async () => {
    const id = await idOwnedBy(c, 'stop-')
    await call(a, 'counter', id, 'inc')
    const where = await b.request<Location | null>('where', { pool: 'counter', id })
    expect(where?.node).to.equal(c.peerId)
    expect(where?.epoch).to.be.a('number')
    expect(await a.request('stopWorker', { pool: 'counter', id })).to.equal(true)
    expect(await a.request('alive', { pool: 'counter', id })).to.equal(false)
    expect(await b.request('where', { pool: 'counter', id })).to.equal(null)
    expect(await a.request('stopWorker', { pool: 'counter', id })).to.equal(false)
    // the next activation starts over (the counter pool saves nothing) with a larger epoch
    expect(await call(a, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    const again = await b.request<Location>('where', { pool: 'counter', id })
    expect(again.epoch).to.be.above(where?.epoch as number)
  })

  it('brings a handler\'s error name and message to the caller\'s node, and the worker keeps its state', async () => {
    const id = await idOwnedBy(b, 'throw-')
    await call(a, 'counter', id, 'inc')
    await call(a, 'counter', id, 'inc')
    const failed = await call(a, 'counter', id, { op: 'throw', name: 'RoomFullError', message: 'room throw is full' })
    expect(failed).to.deep.equal({ ok: false, error: { name: 'RoomFullError', message: 'room throw is full' } })
    expect(await call(a, 'counter', id, 'get')).to.deep.equal({ ok: true, value: 2 })
    const events = await b.request<{ seen: Record<string, number>, lastFail: { id: string, error: { name: string } } }>('events')
    expect(events.lastFail.id).to.equal(id)
    expect(events.lastFail.error.name).to.equal('RoomFullError')
    const health = await b.request<{ pools: { counter: { failuresPerMin: number } } }>('health')
    expect(health.pools.counter.failuresPerMin).to.be.at.least(1)
  })

  it('times out the caller of a hung handler, counts it, and leaves other workers alone', async () => {
    const hung = await idOwnedBy(c, 'hang-')
    const other = await idOwnedBy(c, 'fine-')
    const [timedOut, fine] = await Promise.all([
      call(a, 'counter', hung, { op: 'hang' }, { timeoutMs: 300 }),
      (async () => { await new Promise(resolve => setTimeout(resolve, 50)); return await call(a, 'counter', other, 'inc') })()
    ])
    expect(timedOut.ok).to.equal(false)
    expect((timedOut as { error: { name: string } }).error.name).to.equal('TimeoutError')
    expect(fine).to.deep.equal({ ok: true, value: 1 })
    // the owner counts the call when its own deadline passes, a moment after the caller's
    let timeouts = 0
    const deadline = Date.now() + 3_000
    while (timeouts === 0 && Date.now() < deadline) {
      timeouts = (await c.request<{ pools: { counter: { timeoutsPerMin: number } } }>('health')).pools.counter.timeoutsPerMin
      if (timeouts === 0) await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(timeouts).to.equal(1)
  })

  it('passivates an idle worker through save and reactivates it with its state through load', async () => {
    const id = await idOwnedBy(b, 'idle-', 'stored')
    for (let i = 0; i < 3; i++) await call(a, 'stored', id, 'inc')
    expect(await a.request('alive', { pool: 'stored', id })).to.equal(true)
    const deadline = Date.now() + 5_000
    while (await a.request('alive', { pool: 'stored', id }) === true && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    expect(await a.request('alive', { pool: 'stored', id })).to.equal(false)
    expect(await call(a, 'stored', id, 'get')).to.deep.equal({ ok: true, value: 3 })
    expect(await call(a, 'stored', id, 'loads')).to.deep.equal({ ok: true, value: 1 })
    const events = await b.request<{ seen: Record<string, number> }>('events')
    expect(events.seen['worker:passivate']).to.be.at.least(1)
  })

  it('fires ticks at about the set rate', async () => {
    const id = await idOwnedBy(c, 'tick-', 'ticker')
    await a.request('spawn', { pool: 'ticker', id, mode: 'sync' })
    const first = (await call(a, 'ticker', id, 'get') as { value: number }).value
    await new Promise(resolve => setTimeout(resolve, 1_000))
    const second = (await call(a, 'ticker', id, 'get') as { value: number }).value
    // 10 ticks in a second at 100 ms; the wheel's 100 ms resolution and a loaded machine allow some slack
    expect(second - first).to.be.within(5, 12)
  })

  it('keeps each sender\'s order under load', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `order-${i}`)
    await Promise.all([
      a.request('seq', { pool: 'counter', ids, sender: 'a', count: 250 }),
      b.request('seq', { pool: 'counter', ids, sender: 'b', count: 250 }),
      c.request('seq', { pool: 'counter', ids, sender: 'c', count: 250 })
    ])
    const deadline = Date.now() + 10_000
    for (const id of ids) {
      let order: { seen: number, violations: number } = { seen: 0, violations: 0 }
      while (Date.now() < deadline) {
        order = (await call(a, 'counter', id, { op: 'order' }) as { value: typeof order }).value
        if (order.seen >= 750) break
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      expect(order).to.deep.include({ seen: 750, violations: 0 })
    }
  })

  it('refuses an unknown pool with UnknownPoolError', async () => {
    const r = await call(a, 'no-such-pool', 'x', 'inc')
    expect(r.ok).to.equal(false)
    expect((r as { error: { name: string } }).error.name).to.equal('UnknownPoolError')
  })

  it('gives a clear error for a message that cannot be encoded, and nothing else breaks', async () => {
    const r = await a.request<{ bad: Outcome, after: Outcome }>('unencodable', { pool: 'counter' })
    expect(r.bad.ok).to.equal(false)
    expect((r.bad as { error: { name: string, message: string } }).error).to.deep.include({ name: 'InvalidMessageError' })
    expect((r.bad as { error: { message: string } }).error.message).to.match(/cannot be encoded/)
    expect(r.after).to.deep.equal({ ok: true, value: 1 })
  })

  it('reports an activation that failed to whoever called', async () => {
    const id = await idOwnedBy(b, 'broken-', 'fail-init')
    const r = await call(a, 'fail-init', id, 'x')
    expect(r).to.deep.equal({ ok: false, error: { name: 'RangeError', message: `cannot start ${id}` } })
  })

  it('reports health per pool and Prometheus metrics', async () => {
    const health = await a.request<{ status: string, pools: Record<string, { status: string, active: number, target: number }> }>('health')
    expect(['online', 'degraded', 'critical']).to.include(health.status)
    expect(health.pools.counter.target).to.equal(100_000)
    expect(health.pools.counter.active).to.be.above(0)
    const remote = await a.request<{ node: string }>('healthOf', { peer: c.peerId })
    expect(remote.node).to.equal(c.peerId)
    const text = await a.request<string>('metrics')
    expect(text).to.match(/^simplepool_turns_total\{pool="counter"\} \d+/m)
    expect(text).to.match(/^simplepool_workers\{pool="counter"\} \d+/m)
    expect(text).to.match(/^simplepool_health_status\{pool="counter"\} [012]/m)
    expect(text).to.match(/^simplepool_node_health_status [012]$/m)
    expect(text).not.to.match(/pool=""/)
  })

  it('lets any node set any node\'s targets, and the ring follows', async () => {
    await a.request('setTargets', { peer: c.peerId, targets: { counter: 300_000 } })
    const deadline = Date.now() + 5_000
    let target = 0
    while (Date.now() < deadline) {
      const members = await b.request<Array<{ peerId: string, pools: Record<string, { target: number }> }>>('members')
      target = members.find(m => m.peerId === c.peerId)?.pools.counter.target ?? 0
      if (target === 300_000) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    expect(target).to.equal(300_000)
    const owners = await b.request<string[]>('owners', { pool: 'counter', n: 3000, prefix: 'share-' })
    const share = owners.filter(o => o === c.peerId).length / owners.length
    expect(share).to.be.within(0.5, 0.7) // 3/5 of the weight
  })
})
