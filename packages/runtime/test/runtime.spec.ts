import { expect } from 'chai'
import { ManualClock, systemClock } from '@simplepool/core'
import { definePool } from '../src/pool.js'
import type { Runtime } from '../src/runtime.js'
import type { WorkerFailDetail, WorkerPassivateDetail } from '../src/events.js'
import { LocalCluster, rejection, settle, useCluster } from './fixtures.js'

interface Counter { n: number }
type Msg = 'inc' | 'get' | { op: 'throw' } | { op: 'wait', ms: number } | { op: 'hang' }

function counterPool (clock: ManualClock, extra: Record<string, unknown> = {}): ReturnType<typeof definePool<Counter, Msg, number>> {
  return definePool<Counter, Msg, number>({
    name: 'counter',
    init: () => ({ n: 0 }),
    handle: (s, msg) => {
      if (msg === 'inc') return ++s.n
      if (msg === 'get') return s.n
      if (msg.op === 'throw') {
        s.n = -1000 // a throwing turn's changes stay: the state is the worker's, the error the caller's
        const err = new Error('no such room')
        err.name = 'RoomError'
        throw err
      }
      if (msg.op === 'wait') return new Promise<number>(resolve => { clock.setTimeout(() => { resolve(s.n) }, msg.ms) })
      return new Promise<number>(() => {})
    },
    ...extra
  })
}

describe('Runtime on one node', () => {
  const t = useCluster()
  let rt: Runtime

  it('activates on the first call and keeps state between turns', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    const ref = rt.ref<Msg, number>('counter', 'c1')
    expect(await rt.alive('counter', 'c1')).to.equal(false)
    expect(await ref.call('inc')).to.equal(1)
    ref.cast('inc')
    ref.cast('inc')
    expect(await ref.call('get')).to.equal(3)
    expect(await rt.where('counter', 'c1')).to.deep.include({ node: 'A' })
    expect(await rt.count('counter', { local: true })).to.equal(1)
  })

  it('handles messages from one sender in send order, one turn at a time', async () => {
    let running = 0
    let maxRunning = 0
    const seen: number[] = []
    const pool = definePool<object, number, void>({
      name: 'ordered',
      init: () => ({}),
      handle: async (_s, k) => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await Promise.resolve()
        seen.push(k)
        running--
      }
    })
    rt = t.cluster.add('A', { pools: [pool] })
    const ref = rt.ref<number, void>('ordered', 'o')
    const calls: Array<Promise<void>> = []
    for (let k = 0; k < 200; k++) {
      if (k % 3 === 0) calls.push(ref.call(k))
      else ref.cast(k)
    }
    await Promise.all(calls)
    await settle()
    expect(seen).to.deep.equal(Array.from({ length: 200 }, (_, k) => k))
    expect(maxRunning).to.equal(1)
  })

  it('rejects a throwing turn with its own name and message; the worker goes on with its state', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    const fails: WorkerFailDetail[] = []
    rt.events.addEventListener('worker:fail', (e) => { fails.push(e.detail) })
    const ref = rt.ref<Msg, number>('counter', 'c')
    await ref.call('inc')
    const err = await rejection(ref.call({ op: 'throw' }))
    expect(err.name).to.equal('RoomError')
    expect(err.message).to.equal('no such room')
    expect(await ref.call('inc')).to.equal(-999)
    expect(fails).to.have.length(1)
    expect(fails[0]).to.deep.include({ pool: 'counter', id: 'c', during: 'turn' })
    expect(rt.localPool('counter')?.stats.counters.failures).to.equal(1)
  })

  it('times out the callers of a hung turn, bounds its mailbox, and leaves other workers alone', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock, { mailboxLimit: 5 })] })
    const hung = rt.ref<Msg, number>('counter', 'hung')
    const first = rejection(hung.call({ op: 'hang' }, { timeoutMs: 100 }))
    const queued = rejection(hung.call('get', { timeoutMs: 300 }))
    await settle()
    for (let i = 0; i < 4; i++) hung.cast('inc')
    expect(() => { hung.cast('inc') }).to.throw().with.property('name', 'OverloadedError')
    expect(await rt.ref('counter', 'other').call('inc')).to.equal(1)
    t.clock.advance(120)
    expect((await first).name).to.equal('TimeoutError')
    t.clock.advance(200)
    expect((await queued).name).to.equal('TimeoutError')
    const counters = rt.localPool('counter')?.stats.counters
    expect(counters?.timeouts).to.equal(2)
    expect(counters?.overloaded).to.equal(1)
  })

  it('reaches only a live worker with spawn: false', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    const err = await rejection(rt.ref('counter', 'ghost').call('get', { spawn: false }))
    expect(err.name).to.equal('WorkerNotAliveError')
    expect(() => { rt.ref('counter', 'ghost').cast('inc', { spawn: false }) }).to.throw().with.property('name', 'WorkerNotAliveError')
    expect(await rt.alive('counter', 'ghost')).to.equal(false)
    await rt.ref('counter', 'ghost').call('inc')
    expect(await rt.ref('counter', 'ghost').call('get', { spawn: false })).to.equal(1)
  })

  it('spawns sync (after load and init), async (once accepted) and lazy (not at all)', async () => {
    const slow = definePool<{ ok: boolean }, unknown, boolean>({
      name: 'slow',
      load: async () => await new Promise(resolve => { t.clock.setTimeout(() => { resolve(undefined) }, 50) }),
      init: () => ({ ok: true }),
      handle: (s) => s.ok
    })
    rt = t.cluster.add('A', { pools: [slow] })
    let syncDone = false
    const sync = rt.spawn('slow', 's', { mode: 'sync' }).then((loc) => { syncDone = true; return loc })
    const asyncLoc = await rt.spawn('slow', 'a', { mode: 'async' })
    expect(asyncLoc).to.deep.include({ node: 'A' })
    expect(await rt.spawn('slow', 'l', { mode: 'lazy' })).to.equal(null)
    expect(await rt.alive('slow', 'l')).to.equal(false)
    await settle()
    expect(syncDone).to.equal(false)
    t.clock.advance(60)
    const loc = await sync
    expect(loc?.node).to.equal('A')
    expect(await rt.count('slow', { local: true })).to.equal(2)
  })

  it('times out a sync spawn whose load hangs, and an aborted one', async () => {
    const pool = definePool<object, unknown, unknown>({
      name: 'stuck-load',
      load: async () => await new Promise(() => {}),
      init: () => ({}),
      handle: () => undefined
    })
    rt = t.cluster.add('A', { pools: [pool] })
    const timedOut = rejection(rt.spawn('stuck-load', 'x', { mode: 'sync', timeoutMs: 100 }))
    const controller = new AbortController()
    const aborted = rejection(rt.spawn('stuck-load', 'y', { mode: 'sync', signal: controller.signal }))
    await settle()
    controller.abort()
    t.clock.advance(150)
    expect((await timedOut).name).to.equal('TimeoutError')
    expect((await aborted).name).to.equal('AbortError')
  })

  it('times out a stopWorker queued behind a stuck turn', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    void rt.ref('counter', 'stuck').call({ op: 'hang' }, { timeoutMs: 60_000 }).catch(() => {})
    await settle()
    const stop = rejection(rt.stopWorker('counter', 'stuck', { timeoutMs: 100 }))
    t.clock.advance(150)
    expect((await stop).name).to.equal('TimeoutError')
  })

  it('answers a call running when the node stops with NodeUnavailableError', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    const running = rejection(rt.ref('counter', 'busy').call({ op: 'wait', ms: 60_000 }, { timeoutMs: 120_000 }))
    await settle()
    await rt.stop()
    expect((await running).name).to.equal('NodeUnavailableError')
  })

  it('keeps the deadlines of calls that arrive while the worker saves', async () => {
    const pool = definePool<Counter, 'inc' | 'get', number>({
      name: 'slow-save',
      init: () => ({ n: 0 }),
      save: async () => { await new Promise<void>(resolve => { t.clock.setTimeout(resolve, 5_000) }) },
      handle: (s, m) => m === 'inc' ? ++s.n : s.n
    })
    rt = t.cluster.add('A', { pools: [pool] })
    await rt.ref('slow-save', 's').call('inc')
    const stopping = rt.stopWorker('slow-save', 's')
    await settle()
    const late = rejection(rt.ref('slow-save', 's').call('get', { timeoutMs: 100 }))
    t.clock.advance(150)
    expect((await late).name).to.equal('TimeoutError')
    t.clock.advance(5_000)
    expect(await stopping).to.equal(true)
  })

  it('lets a second stopWorker join a stop in progress rather than start the worker again', async () => {
    let inits = 0
    const pool = definePool<Counter, 'inc', number>({
      name: 'slow-save',
      init: () => { inits++; return { n: 0 } },
      save: async () => { await new Promise<void>(resolve => { t.clock.setTimeout(resolve, 1_000) }) },
      handle: (s) => ++s.n
    })
    rt = t.cluster.add('A', { pools: [pool] })
    await rt.ref('slow-save', 's').call('inc')
    const first = rt.stopWorker('slow-save', 's')
    await settle()
    const second = rt.stopWorker('slow-save', 's')
    t.clock.advance(1_100)
    expect(await first).to.equal(true)
    expect(await second).to.equal(true)
    await settle()
    expect(inits).to.equal(1)
    expect(await rt.alive('slow-save', 's')).to.equal(false)
  })

  it('finishes a turn that stops its own worker before saving it', async () => {
    const saved: number[] = []
    const pool = definePool<Counter, 'self-stop', number>({
      name: 'self',
      init: () => ({ n: 1 }),
      save: (_id, s) => { saved.push(s.n) },
      handle: (s, _m, ctx) => {
        void rt.stopWorker('self', ctx.id)
        s.n = 99 // the rest of the turn is part of the state that is saved
        return s.n
      }
    })
    rt = t.cluster.add('A', { pools: [pool] })
    expect(await rt.ref('self', 'x').call('self-stop')).to.equal(99)
    await settle()
    expect(saved).to.deep.equal([99])
    expect(await rt.alive('self', 'x')).to.equal(false)
  })

  it('gives every activation a larger epoch', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    await rt.spawn('counter', 'e')
    const first = (await rt.where('counter', 'e'))?.epoch as number
    await rt.stopWorker('counter', 'e')
    await rt.spawn('counter', 'e')
    const second = (await rt.where('counter', 'e'))?.epoch as number
    expect(second).to.be.above(first)
  })

  it('stops a worker after what was queued before, and reports whether one was live', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    const ref = rt.ref<Msg, number>('counter', 's')
    ref.cast('inc')
    expect(await rt.stopWorker('counter', 's')).to.equal(true)
    expect(await rt.alive('counter', 's')).to.equal(false)
    expect(await rt.stopWorker('counter', 's')).to.equal(false)
  })

  it('passivates an idle worker through save, and brings it back through load', async () => {
    const saved = new Map<string, Counter>()
    const pool = definePool<Counter, 'inc' | 'get', number>({
      name: 'stored',
      idleTimeoutMs: 1_000,
      init: () => ({ n: 0 }),
      load: (id) => saved.get(id),
      save: (id, s) => { saved.set(id, { ...s }) },
      handle: (s, m) => m === 'inc' ? ++s.n : s.n
    })
    rt = t.cluster.add('A', { pools: [pool] })
    const passivated: WorkerPassivateDetail[] = []
    rt.events.addEventListener('worker:passivate', (e) => { passivated.push(e.detail) })
    const ref = rt.ref<'inc' | 'get', number>('stored', 'p')
    await ref.call('inc')
    await ref.call('inc')
    t.clock.advance(500)
    await ref.call('inc') // activity moves the deadline
    t.clock.advance(800)
    expect(await rt.alive('stored', 'p')).to.equal(true)
    t.clock.advance(400)
    expect(await rt.alive('stored', 'p')).to.equal(false)
    expect(passivated).to.have.length(1)
    expect(passivated[0]).to.deep.include({ id: 'p', reason: 'idle' })
    expect(saved.get('p')).to.deep.equal({ n: 3 })
    expect(await ref.call('get')).to.equal(3)
  })

  it('does not passivate a worker stuck in a turn, and looks at it again only once per wheel slot', async () => {
    // a t.clock that fails loudly when timers are armed in a loop, instead of spinning for ever
    let armed = 0
    const setTimeout = t.clock.setTimeout
    t.clock.setTimeout = (fn, ms) => {
      if (++armed > 10_000) throw new Error('timers armed in a loop')
      return setTimeout(fn, ms)
    }
    rt = t.cluster.add('A', { pools: [counterPool(t.clock, { idleTimeoutMs: 1_000 })] })
    const ref = rt.ref<Msg, number>('counter', 'stuck')
    void ref.call({ op: 'hang' }, { timeoutMs: 100 }).catch(() => {})
    await settle()
    const before = armed
    t.clock.advance(5_000)
    expect(await rt.alive('counter', 'stuck')).to.equal(true)
    // the sampler's once a second, the watch's deadline, and the wheel and the stall
    // guard about every 100 ms each
    expect(armed - before).to.be.below(160)
  })

  it('turns ticks into turns at the set rate, spread over one period', async () => {
    const firstTicks: number[] = []
    const pool = definePool<{ ticks: number }, 'get', number>({
      name: 'ticker',
      tickMs: 1_000,
      init: () => ({ ticks: 0 }),
      tick: (s) => { if (s.ticks++ === 0) firstTicks.push(t.clock.monotonic()) },
      handle: (s) => s.ticks
    })
    rt = t.cluster.add('A', { pools: [pool] })
    const t0 = t.clock.monotonic()
    await rt.spawnMany('ticker', Array.from({ length: 200 }, (_, i) => `t${i}`))
    for (let i = 0; i < 100; i++) {
      t.clock.advance(100)
      await settle()
    }
    const counts = await Promise.all(Array.from({ length: 200 }, async (_, i) => await rt.ref('ticker', `t${i}`).call('get') as number))
    for (const c of counts) expect(c).to.be.within(9, 11)
    // first ticks fall across the whole first period, not in one bucket
    const spread = Math.max(...firstTicks) - Math.min(...firstTicks)
    expect(spread).to.be.above(700)
    expect(Math.min(...firstTicks) - t0).to.be.below(300)
  })

  it('keeps no wheel entry and arms no timer for workers with no tick and no idle timeout', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    const before = t.clock.pendingTimers
    await rt.spawnMany('counter', Array.from({ length: 100_000 }, (_, i) => `w${i}`))
    expect(await rt.count('counter', { local: true })).to.equal(100_000)
    expect(t.clock.pendingTimers).to.equal(before)
  })

  it('names bad input: an unknown pool, a bad id, a bad option, a malformed network message', async () => {
    rt = t.cluster.add('A', { pools: [counterPool(t.clock)] })
    expect(() => rt.ref('nope', 'x')).to.throw().with.property('name', 'UnknownPoolError')
    expect(() => rt.ref('counter', '')).to.throw().with.property('name', 'InvalidOptionError')
    expect((await rejection(rt.call('counter', 'x', 'inc', { timeoutMs: -1 }))).name).to.equal('InvalidOptionError')
    expect((await rejection(rt.spawn('counter', 'x', { mode: 'eager' as never }))).name).to.equal('InvalidOptionError')
    for (const bad of [null, 'x', [], [2], [2, 'counter'], [2, 'counter', 'x', 'inc', 1, -1, 100], [99, 'counter', 'x']]) {
      expect(() => rt.handleCall(bad, 'B')).to.throw().with.property('name', 'InvalidMessageError')
    }
    expect(() => rt.handleCall([2, 'nope', 'x', 'inc', 1, 0, 100], 'B')).to.throw().with.property('name', 'UnknownPoolError')
    expect(() => { rt.handleCast([1, 'counter'], 'B') }).to.throw().with.property('name', 'InvalidMessageError')
    expect(await rt.ref('counter', 'x').call('inc')).to.equal(1)
  })

  it('reports a failed activation to whoever waited for it, and keeps no half-made worker', async () => {
    const pool = definePool<object, unknown, unknown>({
      name: 'broken',
      init: (id) => { throw new RangeError(`cannot start ${id}`) },
      handle: () => undefined
    })
    rt = t.cluster.add('A', { pools: [pool] })
    const err = await rejection(rt.ref('broken', 'b').call('x'))
    expect(err.name).to.equal('RangeError')
    expect(err.message).to.equal('cannot start b')
    expect(await rt.alive('broken', 'b')).to.equal(false)
  })

  it('places workers with a pool\'s own placement function', async () => {
    // every worker of one tenant on the node that owns the tenant
    const pool = counterPool(t.clock, { placement: (id: string, ctx: { ownerOf: (k: string) => string | undefined }) => ctx.ownerOf(id.split(':')[0]) })
    const a = t.cluster.add('A', { pools: [pool] })
    t.cluster.add('B', { pools: [pool] })
    t.cluster.add('C', { pools: [pool] })
    for (const tenant of ['t1', 't2', 't3', 't4']) {
      const nodes = new Set<string>()
      for (let i = 0; i < 20; i++) {
        await a.ref('counter', `${tenant}:${i}`).call('inc')
        nodes.add((await a.where('counter', `${tenant}:${i}`))?.node as string)
      }
      expect(nodes.size).to.equal(1)
    }
  })
})

describe('Runtime scheduling (real clock)', () => {
  it('lets timers and I/O run while a loop awaits one local call after another', async () => {
    const cluster = new LocalCluster(systemClock)
    try {
      const pool = definePool<Counter, 'inc', number>({ name: 'counter', init: () => ({ n: 0 }), handle: (s) => ++s.n })
      const rt = cluster.add('A', { pools: [pool] })
      const ref = rt.ref<'inc', number>('counter', 'busy')
      let timerFired = false
      setTimeout(() => { timerFired = true }, 5)
      const end = performance.now() + 400
      let calls = 0
      // without the scheduler's slice this loop never leaves the microtask queue, and the timer waits for it
      while (performance.now() < end && !timerFired) { await ref.call('inc'); calls++ }
      expect(timerFired).to.equal(true)
      expect(calls).to.be.above(0)
    } finally {
      await cluster.stop()
    }
  })
})

describe('Runtime across nodes (in one process)', () => {
  const t = useCluster()

  it('routes to the owner, and counts exactly across nodes', async () => {
    const pool = counterPool(t.clock)
    const a = t.cluster.add('A', { pools: [pool] })
    const b = t.cluster.add('B', { pools: [pool] })
    const c = t.cluster.add('C', { pools: [pool] })
    const ids = Array.from({ length: 3000 }, (_, i) => `w${i}`)
    expect(await a.spawnMany('counter', ids)).to.equal(3000)
    const locals = await Promise.all([a, b, c].map(async rt => await rt.count('counter', { local: true })))
    for (const n of locals) expect(n).to.be.within(700, 1300)
    expect(await b.count('counter')).to.equal(3000)
    expect(await c.ref('counter', 'w7').call('inc')).to.equal(1)
    expect(await a.ref('counter', 'w7').call('inc')).to.equal(2)
  })

  it('counts every id spawnMany made live when a remote batch answers while a local one is awaited', async () => {
    // A's activations wait on the t.clock, B's are immediate: B answers while A awaits its own
    const slow = definePool<Counter, 'get', number>({
      name: 'slow',
      load: async (_id, ctx) => {
        if (ctx.node === 'A') await new Promise(resolve => { t.clock.setTimeout(() => { resolve(undefined) }, 10) })
        return undefined
      },
      init: () => ({ n: 0 }),
      handle: (s) => s.n
    })
    const a = t.cluster.add('A', { pools: [slow] })
    t.cluster.add('B', { pools: [slow] })
    const view = t.cluster.views.get('A')
    const remote = Array.from({ length: 400 }, (_, i) => `s${i}`).filter(id => view?.ownerOf('slow', id) === 'B')
    const local = Array.from({ length: 400 }, (_, i) => `s${i}`).filter(id => view?.ownerOf('slow', id) === 'A')
    let live: number | undefined
    // the remote group comes first in the batch, so its call is in flight while the local group is awaited
    void a.spawnMany('slow', [...remote, ...local]).then((n) => { live = n })
    for (let i = 0; i < 50 && live === undefined; i++) {
      await settle()
      t.clock.advance(10)
    }
    expect(live).to.equal(400)
  })

  it('forwards a message sent to a node that does not own it, and hints the sender', async () => {
    const pool = counterPool(t.clock)
    const a = t.cluster.add('A', { pools: [pool] })
    const b = t.cluster.add('B', { pools: [pool] })
    const c = t.cluster.add('C', { pools: [pool] })
    t.cluster.skew('A', ['B']) // A believes B owns everything
    let id = 0
    while (t.cluster.views.get('C')?.ownerOf('counter', `f${id}`) !== 'C') id++
    const target = `f${id}`
    expect(await a.ref('counter', target).call('inc')).to.equal(1) // A → B → C
    a.ref('counter', target).cast('inc')
    await settle()
    await settle()
    expect(await c.ref('counter', target).call('get')).to.equal(2)
    expect(b.localPool('counter')?.stats.counters.forwarded).to.equal(2)
    expect(a.routing.staleRoutes).to.equal(1) // one hint per second per sender and pool
    expect(await b.alive('counter', target)).to.equal(true)
    expect((await b.where('counter', target))?.node).to.equal('C')
  })

  it('keeps one sender\'s order across casts and calls to a worker on another node', async () => {
    const seen: number[] = []
    const pool = definePool<object, number, number>({ name: 'log', init: () => ({}), handle: (_s, k) => { seen.push(k); return k } })
    t.cluster.add('A', { pools: [pool] })
    const b = t.cluster.add('B', { pools: [pool] })
    let id = 0
    while (t.cluster.views.get('B')?.ownerOf('log', `o${id}`) !== 'A') id++
    const ref = b.ref<number, number>('log', `o${id}`)
    const calls: Array<Promise<number>> = []
    for (let k = 0; k < 300; k++) {
      if (k % 4 === 3) calls.push(ref.call(k))
      else ref.cast(k)
    }
    await Promise.all(calls)
    await settle()
    expect(seen).to.deep.equal(Array.from({ length: 300 }, (_, k) => k))
  })

  it('times the turns of calls from other nodes too', async () => {
    const pool = counterPool(t.clock)
    const a = t.cluster.add('A', { pools: [pool] })
    const b = t.cluster.add('B', { pools: [pool] })
    let id = 0
    while (t.cluster.views.get('B')?.ownerOf('counter', `t${id}`) !== 'A') id++
    for (let i = 0; i < 64; i++) await b.ref('counter', `t${id}`).call('inc')
    expect(a.localPool('counter')?.stats.quantile(0.5)).to.be.above(0)
  })

  it('rejects spawnMany with the error of a batch that failed, and the node goes on', async () => {
    const pool = counterPool(t.clock)
    const a = t.cluster.add('A', { pools: [pool] })
    const b = t.cluster.add('B', { pools: [pool] })
    await b.stop() // B still owns half the ring in A's view, and refuses everything
    const err = await rejection(a.spawnMany('counter', Array.from({ length: 5000 }, (_, i) => `m${i}`)))
    expect(err.name).to.equal('NodeUnavailableError')
    await settle()
    let id = 0
    while (t.cluster.views.get('A')?.ownerOf('counter', `ok${id}`) !== 'A') id++
    expect(await a.ref('counter', `ok${id}`).call('inc')).to.equal(1)
  })

  it('gives up with NodeUnavailableError when views disagree past the hop limit', async () => {
    const pool = counterPool(t.clock)
    const a = t.cluster.add('A', { pools: [pool] })
    t.cluster.add('B', { pools: [pool] })
    t.cluster.skew('A', ['B'])
    t.cluster.skew('B', ['A'])
    const err = await rejection(a.ref('counter', 'x').call('inc'))
    expect(err.name).to.equal('NodeUnavailableError')
    expect(err.message).to.match(/hops/)
  })
})
