import { expect } from 'chai'
import { DEFAULT_POOL_TARGET } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { definePool } from '../../src/pool.js'
import type { NodeFenceDetail, WorkerPassivateDetail } from '../../src/events.js'
import type { Runtime } from '../../src/runtime.js'
import { Op } from '../../src/protocol/ops.js'
import { settle, useCluster } from '../fixtures.js'

/**
 * Fencing: a node whose event loop stood still long enough to be marked down must not run
 * a turn, save or hand over a worker that may live on elsewhere with a newer epoch.
 */
describe('Fencing', () => {
  const t = useCluster()
  let saved: Map<string, number>

  const pool = (): ReturnType<typeof definePool<{ n: number }, 'inc' | 'get', number>> => definePool<{ n: number }, 'inc' | 'get', number>({
    name: 'c',
    init: () => ({ n: 0 }),
    save: (id, s) => { saved.set(id, s.n) },
    handle: (s, m) => m === 'inc' ? ++s.n : s.n
  })

  beforeEach(() => {
    saved = new Map()
  })
  /** An id that `a` owns. */
  function ownedBy (rt: string): string {
    for (let i = 0; ; i++) if (t.cluster.views.get(rt)?.ownerOf('c', `w${i}`) === rt) return `w${i}`
  }

  /**
   * H holds a worker; A (whose "marked down?" question waits for `answer`) owns it once it
   * sees itself on the ring, and a call for it waits in A's mailbox while A claims it from H
   * (which answers 'mine': it sees no change). With B in `nodes`, the worker is B's on the
   * ring of all three. `sentOn`: the nodes A sends a call on to.
   */
  async function claimerWithACall (nodes: string[]): Promise<{ a: Runtime, target: string, sentOn: string[], call: Promise<string>, answer: (down: boolean) => void }> {
    let answer: (down: boolean) => void = () => {}
    const h = t.cluster.add('H', { pools: [pool()], migrationsPerSecond: 1 })
    const a = t.cluster.add('A', { pools: [pool()], migrationsPerSecond: 1 }, { markedDown: async () => await new Promise<boolean>(resolve => { answer = resolve }) })
    if (nodes.includes('B')) t.cluster.add('B', { pools: [pool()], migrationsPerSecond: 1 })
    let i = 0
    while (ownerAmong(['H', 'A'], `k${i}`) !== 'A' || (nodes.includes('B') && ownerAmong(nodes, `k${i}`) !== 'B')) i++
    const target = `k${i}`
    for (const n of nodes) t.cluster.skew(n, ['H'])
    await h.ref('c', target).call('inc')
    t.clock.advance(61_000) // the rings A saw while the nodes came are past its claim window
    await settle()
    const sentOn: string[] = []
    t.cluster.failCall = (from, to, payload) => {
      if (from === 'A' && (payload as unknown[])[0] === Op.Call) sentOn.push(to)
      return undefined
    }
    t.cluster.skew('A', ['H', 'A'])
    const call = (a.handleCall([Op.Call, 'c', target, 'inc', 1, 0, 10_000], 'C') as Promise<number>).then(() => 'answered', (err: Error) => err.name)
    await settle() // A claims from H, which answers 'mine'; A asks again in a moment
    expect(a.localPool('c')?.activations.get(target)?.queued).to.equal(1)
    return { a, target, sentOn, call, answer: (down) => { answer(down) } }
  }

  /**
   * The claimer of {@link claimerWithACall}, back from its stall, sends the call it holds
   * nowhere while it asks whether it was marked down; told yes, it refuses the call, sends
   * nothing `thenMs` later either, and its claiming activation is gone.
   */
  async function refusedOnceMarkedDown (claimer: Awaited<ReturnType<typeof claimerWithACall>>, thenMs: number): Promise<void> {
    const { a, target, sentOn, call, answer } = claimer
    await settle()
    const whileAsking = [...sentOn]
    answer(true)
    await settle()
    expect(whileAsking).to.deep.equal([]) // nothing goes on, or back, while A asks
    expect(await call).to.equal('NodeUnavailableError')
    t.clock.advance(thenMs)
    await settle()
    expect(sentOn).to.deep.equal([])
    expect(a.localPool('c')?.activations.has(target)).to.equal(false)
  }

  async function twoNodes (markedDown: boolean): Promise<{ a: Runtime, b: Runtime, fences: NodeFenceDetail[], id: string }> {
    const asked: number[] = []
    const a = t.cluster.add('A', { pools: [pool()] }, { markedDown: async (ms) => { asked.push(ms); return markedDown } })
    const b = t.cluster.add('B', { pools: [pool()] })
    const fences: NodeFenceDetail[] = []
    a.events.addEventListener('node:fence', (e) => { fences.push(e.detail) })
    const id = ownedBy('A')
    for (let k = 0; k < 3; k++) await b.ref('c', id).call('inc')
    return { a, b, fences, id }
  }

  it('drops every activation unsaved when the others marked it down, and the call that woke it fails with NodeUnavailableError', async () => {
    const { a, b, fences, id } = await twoNodes(true)
    const passivated: WorkerPassivateDetail[] = []
    a.events.addEventListener('worker:passivate', (e) => { passivated.push(e.detail) })
    t.clock.jump(3_000)
    const call = b.ref('c', id).call('inc').then(() => 'answered', (err: Error) => err.name)
    expect(await call).to.equal('NodeUnavailableError')
    expect(fences).to.have.length(1)
    expect(fences[0]).to.deep.include({ node: 'A', markedDown: true, dropped: 1 })
    expect(fences[0].pausedMs).to.be.at.least(3_000)
    expect(await a.count('c', { local: true })).to.equal(0)
    expect(a.localPool('c')?.stats.counters.fenced).to.equal(1)
    expect(saved.size).to.equal(0)
    expect(passivated).to.deep.equal([])
  })

  it('keeps everything when nobody marked it down: the call waits for the answer and then runs', async () => {
    const { a, b, fences, id } = await twoNodes(false)
    t.clock.jump(3_000)
    expect(await b.ref('c', id).call('inc')).to.equal(4)
    expect(fences[0]).to.deep.include({ markedDown: false, dropped: 0 })
    expect(await a.count('c', { local: true })).to.equal(1)
  })

  it('holds idle passivation (a save) while it asks, even when the wheel is the first to run after the stall', async () => {
    let answer: (down: boolean) => void = () => {}
    const idle = definePool<{ n: number }, 'inc', number>({
      name: 'c', idleTimeoutMs: 500, init: () => ({ n: 0 }), save: (id, s) => { saved.set(id, s.n) }, handle: (s) => ++s.n
    })
    const a = t.cluster.add('A', { pools: [idle] }, { markedDown: async () => await new Promise<boolean>(resolve => { answer = resolve }) })
    await a.ref('c', 'x').call('inc')
    t.clock.advance(450)
    // frozen just before the idle deadline; the wheel's timer, armed before the guard's
    // latest beat, fires first when the process runs again
    t.clock.jump(3_000)
    t.clock.advance(200)
    await settle()
    expect(saved.size).to.equal(0)
    answer(true)
    await settle()
    t.clock.advance(1_000)
    await settle()
    expect(saved.size).to.equal(0)
    expect(await a.count('c', { local: true })).to.equal(0)
  })

  // what starts while it asks claimed from the holders of a view from before the stall,
  // which misses a node that took the worker meanwhile: kept, it lived beside that node's
  // copy and won its handoff with a larger epoch (found by the simulator, seed 91698)
  it('drops what started while it asked too, once it hears it was marked down', async () => {
    let answer: (down: boolean) => void = () => {}
    const a = t.cluster.add('A', { pools: [pool()] }, { markedDown: async () => await new Promise<boolean>(resolve => { answer = resolve }) })
    const b = t.cluster.add('B', { pools: [pool()] })
    const old = ownedBy('A')
    await b.ref('c', old).call('inc')
    t.clock.jump(3_000)
    const held = b.ref('c', old).call('inc').then(() => 'answered', (err: Error) => err.name) // trips the guard
    await settle()
    let fresh = ''
    for (let i = 0; fresh === ''; i++) if (t.cluster.views.get('A')?.ownerOf('c', `n${i}`) === 'A') fresh = `n${i}`
    const spawned = await a.spawn('c', fresh)
    expect(spawned?.node).to.equal('A')
    answer(true)
    expect(await held).to.equal('NodeUnavailableError')
    expect(a.localPool('c')?.activations.has(old)).to.equal(false)
    expect(a.localPool('c')?.activations.has(fresh)).to.equal(false)
  })

  it('does not save for stopWorker while it asks, nor brings back a worker whose save failed after it was dropped', async () => {
    let answer: (down: boolean) => void = () => {}
    let failX: (err: Error) => void = () => {}
    const saves: string[] = []
    const slow = definePool<{ n: number }, 'inc', number>({
      name: 'c',
      idleTimeoutMs: 1_000,
      init: () => ({ n: 0 }),
      save: async (id, s) => {
        saves.push(id)
        // x's first save hangs until the test fails it; every other save succeeds
        if (id === 'x' && saves.filter(v => v === 'x').length === 1) await new Promise<void>((_resolve, reject) => { failX = reject })
        saved.set(id, s.n)
      },
      handle: (s) => ++s.n
    })
    const a = t.cluster.add('A', { pools: [slow] }, { markedDown: async () => await new Promise<boolean>(resolve => { answer = resolve }) })
    await a.ref('c', 'x').call('inc')
    await a.ref('c', 'y').call('inc')
    const stoppingX = a.stopWorker('c', 'x').catch(() => {}) // its save is in flight
    await settle()
    expect(saves).to.deep.equal(['x'])
    t.clock.jump(3_000)
    const stoppingY = a.stopWorker('c', 'y').then(() => 'stopped', (err: Error) => err.name) // trips the guard first
    await settle()
    expect(saves).to.deep.equal(['x']) // no save for y while it asks
    answer(true)
    await settle()
    expect(await stoppingY).to.equal('NodeUnavailableError')
    failX(new Error('store down'))
    await stoppingX
    // a dropped worker brought back by its failed save would be idle-passivated, and saved, again
    for (let step = 0; step < 50; step++) {
      t.clock.advance(100)
      await settle()
    }
    expect(saves).to.deep.equal(['x'])
    expect(saved.size).to.equal(0)
    expect(await a.count('c', { local: true })).to.equal(0)
  })

  it('sends nothing a claimer held before the stall on to the new owner while it asks; marked down, it refuses it', async () => {
    // A claims a worker from H (which keeps it: it sees no change) for a call that waits in
    // A's mailbox; the ring moves on to B, then A stands still. The claim's retry, at the
    // resume, gives up (the worker is B's now): the call's sender was told it failed
    // meanwhile (A was marked down), and it must not run on B late, after what came next
    const claimer = await claimerWithACall(['H', 'A', 'B'])
    t.cluster.skew('B', ['H', 'A', 'B'])
    t.cluster.skew('A', ['H', 'A', 'B'])
    t.clock.jump(3_000)
    t.clock.advance(300) // the claim's retry comes due with the guard's beat
    await refusedOnceMarkedDown(claimer, 100)
  })

  it('sends nothing a claimer held before the stall back to the holder when the first thing it reads is a ring moved back; marked down, it refuses it', async () => {
    const claimer = await claimerWithACall(['H', 'A'])
    t.clock.jump(3_000)
    t.cluster.skew('A', ['H']) // read first at the resume: the worker is H's again
    await refusedOnceMarkedDown(claimer, 300)
  })

  it('answers a claim read while it asks only once what it held for that worker went on (seeds 5513, 5837)', async () => {
    // A stood still; a call for B's worker waits on A's fence, then B claims the worker from
    // A. Answered 'none' at once, B would start it and run what came straight to it before
    // the call A sends on when it knows it was not marked down
    let answer: (down: boolean) => void = () => {}
    const a = t.cluster.add('A', { pools: [pool()] }, { markedDown: async () => await new Promise<boolean>(resolve => { answer = resolve }) })
    t.cluster.add('B', { pools: [pool()] })
    const id = ownedBy('B')
    const order: string[] = []
    t.cluster.failCall = (from, to, payload) => {
      if (from === 'A' && to === 'B' && (payload as unknown[])[0] === Op.Call) order.push('call sent on')
      return undefined
    }
    t.clock.jump(3_000)
    const call = a.handleCall([Op.Call, 'c', id, 'inc', 1, 0, 10_000], 'C') as Promise<number>
    const claim = Promise.resolve(a.handleCall([Op.Claim, 'c', id], 'B')).then((r) => { order.push(`claim answered ${String(r)}`) })
    await settle()
    expect(order).to.deep.equal([]) // neither while A asks
    answer(false)
    await Promise.all([call, claim])
    expect(order).to.deep.equal(['call sent on', 'claim answered none'])
  })

  it('holding no copy, answers a claim while it asks "mine": a call it read at the resume goes on and runs on the claimer first', async () => {
    // a sender's call reached A while it stood still; the sender, seeing B as the owner now,
    // sends its next straight to B, which claims from A. Answered 'none' while A asks, B would
    // start and run the later call before the earlier one A sends on once it knows (seed 5722)
    let answer: (down: boolean) => void = () => {}
    const a = t.cluster.add('A', { pools: [pool()], migrationsPerSecond: 1 }, { markedDown: async () => await new Promise<boolean>(resolve => { answer = resolve }) })
    const b = t.cluster.add('B', { pools: [pool()], migrationsPerSecond: 1 })
    let i = 0
    while (ownerAmong(['A', 'B'], `k${i}`) !== 'B') i++
    const target = `k${i}`
    for (const n of ['A', 'B']) t.cluster.skew(n, ['A'])
    t.clock.advance(61_000)
    await settle()
    t.clock.jump(3_000)
    const first = (a.handleCall([Op.Call, 'c', target, 'inc', 1, 0, 10_000], 'C') as Promise<number>).catch((err: Error) => err.name)
    t.cluster.skew('A', ['A', 'B'])
    t.cluster.skew('B', ['A', 'B'])
    const next = b.ref<'inc', number>('c', target).call('inc')
    await settle() // B claims from A, which still asks whether it was marked down
    answer(false)
    for (let k = 0; k < 3; k++) {
      t.clock.advance(100) // B asks again, a claim retry later
      await settle()
    }
    expect(await first).to.equal(1)
    expect(await next).to.equal(2)
  })

  it('a handoff with a newer epoch replaces a stale copy, whose waiting messages run on the new one; an older one is refused', async () => {
    const { a, id } = await twoNodes(false)
    const stale = a.localPool('c')?.activations.get(id)
    expect(stale).to.not.equal(undefined)
    const epoch = stale?.epoch as number
    const refused = a.handleCall([Op.HandoffMany, 'c', [id, epoch - 5, { n: 99 }]], 'B') as Array<{ name: string, data: { epoch: number } }>
    expect(refused[0]).to.deep.include({ name: 'HandoffError' })
    expect(refused[0].data.epoch).to.equal(epoch) // the sender learns its copy is the older one
    expect(await a.ref('c', id).call('get')).to.equal(3)
    const taken = a.handleCall([Op.HandoffMany, 'c', [id, epoch + 10, { n: 40 }]], 'B') as number[]
    expect(taken[0]).to.be.above(epoch + 10)
    expect(await a.ref('c', id).call('inc')).to.equal(41)
    expect(a.localPool('c')?.stats.counters.fenced).to.equal(1)
    expect(saved.size).to.equal(0)
  })

  /**
   * A, B and C host the pool; A's lease (1 s) hears whom `silent` leaves out, and A's
   * "marked down?" question answers `markedDown`. A holds `id`, incremented three times.
   */
  async function leased (markedDown: boolean, markedHere = new Map<string, number>()): Promise<{ a: Runtime, b: Runtime, silent: Set<string>, fences: NodeFenceDetail[], asked: number[], id: string }> {
    const silent = new Set<string>()
    const asked: number[] = []
    const a = t.cluster.add('A', { pools: [pool()] }, {
      markedDown: async (ms) => { asked.push(ms); return markedDown },
      lease: { heardAgo: (peer) => silent.has(peer) ? undefined : 0, departed: () => false, markedDownAgo: (peer) => markedHere.has(peer) ? t.clock.monotonic() - (markedHere.get(peer) as number) : undefined, ms: () => 1_000 }
    })
    const b = t.cluster.add('B', { pools: [pool()] })
    t.cluster.add('C', { pools: [pool()] })
    const fences: NodeFenceDetail[] = []
    a.events.addEventListener('node:fence', (e) => { fences.push(e.detail) })
    const id = ownedBy('A')
    for (let k = 0; k < 3; k++) await b.ref('c', id).call('inc')
    return { a, b, silent, fences, asked, id }
  }

  /** The cut heals: A hears everyone again, and its fence asks (a turn of the event loop at least). */
  async function heal (silent: Set<string>): Promise<void> {
    silent.clear()
    t.clock.advance(200)
    await settle()
    t.clock.advance(10)
    await settle()
  }

  it('cut off from a majority, takes no call (NodeIsolatedError at once, from here and from elsewhere) until it hears one again; not marked down, it goes on with everything', async () => {
    const { a, b, silent, fences, asked, id } = await leased(false)
    silent.add('B').add('C')
    t.clock.advance(300)
    await settle()
    const outcome = async (p: Promise<unknown>): Promise<string> => await p.then(() => 'answered', (err: Error) => err.name)
    expect(await outcome(a.ref('c', id).call('inc'))).to.equal('NodeIsolatedError')
    expect(await outcome(b.ref('c', id).call('inc'))).to.equal('NodeIsolatedError')
    t.clock.advance(2_000)
    await settle()
    expect(fences).to.deep.equal([])
    await heal(silent)
    expect(asked).to.have.length(1)
    expect(fences).to.have.length(1)
    expect(fences[0]).to.deep.include({ node: 'A', cause: 'isolation', markedDown: false, dropped: 0 })
    expect(await b.ref('c', id).call('inc')).to.equal(4)
  })

  it('cut off from a majority, drops casts from other nodes to its workers at once (counted) rather than run them once it hears one again (seed 996)', async () => {
    const { a, b, silent, id } = await leased(false)
    silent.add('B').add('C')
    t.clock.advance(300)
    await settle()
    b.ref('c', id).cast('inc')
    await settle()
    await heal(silent)
    // it did not run: three increments from before the cut, and the next call's
    expect(await b.ref('c', id).call('inc')).to.equal(4)
    expect(a.routing.droppedCasts).to.equal(1)
  })

  it('cut off from a majority, and its own view marked members down meanwhile, drops every activation unsaved though nobody marked it down', async () => {
    const markedHere = new Map<string, number>()
    const { a, silent, fences } = await leased(false, markedHere)
    silent.add('B').add('C')
    t.clock.advance(2_500)
    markedHere.set('B', t.clock.monotonic())
    t.clock.advance(500)
    await settle()
    await heal(silent)
    expect(fences[0]).to.deep.include({ cause: 'isolation', markedDown: true, dropped: 1 })
    expect(await a.count('c', { local: true })).to.equal(0)
  })

  it('cut off from a majority and marked down meanwhile, drops every activation unsaved once it hears one again', async () => {
    const { a, b, silent, fences, id } = await leased(true)
    silent.add('B').add('C')
    t.clock.advance(3_000)
    await settle()
    await heal(silent)
    expect(fences[0]).to.deep.include({ cause: 'isolation', markedDown: true, dropped: 1 })
    expect(await a.count('c', { local: true })).to.equal(0)
    expect(saved.size).to.equal(0)
    // the next call starts it afresh (from `load`, here none): the copy the majority made is elsewhere
    expect(await b.ref('c', id).call('inc')).to.equal(1)
  })
})

/** The owner of `id` in pool `c` when only `serving` are up. */
function ownerAmong (serving: string[], id: string): string | undefined {
  const members = serving.map(peerId => ({ peerId, addresses: [], status: 'up' as const, pools: { c: { target: DEFAULT_POOL_TARGET } }, incarnation: 1, liveness: 'alive' as const }))
  return Placement.fromSnapshot({ version: 1, self: '', members }).ownerOf('c', id)
}
