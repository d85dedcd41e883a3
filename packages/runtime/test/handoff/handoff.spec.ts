import { expect } from 'chai'
import { CLAIM_COUNTS_GRACE_MS, DEFAULT_POOL_TARGET, HANDOFF_FAILED_RETRY_MS, ManualClock, NodeUnavailableError, TimeoutError } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { definePool } from '../../src/pool.js'
import type { Pool } from '../../src/pool.js'
import type { MigrationDetail, WorkerMigrateDetail } from '../../src/events.js'
import { Op } from '../../src/protocol/ops.js'
import type { Runtime } from '../../src/runtime.js'
import { LocalCluster, settle, useCluster } from '../fixtures.js'

interface Counter { n: number }
const counter = definePool<Counter, 'inc' | 'get', number>({
  name: 'counter',
  init: () => ({ n: 0 }),
  load: () => undefined,
  handle: (s, m) => m === 'inc' ? ++s.n : s.n
})

/** A pool named `counter` whose workers are saved to and loaded from a map of its own. */
function storedCounter (): Pool<Counter, 'inc' | 'get', number> {
  const stored = new Map<string, number>()
  return definePool<Counter, 'inc' | 'get', number>({
    name: 'counter',
    init: () => ({ n: 0 }),
    load: (id) => stored.has(id) ? { n: stored.get(id) as number } : undefined,
    save: (id, s) => { stored.set(id, s.n) },
    handle: (s, m) => m === 'inc' ? ++s.n : s.n
  })
}

/** Lets the migrators pump: time in steps of their 10 ms, with the microtasks between. */
async function run (clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10)
    await settle()
  }
}

/**
 * A pool named `counter` whose workers log what they get (a turn answers the log's length);
 * 'slow' holds its turn until `release()`: a worker busy when a claim comes.
 */
function slowLog (): { log: Pool<string[], string, number>, release: () => void } {
  let done = (): void => {}
  const log = definePool<string[], string, number>({
    name: 'counter',
    init: () => [],
    load: () => undefined,
    handle: (s, m) => m === 'slow' ? new Promise<number>(resolve => { done = () => { resolve(s.length) } }) : s.push(m)
  })
  return { log, release: () => { done() } }
}

describe('Handoff', () => {
  const t = useCluster()

  it('hands the workers whose owner moved to a node that joins, with their state', async () => {
    const a = t.cluster.add('A', { pools: [counter] })
    const ids = Array.from({ length: 300 }, (_, i) => `w${i}`)
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 7; k++) await a.ref('counter', id).call('inc')
    const migrated: WorkerMigrateDetail[] = []
    a.events.addEventListener('worker:migrate', (e) => { migrated.push(e.detail) })
    const phases: Array<[string, MigrationDetail]> = []
    for (const type of ['migration:start', 'migration:progress', 'migration:done'] as const) {
      a.events.addEventListener(type, (e) => { phases.push([type, e.detail]) })
    }
    const b = t.cluster.add('B', { pools: [counter] })
    const arrived: WorkerMigrateDetail[] = []
    b.events.addEventListener('worker:migrate', (e) => { arrived.push(e.detail) })
    await run(t.clock, 1_000)
    expect(a.migrationBacklog).to.equal(0)
    const onB = await b.count('counter', { local: true })
    expect(onB).to.be.within(90, 210)
    expect(await a.count('counter', { local: true }) + onB).to.equal(300)
    expect(migrated).to.have.length(onB)
    expect(arrived).to.have.length(onB)
    expect(arrived[0]).to.deep.include({ from: 'A', to: 'B', node: 'B' })
    expect(phases[0][0]).to.equal('migration:start')
    expect(phases[0][1]).to.deep.include({ node: 'A', moved: 0 })
    expect(phases[0][1].backlog).to.be.at.least(onB)
    expect(phases[phases.length - 1][0]).to.equal('migration:done')
    expect(phases[phases.length - 1][1]).to.deep.include({ node: 'A', moved: onB, backlog: 0 })
    for (const [i, id] of ids.entries()) {
      const where = await a.where('counter', id)
      expect(where?.node).to.equal(t.cluster.views.get('A')?.ownerOf('counter', id))
      expect(await b.ref('counter', id).call('get')).to.equal(i % 7 + 1)
    }
  })

  it('moves nothing for a ring change undone within the rebalance delay, and moves once it holds', async () => {
    const a = t.cluster.add('A', { pools: [counter] })
    t.cluster.add('B', { pools: [counter] })
    for (let i = 0; i < 300; i++) await a.ref('counter', `w${i}`).call('inc')
    const onA = await a.count('counter', { local: true })
    t.cluster.add('C', { pools: [counter] })
    await run(t.clock, 200)
    t.cluster.skew('A', ['A', 'B']) // C is gone again in A's view, within the 500 ms
    await run(t.clock, 1_000)
    expect(a.localPool('counter')?.stats.counters.migratedOut).to.equal(0)
    expect(await a.count('counter', { local: true })).to.equal(onA)
    t.cluster.skew('A', ['A', 'B', 'C'])
    await run(t.clock, 300)
    expect(a.localPool('counter')?.stats.counters.migratedOut).to.equal(0)
    expect(a.migrationBacklog).to.equal(onA) // waiting for the ring to hold still
    await run(t.clock, 1_000)
    expect(a.localPool('counter')?.stats.counters.migratedOut).to.be.above(30)
    expect(a.migrationBacklog).to.equal(0)
  })

  it('drops its own copy when the new owner already holds a newer one (fencing, from the sending side)', async () => {
    const a = t.cluster.add('A', { pools: [counter] })
    const ids = Array.from({ length: 100 }, (_, i) => `w${i}`)
    for (const id of ids) await a.ref('counter', id).call('inc')
    // B starts its own copies without asking A (no claim window): newer epochs, fresh state
    const b = t.cluster.add('B', { pools: [counter], claimWindowMs: 0 })
    t.clock.advance(10)
    const onB = ids.filter(id => t.cluster.views.get('B')?.ownerOf('counter', id) === 'B')
    for (const id of onB) expect(await b.ref('counter', id).call('inc')).to.equal(1)
    await run(t.clock, 1_000)
    expect(a.localPool('counter')?.stats.counters.fenced).to.equal(onB.length)
    expect(a.localPool('counter')?.stats.counters.migratedOut).to.equal(0)
    for (const id of onB) {
      expect(a.localPool('counter')?.activations.has(id)).to.equal(false)
      expect(await a.ref('counter', id).call('get')).to.equal(1)
    }
  })

  it('sends a handoff whose answer was lost again, and the sender drops the copies the receiver took', async () => {
    const a = t.cluster.add('A', { pools: [counter] })
    const ids = Array.from({ length: 100 }, (_, i) => `w${i}`)
    for (const id of ids) await a.ref('counter', id).call('inc')
    let lost = 0
    t.cluster.loseReply = (from, _to, payload) => from === 'A' && (payload as unknown[])[0] === Op.HandoffMany && lost++ === 0
    const b = t.cluster.add('B', { pools: [counter] })
    await run(t.clock, 3_000)
    expect(lost).to.be.above(1)
    const onB = await b.count('counter', { local: true })
    expect(onB).to.be.above(10)
    expect(await a.count('counter', { local: true }) + onB).to.equal(100)
    for (const id of ids) expect(await a.ref('counter', id).call('get')).to.equal(1)
  })

  for (const [what, lost] of [
    ['timed out', () => new TimeoutError('lost on the way')],
    ['closed with its stream in flight', () => new NodeUnavailableError('stream to B closed', { peer: 'B', reason: 'closed' })]
  ] as const) {
    it(`a first try that ${what} is sent again marked so; a resend the receiver does not remember taking is not taken: the sender's copies go back to the store, and come from it on the new owner`, async () => {
      const durable = storedCounter()
      const a = t.cluster.add('A', { pools: [durable] })
      const ids = Array.from({ length: 100 }, (_, i) => `f${i}`)
      for (const id of ids) await a.ref('counter', id).call('inc')
      // the first handoff message never reaches B (it times out on the way): every resend
      // reaches a node that does not remember taking what it carries, as one would that
      // took the first and forgot it since
      const first = new Set<unknown>()
      const resends: unknown[] = []
      t.cluster.failCall = (from, to, payload) => {
        const p = payload as unknown[]
        if (from !== 'A' || to !== 'B' || p[0] !== Op.HandoffMany) return undefined
        if (p[3] === true) {
          resends.push(p)
          return undefined
        }
        first.add(p)
        return lost()
      }
      const b = t.cluster.add('B', { pools: [durable] })
      const onB = ids.filter(id => t.cluster.views.get('A')?.ownerOf('counter', id) === 'B')
      await run(t.clock, 3_000)
      expect(first.size).to.be.above(0)
      expect(resends.length).to.be.above(0)
      // B took nothing handed to it; A saved its copies and let them go
      expect(b.localPool('counter')?.stats.counters.migratedIn).to.equal(0)
      expect(a.migrationBacklog).to.equal(0)
      for (const id of onB) expect(a.localPool('counter')?.activations.has(id)).to.equal(false)
      // each comes back on B from the store, with its state
      for (const id of onB) expect(await a.ref('counter', id).call('get')).to.equal(1)
      expect(await b.count('counter', { local: true })).to.equal(onB.length)
    })
  }

  it('a handoff whose first try may have arrived and whose next failed otherwise (a dial refused, say) goes back to the store, not resumed', async () => {
    const durable = storedCounter()
    const a = t.cluster.add('A', { pools: [durable] })
    const ids = Array.from({ length: 100 }, (_, i) => `g${i}`)
    for (const id of ids) await a.ref('counter', id).call('inc')
    t.cluster.failCall = (from, to, payload) => {
      const p = payload as unknown[]
      if (from !== 'A' || to !== 'B' || p[0] !== Op.HandoffMany) return undefined
      return p[3] === true ? new NodeUnavailableError('could not open a stream to B', { peer: 'B', reason: 'other' }) : new TimeoutError('lost on the way')
    }
    const b = t.cluster.add('B', { pools: [durable] })
    const onB = ids.filter(id => t.cluster.views.get('A')?.ownerOf('counter', id) === 'B')
    await run(t.clock, 3_000)
    expect(b.localPool('counter')?.stats.counters.migratedIn).to.equal(0)
    for (const id of onB) expect(a.localPool('counter')?.activations.has(id), `${id} resumed on the sender`).to.equal(false)
    t.cluster.failCall = undefined
    for (const id of onB) expect(await a.ref('counter', id).call('get')).to.equal(1)
  })

  it('hands workers whose handoff message failed over again later, with no ring change to prompt it', async () => {
    const a = t.cluster.add('A', { pools: [counter] })
    const ids = Array.from({ length: 100 }, (_, i) => `r${i}`)
    for (const id of ids) await a.ref('counter', id).call('inc')
    // B refuses what it is handed at first (as a node fencing after a stall it was marked down in)
    let refusing = true
    t.cluster.failCall = (from, to, payload) => refusing && from === 'A' && to === 'B' && (payload as unknown[])[0] === Op.HandoffMany
      ? new NodeUnavailableError('node B was marked down while it stood still', { node: 'B' })
      : undefined
    const b = t.cluster.add('B', { pools: [counter] })
    const onB = ids.filter(id => t.cluster.views.get('A')?.ownerOf('counter', id) === 'B')
    await run(t.clock, 1_000)
    expect(await b.count('counter', { local: true })).to.equal(0)
    refusing = false
    await run(t.clock, HANDOFF_FAILED_RETRY_MS + 500)
    expect(await b.count('counter', { local: true })).to.equal(onB.length)
    expect(await a.count('counter', { local: true })).to.equal(ids.length - onB.length)
    expect(a.migrationBacklog).to.equal(0)
  })

  it('passes a claim on to the node that kept the worker when an earlier claimer gave it up as the ring moved on', async () => {
    // A holds the worker; B claims it (A, not seeing B yet, keeps it); then C comes and owns it
    const a = t.cluster.add('A', { pools: [counter], migrationsPerSecond: 1 }) // too slow to push anything
    const b = t.cluster.add('B', { pools: [counter], migrationsPerSecond: 1 })
    const c = t.cluster.add('C', { pools: [counter], migrationsPerSecond: 1 })
    const owner = (serving: string[], id: string): string | undefined => {
      t.cluster.skew('A', serving)
      return t.cluster.views.get('A')?.ownerOf('counter', id)
    }
    let i = 0
    while (owner(['A', 'B'], `k${i}`) !== 'B' || owner(['A', 'B', 'C'], `k${i}`) !== 'C') i++
    const target = `k${i}`
    t.cluster.skew('A', ['A'])
    t.cluster.skew('B', ['A'])
    for (let k = 0; k < 5; k++) await a.ref('counter', target).call('inc')
    t.cluster.skew('C', ['A', 'B']) // C joins a ring that moved while A held workers: it claims, from B
    t.cluster.skew('C', ['A', 'B', 'C'])
    t.cluster.skew('B', ['A', 'B'])
    const call = b.ref('counter', target).call('inc') as Promise<number>
    await run(t.clock, 100) // B claims from A, which answers 'mine'
    t.cluster.skew('A', ['A', 'B', 'C'])
    t.cluster.skew('B', ['A', 'B', 'C']) // B gives up and sends the call on to C, which claims from B
    await run(t.clock, 1_000)
    expect(await call).to.equal(6)
    expect((await c.where('counter', target))?.node).to.equal('C')
  })

  it('passes a claim on to the node it handed the worker to, for a claimer that never saw that ring (it stood still)', async () => {
    // H hands the worker to M; N, whose view went from [H] straight to [H, N], claims it from H alone
    const h = t.cluster.add('H', { pools: [counter] })
    const m = t.cluster.add('M', { pools: [counter] })
    const n = t.cluster.add('N', { pools: [counter] })
    let i = 0
    while (ownerAmong(['H', 'N'], `p${i}`) !== 'N' || ownerAmong(['M', 'N'], `p${i}`) !== 'N') i++
    const target = `p${i}`
    for (const x of ['H', 'M', 'N']) t.cluster.skew(x, ['H'])
    for (let k = 0; k < 5; k++) await h.ref('counter', target).call('inc')
    t.cluster.skew('H', ['M'])
    t.cluster.skew('M', ['M'])
    await run(t.clock, 1_000)
    expect(m.localPool('counter')?.activations.has(target)).to.equal(true)
    t.cluster.skew('M', ['M', 'N'])
    t.cluster.skew('N', ['H', 'N'])
    expect(await n.ref('counter', target).call('inc')).to.equal(6)
    await run(t.clock, 100)
    expect(m.localPool('counter')?.activations.has(target)).to.equal(false)
  })

  it('counts a claim it passed on until the holder answers it: a stop waits for it before it announces leaving', async () => {
    // H handed the worker to M, which is busy when N's claim comes through H: cut by H's
    // stop, the claim read 'none' at N, which started the worker afresh (seed 10379)
    const { log, release } = slowLog()
    const h = t.cluster.add('H', { pools: [log] })
    const m = t.cluster.add('M', { pools: [log] })
    const n = t.cluster.add('N', { pools: [log] })
    let i = 0
    while (ownerAmong(['H', 'N'], `p${i}`) !== 'N' || ownerAmong(['M', 'N'], `p${i}`) !== 'N') i++
    const target = `p${i}`
    for (const x of ['H', 'M', 'N']) t.cluster.skew(x, ['H'])
    await h.ref('counter', target).call('first')
    t.cluster.skew('H', ['M'])
    t.cluster.skew('M', ['M'])
    await run(t.clock, 1_000)
    expect(m.localPool('counter')?.activations.has(target)).to.equal(true)
    const slow = m.ref('counter', target).call('slow')
    await settle()
    t.cluster.skew('M', ['M', 'N'])
    t.cluster.skew('N', ['H', 'N'])
    const second = n.ref('counter', target).call('second')
    await run(t.clock, 100)
    expect(h.claimsPassingOn).to.equal(1)
    release()
    await run(t.clock, 100)
    expect(h.claimsPassingOn).to.equal(0)
    expect(await slow).to.equal(1)
    expect(await second).to.equal(2)
  })

  it('claims from the owner before a burst of ring changes read at once (a node back from a pause reads many records together)', async () => {
    // H holds the worker; N's view went from [H] to [H, N], then through four more at once
    const h = t.cluster.add('H', { pools: [counter], migrationsPerSecond: 1 }) // too slow to push anything
    const n = t.cluster.add('N', { pools: [counter] })
    const xs = ['X1', 'X2', 'X3', 'X4']
    for (const x of xs) t.cluster.add(x, { pools: [counter] })
    const steps = xs.map((_, k) => ['H', 'N', ...xs.slice(0, k + 1)])
    let i = 0
    // N owns it from [H, N] on; without N it is an X's (which holds nothing), not H's
    while ([['H', 'N'], ...steps].some(s => ownerAmong(s, `b${i}`) !== 'N') || ownerAmong(['H', ...xs], `b${i}`) === 'H') i++
    const target = `b${i}`
    for (const x of ['H', 'N', ...xs]) t.cluster.skew(x, ['H'])
    for (let k = 0; k < 5; k++) await h.ref('counter', target).call('inc')
    t.clock.advance(1_000)
    t.cluster.skew('N', ['H', 'N'])
    t.clock.advance(1_000)
    for (const s of steps) t.cluster.skew('N', s)
    t.cluster.skew('H', steps[steps.length - 1])
    expect(await n.ref('counter', target).call('inc')).to.equal(6)
  })

  it('passes no claim on to a node marked down since it took the worker: the claimer starts at once', async () => {
    const h = t.cluster.add('H', { pools: [counter] })
    t.cluster.add('M', { pools: [counter] })
    const n = t.cluster.add('N', { pools: [counter] })
    let i = 0
    while (ownerAmong(['H', 'N'], `d${i}`) !== 'N') i++
    const target = `d${i}`
    for (const x of ['H', 'M', 'N']) t.cluster.skew(x, ['H'])
    await h.ref('counter', target).call('inc')
    t.cluster.skew('H', ['M'])
    t.cluster.skew('M', ['M'])
    await run(t.clock, 1_000)
    t.cluster.skew('N', ['H', 'N']) // while M holds workers: N claims in the pool
    await t.cluster.down('M') // its copy is lost with it; N claims from H, which handed it to M
    let answered: number | undefined
    void (n.ref('counter', target).call('inc') as Promise<number>).then(v => { answered = v })
    await run(t.clock, 200)
    expect(answered).to.equal(1)
  })

  it('claims only in pools another node held workers of when the ring moved, once the counts are fresh: a formed cluster pays none', async () => {
    let claims = 0
    t.cluster.loseReply = (_from, _to, payload) => {
      if ((payload as unknown[])[0] === Op.Claim) claims++
      return false
    }
    const a = t.cluster.add('A', { pools: [counter] })
    t.cluster.add('B', { pools: [counter] })
    // until then a count may miss a worker started a moment before the change (every activation
    // asks: see the simulator's graceful.spec.ts); then they are read again, fresh
    await run(t.clock, CLAIM_COUNTS_GRACE_MS + 10)
    for (let i = 0; i < 200; i++) await a.ref('counter', `f${i}`).call('inc')
    expect(claims).to.equal(0)
    // a node joining nodes that hold workers does claim
    const c = t.cluster.add('C', { pools: [counter] })
    const onC = Array.from({ length: 200 }, (_, i) => `f${i}`).filter(id => t.cluster.views.get('C')?.ownerOf('counter', id) === 'C')
    for (const id of onC) expect(await c.ref('counter', id).call('get')).to.equal(1)
    expect(claims).to.be.above(0)
  })

  /**
   * A and B, where A alone sees only itself (too slow to hand anything over) and has taken
   * five turns of `target`, a worker B owns once both see both (after `refresh()`).
   */
  async function claimedOnce (): Promise<{ a: Runtime, b: Runtime, target: string }> {
    const a = t.cluster.add('A', { pools: [counter], migrationsPerSecond: 1 })
    let id = 0
    const b = t.cluster.add('B', { pools: [counter] })
    t.cluster.skew('A', ['A'])
    t.cluster.skew('B', ['A'])
    while (t.cluster.views.get('A')?.ownerOf('counter', `c${id}`) !== 'A' || ownerWithBoth(t.cluster, `c${id}`) !== 'B') id++
    const target = `c${id}`
    for (let k = 0; k < 5; k++) await a.ref('counter', target).call('inc')
    return { a, b, target }
  }

  it('moves a worker at once when a message reaches its new owner first (a claim)', async () => {
    const { a, b, target } = await claimedOnce()
    t.cluster.refresh() // both nodes now see A and B: the worker's owner is B
    expect(await b.ref('counter', target).call('inc')).to.equal(6)
    expect(await a.alive('counter', target)).to.equal(true) // true: it lives on B now
    expect((await a.where('counter', target))?.node).to.equal('B')
    expect(await a.count('counter', { local: true })).to.equal(0)
  })

  it('reads a claim whose stream closed in flight as no answer, not as "not here": it asks again and gets the worker with its state', async () => {
    const { b, target } = await claimedOnce()
    let closed = 0
    t.cluster.failCall = (from, to, payload) => from === 'B' && to === 'A' && (payload as unknown[])[0] === Op.Claim && closed++ === 0
      ? new NodeUnavailableError('stream to A closed', { peer: 'A', reason: 'closed' })
      : undefined
    t.cluster.refresh()
    const inc = b.ref('counter', target).call('inc')
    await run(t.clock, 2_000)
    expect(await inc).to.equal(6)
    expect(closed).to.be.above(1)
  })

  it('claims from the owner the rings name though its last count said 0 (sent before a handoff reached it)', async () => {
    const a = t.cluster.add('A', { pools: [counter], migrationsPerSecond: 1 })
    let stale = false
    const b = t.cluster.add('B', { pools: [counter] }, { countOf: (peer, pool) => stale && peer === 'A' ? 0 : t.cluster.runtimes.get(peer)?.counts()[pool] })
    t.cluster.skew('A', ['A'])
    t.cluster.skew('B', ['A'])
    let id = 0
    while (t.cluster.views.get('A')?.ownerOf('counter', `z${id}`) !== 'A' || ownerWithBoth(t.cluster, `z${id}`) !== 'B') id++
    const target = `z${id}`
    for (let k = 0; k < 5; k++) await a.ref('counter', target).call('inc')
    t.cluster.refresh()
    stale = true // A's count as a heartbeat sent before the worker reached it would give it
    expect(await b.ref('counter', target).call('inc')).to.equal(6)
  })

  it('runs what the node it claims from sent on ahead of what came straight to it meanwhile', async () => {
    const log = definePool<string[], string, number>({ name: 'counter', init: () => [], load: () => undefined, handle: (s, m) => s.push(m) })
    const a = t.cluster.add('A', { pools: [log], migrationsPerSecond: 1 })
    const b = t.cluster.add('B', { pools: [log] })
    t.cluster.skew('A', ['A'])
    t.cluster.skew('B', ['A'])
    let id = 0
    while (t.cluster.views.get('A')?.ownerOf('counter', `y${id}`) !== 'A' || ownerWithBoth(t.cluster, `y${id}`) !== 'B') id++
    const target = `y${id}`
    await a.ref('counter', target).call('first')
    t.cluster.refresh()
    // a sender's later message reaches B directly while B claims; its earlier one, taken by A, is sent on
    const direct = b.handleCall([Op.Call, 'counter', target, 'third', 1, 0, 5_000], 'C') as Promise<number>
    const forwarded = b.handleCall([Op.Call, 'counter', target, 'second', 1, 1, 5_000], 'A') as Promise<number>
    expect([await forwarded, await direct]).to.deep.equal([2, 3])
  })

  it('a claimer holding no state sends what waits for it on to the node that claims it, ahead of what came there directly', async () => {
    const { log, release } = slowLog()
    const h = t.cluster.add('H', { pools: [log], migrationsPerSecond: 1 })
    const a = t.cluster.add('A', { pools: [log], migrationsPerSecond: 1 })
    const b = t.cluster.add('B', { pools: [log], migrationsPerSecond: 1 })
    let id = 0
    while (ownerAmong(['H', 'A'], `k${id}`) !== 'A' || ownerAmong(['H', 'A', 'B'], `k${id}`) !== 'B') id++
    const target = `k${id}`
    for (const n of ['H', 'A', 'B']) t.cluster.skew(n, ['H'])
    await h.ref('counter', target).call('first')
    const slow = h.ref('counter', target).call('slow') // H is busy: a claim waits for it
    await settle()
    // A sees itself as the owner: a sender's first message waits there while A claims from H
    t.cluster.skew('A', ['H', 'A'])
    const second = a.handleCall([Op.Call, 'counter', target, 'second', 1, 0, 5_000], 'C') as Promise<number>
    await settle()
    // then everyone sees B as the owner; the sender's next message goes straight to B, which claims from H and A
    t.cluster.skew('B', ['H', 'A'])
    for (const n of ['H', 'A', 'B']) t.cluster.skew(n, ['H', 'A', 'B'])
    const third = b.handleCall([Op.Call, 'counter', target, 'third', 1, 0, 5_000], 'C') as Promise<number>
    await settle()
    release()
    await run(t.clock, 1_000)
    expect(await slow).to.equal(1)
    expect([await second, await third]).to.deep.equal([2, 3])
  })

  it('a busy worker that is claimed runs only what came before the claim; what came after follows it', async () => {
    const { log, release } = slowLog()
    const a = t.cluster.add('A', { pools: [log], migrationsPerSecond: 1 })
    const b = t.cluster.add('B', { pools: [log], migrationsPerSecond: 1 })
    let id = 0
    while (ownerAmong(['A', 'B'], `q${id}`) !== 'B') id++
    const target = `q${id}`
    for (const n of ['A', 'B']) t.cluster.skew(n, ['A'])
    await a.ref('counter', target).call('first')
    const slow = a.ref('counter', target).call('slow')
    await settle()
    // the owner moves to B: a sender's message reaches B, which claims from A (busy)
    for (const n of ['A', 'B']) t.cluster.skew(n, ['A', 'B'])
    const second = b.handleCall([Op.Call, 'counter', target, 'second', 1, 0, 5_000], 'C') as Promise<number>
    await settle()
    // the move is undone in A's view (a drain undone): the sender's next message reaches A, behind the busy turn
    t.cluster.skew('A', ['A'])
    const third = a.handleCall([Op.Call, 'counter', target, 'third', 1, 0, 5_000], 'C') as Promise<number>
    await settle()
    release()
    await run(t.clock, 1_000)
    expect(await slow).to.equal(1)
    expect([await second, await third]).to.deep.equal([2, 3])
  })

  it('loses no message sent while workers move', async () => {
    const a = t.cluster.add('A', { pools: [counter] })
    const ids = Array.from({ length: 200 }, (_, i) => `m${i}`)
    for (const id of ids) await a.ref('counter', id).call('inc')
    t.cluster.add('B', { pools: [counter] })
    // keep sending from A while the handoffs run: every one must land exactly once
    let sent = 0
    for (let round = 0; round < 20; round++) {
      for (const id of ids) {
        a.ref('counter', id).cast('inc')
        sent++
      }
      await run(t.clock, 20)
    }
    await run(t.clock, 500)
    const b = t.cluster.runtimes.get('B')
    let total = 0
    for (const id of ids) total += await (b?.ref('counter', id).call('get') as Promise<number>)
    expect(total).to.equal(ids.length + sent)
  })
})

/** The owner of `id` on a ring of `serving` (each with the default target). */
function ownerAmong (serving: string[], id: string): string | undefined {
  const members = serving.map(peerId => ({ peerId, addresses: [], status: 'up' as const, pools: { counter: { target: DEFAULT_POOL_TARGET } }, incarnation: 1, liveness: 'alive' as const }))
  return Placement.fromSnapshot({ version: 1, self: '', members }).ownerOf('counter', id)
}

function ownerWithBoth (cluster: LocalCluster, id: string): string | undefined {
  cluster.refresh()
  const owner = cluster.views.get('A')?.ownerOf('counter', id)
  cluster.skew('A', ['A'])
  cluster.skew('B', ['A'])
  return owner
}
