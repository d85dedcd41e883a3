import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { decode, encode } from 'cbor-x'
import { definePool } from '@simplepool/runtime'
// runtimes joined in one process by an in-memory transport, on the clock they are given
import { LocalCluster, quiet, settle } from '../../../runtime/test/fixtures.js'
import { AdminEventLog } from '../../src/admin/event-log.js'
import { DRAIN_POLL_MS } from '@simplepool/core'
import { Drains } from '../../src/node/drain.js'
import type { DrainComponents } from '../../src/node/drain.js'
import { DrainedPools } from '../../src/node/drained-pools.js'
import { handleNodeOp } from '../../src/node/node-ops.js'
import type { NodeOpsComponents } from '../../src/node/node-ops.js'
import { encodeDrain, encodeHeld, encodeUndrain } from '../../src/node/node-protocol.js'

interface Counter { n: number }
/** A pool without `save`: a worker's state survives only if the handoff carries it. */
const counter = definePool<Counter, 'inc' | 'get', number>({
  name: 'counter',
  init: () => ({ n: 0 }),
  handle: (s, m) => m === 'inc' ? ++s.n : s.n
})

const notHere = (): never => { throw new Error('not part of a drain') }

/**
 * Nodes A and B as far as a drain goes: B's own side (its drained pools, on its runtime),
 * answering the node protocol through CBOR as the transport would carry it; and A's
 * drains, asking B.
 */
function drainCluster (clock: ManualClock, cluster: LocalCluster): { drains: Drains, log: AdminEventLog, logB: AdminEventLog, c: DrainComponents, statuses: string[] } {
  const log = new AdminEventLog()
  const statuses: string[] = []
  const logB = new AdminEventLog()
  const b = cluster.runtimes.get('B')
  if (b === undefined) throw new Error('no node B')
  const drainedB = new DrainedPools({
    self: () => 'B',
    targets: () => b.targets(),
    setTarget: (pool, target) => { b.setTarget(pool, target) },
    sizeOf: (pool) => b.pool(pool)?.size ?? 0,
    // every node sees B's new targets at once (no target band here: 0 is always announced)
    announceTargets: () => { cluster.retarget('B', b.targets()) },
    setStatus: (status) => { statuses.push(status) },
    rebalance: () => { b.rebalance() },
    events: logB
  })
  const opsB: NodeOpsComponents = {
    self: () => 'B',
    poolNames: () => b.poolNames(),
    runs: (pool) => b.pool(pool) !== undefined,
    drained: drainedB,
    applyTargets: notHere,
    stopping: () => false,
    markedDown: notHere,
    rebalance: notHere,
    health: notHere,
    rings: notHere,
    watchFigures: notHere,
    whereHere: notHere,
    movesOf: notHere,
    movePlan: notHere,
    access: b.access
  }
  const ask = async (peerId: string, payload: unknown[]): Promise<unknown> => {
    if (peerId !== 'B') throw new Error(`no node ${peerId} here`)
    await Promise.resolve()
    return decode(encode(handleNodeOp(decode(encode(payload)), 'A', opsB)))
  }
  const c: DrainComponents = {
    clock,
    logger: quiet,
    events: log,
    start: async (peerId, pools) => { await ask(peerId, encodeDrain({ pools })) },
    undo: async (peerId, pools) => { await ask(peerId, encodeUndrain({ pools })) },
    held: async (peerId, pools) => await ask(peerId, encodeHeld({ pools })) as number,
    drainSelf: notHere,
    handingOver: notHere,
    heardFromAllSince: notHere
  }
  return { drains: new Drains(c), log, logB, c, statuses }
}

/** Whether `p` has settled, after the microtasks and one macrotask that are due. */
async function settled (p: Promise<unknown>): Promise<boolean> {
  let done = false
  p.then(() => { done = true }, () => { done = true })
  await settle()
  return done
}

/** Advances `clock` in steps of `stepMs`, letting promises settle between steps, until `p` settles; the virtual ms it took. */
async function runUntil (clock: ManualClock, p: Promise<unknown>, stepMs: number, maxMs: number): Promise<number> {
  const from = clock.monotonic()
  while (!await settled(p)) {
    if (clock.monotonic() - from > maxMs) throw new Error(`still pending after ${maxMs} virtual ms`)
    clock.advance(stepMs)
  }
  return clock.monotonic() - from
}

describe('Drains, on a manual clock', () => {
  let clock: ManualClock
  let cluster: LocalCluster

  beforeEach(() => {
    clock = new ManualClock()
    cluster = new LocalCluster(clock)
  })

  afterEach(async () => { await cluster.stop() })

  it('drains a node of real runtimes: every worker leaves it with its state, without real time passing', async () => {
    const a = cluster.add('A', { pools: [counter] })
    const b = cluster.add('B', { pools: [counter] })
    const ids = Array.from({ length: 300 }, (_, i) => `w${i}`)
    for (const [i, id] of ids.entries()) for (let k = 0; k <= i % 5; k++) await a.ref('counter', id).call('inc')
    const onB = b.pool('counter')?.size ?? 0
    expect(onB).to.be.within(60, 240)
    const { drains, log, logB, statuses } = drainCluster(clock, cluster)

    const drain = drains.drain('B')
    // nothing moves the drain along but the clock: without it, it waits
    for (let i = 0; i < 5; i++) expect(await settled(drain)).to.equal(false)
    const took = await runUntil(clock, drain, 10, 60_000)
    await drain

    expect(b.pool('counter')?.size).to.equal(0)
    expect(a.pool('counter')?.size).to.equal(ids.length)
    expect(b.targets()).to.deep.equal({ counter: 0 })
    expect(statuses).to.deep.equal(['draining'])
    for (const [i, id] of ids.entries()) {
      expect(await a.ref('counter', id).call('get')).to.equal(i % 5 + 1)
      expect((await a.where('counter', id))?.node).to.equal('A')
    }
    expect(a.pool('counter')?.counters.migratedIn).to.equal(onB)
    // B logged its side, A the wait: progress at most once a virtual second, then done
    expect(logB.since(undefined, 10).events.map(e => e.type)).to.deep.equal(['drain:start'])
    const types = log.since(undefined, 100).events.map(e => e.type)
    expect(types.at(-1)).to.equal('drain:done')
    expect(types.filter(t => t === 'drain:progress').length).to.be.at.most(Math.ceil(took / 1_000))
    expect(took).to.be.at.least(DRAIN_POLL_MS)
  })

  it('ends the wait with AbortError when the node is undrained meanwhile, and gives the node its target back', async () => {
    cluster.add('A', { pools: [counter] })
    const b = cluster.add('B', { pools: [counter] })
    const { drains, log, statuses } = drainCluster(clock, cluster)
    // held forever: the handoff never gets a turn (the clock does not move)
    for (let i = 0; i < 50; i++) await cluster.runtimes.get('A')?.ref('counter', `w${i}`).call('inc')
    const drain = drains.drain('B')
    const caught = drain.catch((err: Error) => err)
    await settle()
    expect(await settled(drain)).to.equal(false)
    await drains.undrain('B')
    clock.advance(DRAIN_POLL_MS)
    const err = await caught
    expect(err).to.have.property('name', 'AbortError')
    expect(b.targets()).to.deep.equal({ counter: 100_000 })
    expect(statuses).to.deep.equal(['draining', 'up'])
    expect(log.since(undefined, 10).events.map(e => e.type).at(-1)).to.equal('drain:cancel')
  })

  it('gives up with TimeoutError at its deadline on the clock, and logs the failure', async () => {
    cluster.add('A', { pools: [counter] })
    cluster.add('B', { pools: [counter] })
    const { log, c } = drainCluster(clock, cluster)
    const drains = new Drains({ ...c, held: async () => 7 })
    const drain = drains.drain('B', { timeoutMs: 2_000 })
    const caught = drain.catch((err: Error) => err)
    const took = await runUntil(clock, drain, 100, 10_000)
    expect(await caught).to.have.property('name', 'TimeoutError')
    expect(took).to.be.within(2_000, 2_000 + DRAIN_POLL_MS + 100)
    expect(log.since(undefined, 10).events.map(e => e.type)).to.deep.equal(['drain:progress', 'drain:fail'])
  })

  it('before a stop, drains itself and waits on the clock until nothing is left to hand over, or its deadline', async () => {
    let left = 3
    const drainedSelf: boolean[] = []
    const drains = new Drains({
      clock,
      logger: quiet,
      events: new AdminEventLog(),
      start: notHere,
      undo: notHere,
      held: notHere,
      drainSelf: () => { drainedSelf.push(true) },
      handingOver: () => left-- > 0,
      heardFromAllSince: () => true
    })
    const stop = drains.beforeStop(30_000)
    expect(await runUntil(clock, stop, 10, 1_000)).to.be.within(150, 200)
    expect(drainedSelf).to.deep.equal([true])
    left = Infinity
    expect(await runUntil(clock, drains.beforeStop(1_000), 50, 5_000)).to.be.within(1_000, 1_100)
    // 0: no handoff at all
    await drains.beforeStop(0)
    expect(drainedSelf).to.have.length(2)
  })
})
