import { expect } from 'chai'
import { createNode } from 'simplepool'
import type { SimplePoolNode } from 'simplepool'
import { ask, counters, readEvents, twoNodes } from './admin-client.js'
import type { Sse } from './admin-client.js'

const TOKEN = 'test-admin-token'

describe('admin HTTP API: the watch, the worker inspector and the move plan (two nodes in one process)', function () {
  this.timeout(30_000)
  let a: SimplePoolNode
  let b: SimplePoolNode
  const port = (): number => a.adminAddress?.port ?? 0

  before(async () => {
    // ring changes move nothing until asked (a rebalance), so a plan can be looked at first
    ;[a, b] = await twoNodes({ admin: { port: 0, token: TOKEN }, runtime: { rebalanceDelayMs: 120_000 } }, { runtime: { rebalanceDelayMs: 120_000 } })
  })

  after(async () => {
    await b?.stop()
    await a?.stop()
  })

  it('serves the dashboard page and its chart library, and nothing else of the disk', async () => {
    const bare = await fetch(`http://127.0.0.1:${port()}/dashboard`, { redirect: 'manual' })
    expect(bare.status).to.equal(302)
    expect(new URL(bare.headers.get('location') ?? '', bare.url).pathname).to.equal('/dashboard/')
    const page = await ask(port(), 'GET', '/dashboard/')
    expect(page.status).to.equal(200)
    expect(page.type).to.match(/^text\/html/)
    expect(page.body).to.include('app.js')
    const uplot = await ask(port(), 'GET', '/dashboard/uPlot.iife.min.js')
    expect(uplot.status).to.equal(200)
    expect(uplot.body).to.include('uPlot')
    const policy = (await fetch(`http://127.0.0.1:${port()}/dashboard/`)).headers.get('content-security-policy')
    expect(policy).to.include("frame-ancestors 'none'")
    for (const path of ['/dashboard/package.json', '/dashboard/..%2Fpackage.json', '/dashboard/%2E%2E%2Fdist%2Findex.js', '/dashboard/__proto__', '/dashboard/constructor']) {
      expect((await ask(port(), 'GET', path)).status, path).to.equal(404)
    }
  })

  it('/v1/watch: hello, then a tick a second with every node\'s figures, rates from the traffic and p50/p99 merged from both nodes', async () => {
    await a.spawnMany('counter', Array.from({ length: 400 }, (_, i) => `w-${i}`))
    let running = true
    const traffic = (async () => {
      let i = 0
      while (running) {
        await Promise.all(Array.from({ length: 50 }, async () => await a.ref('counter', `w-${i++ % 400}`).call('inc')))
        await new Promise(resolve => setTimeout(resolve, 5))
      }
    })()
    let seen: Sse[]
    try {
      seen = await readEvents(port(), '/v1/watch', s => s.filter(e => e.event === 'tick' && e.data.totals.msgsPerSec > 0).length >= 2)
    } finally {
      running = false
      await traffic
    }
    expect(seen[0].event).to.equal('hello')
    expect(seen[0].data).to.deep.include({ node: a.peerId, writable: true, pools: ['counter'] })
    const tick = seen.filter(e => e.event === 'tick').at(-1)?.data
    expect(tick.nodes.map((n: any) => n.node).sort()).to.deep.equal([a.peerId, b.peerId].sort())
    expect(tick.totals).to.deep.include({ nodes: 2, up: 2, workers: 400 })
    expect(tick.totals.msgsPerSec).to.be.greaterThan(0)
    expect(tick.totals.p99Ms).to.be.greaterThan(0)
    expect(tick.totals.p99Ms).to.be.at.least(tick.totals.p50Ms)
    expect(tick.ringAgreed).to.equal(true)
    for (const n of tick.nodes) {
      // both nodes answered, and both hold and serve some of the 400
      expect(n.error, n.node).to.equal(undefined)
      expect(n.health).to.be.oneOf(['online', 'degraded', 'critical'])
      expect(n.rssBytes).to.be.greaterThan(0)
      expect(n.pools.counter.count).to.be.greaterThan(0)
      expect(n.pools.counter.targetShare).to.be.closeTo(0.5, 0.01)
      expect(n.msgsPerSec).to.be.greaterThan(0)
    }
    expect(tick.nodes.reduce((s: number, n: any) => s + n.pools.counter.share, 0)).to.be.closeTo(1, 1e-9)
  })

  it('/v1/watch?rows=N&from=K: the rows a screen shows, this node first, with totals over every member', async () => {
    const first = (await readEvents(port(), '/v1/watch?rows=1', s => s.some(e => e.event === 'tick'))).find(e => e.event === 'tick')?.data
    expect(first.nodes.map((n: any) => n.node)).to.deep.equal([a.peerId])
    expect(first.from).to.equal(0)
    // the totals count the node not sent: 400 counters over both
    expect(first.totals).to.deep.include({ nodes: 2, up: 2, workers: 400 })
    expect(first.totals.pools.counter.count).to.equal(400)
    const second = (await readEvents(port(), '/v1/watch?rows=1&from=1', s => s.some(e => e.event === 'tick'))).find(e => e.event === 'tick')?.data
    expect(second.nodes.map((n: any) => n.node)).to.deep.equal([b.peerId])
    expect(second.from).to.equal(1)
    const past = (await readEvents(port(), '/v1/watch?rows=5&from=2', s => s.some(e => e.event === 'tick'))).find(e => e.event === 'tick')?.data
    expect(past.nodes).to.deep.equal([])
    expect(past.totals.workers).to.equal(400)
    for (const bad of ['rows=0', 'rows=1001', 'rows=x', 'from=-1', 'rows=1.5', 'from=99999999999999999999']) {
      const r = await ask(port(), 'GET', `/v1/watch?${bad}`)
      expect(r.status, bad).to.equal(400)
      expect(r.body.error.name, bad).to.equal('InvalidRequest')
    }
  })

  it('asks the other nodes for figures only while someone watches', async () => {
    let asked = 0
    const own = b.watchFigures.bind(b)
    b.watchFigures = (after?: string) => {
      asked++
      return own(after)
    }
    try {
      await readEvents(port(), '/v1/watch', s => s.filter(e => e.event === 'tick').length >= 3)
      expect(asked).to.be.within(2, 5)
      // the stream is closed; a question already sent is answered within its 2 s deadline
      await new Promise(resolve => setTimeout(resolve, 2_500))
      const after = asked
      await new Promise(resolve => setTimeout(resolve, 2_500))
      expect(asked).to.equal(after)
      // watched again after the quiet spell: rates are of the new watch's seconds, not of the
      // traffic before it (nothing runs now)
      const again = await readEvents(port(), '/v1/watch', s => s.filter(e => e.event === 'tick').length >= 2)
      for (const t of again.filter(e => e.event === 'tick')) expect(t.data.totals.msgsPerSec).to.equal(0)
    } finally {
      b.watchFigures = own
    }
  })

  it('ends its streams and stops asking when the node stops', async () => {
    const c = await createNode({ pools: [counters], admin: { port: 0 } })
    let asked = 0
    const own = c.watchFigures.bind(c)
    c.watchFigures = (after?: string) => {
      asked++
      return own(after)
    }
    const streams = Promise.all(['/v1/watch', '/v1/events?scope=cluster'].map(async path =>
      await readEvents(c.adminAddress?.port ?? 0, path, () => false)))
    await new Promise(resolve => setTimeout(resolve, 1_500))
    const stopped = performance.now()
    await c.stop()
    // both streams end (rather than hang until readEvents gives up after 10 s)
    const [watch] = await streams
    expect(performance.now() - stopped).to.be.below(5_000)
    expect(watch[0].event).to.equal('hello')
    expect(watch.some(e => e.event === 'tick')).to.equal(true)
    const after = asked
    await new Promise(resolve => setTimeout(resolve, 1_500))
    expect(asked).to.equal(after)
  })

  it('a worker: where it lives, why, its mailbox and epoch; 404 names its owner when it is not live', async () => {
    const id = 'w-7'
    const w = await ask(port(), 'GET', `/v1/workers/counter/${id}`)
    expect(w.status).to.equal(200)
    const owner = a.placement().ownerOf('counter', id)
    expect(w.body).to.deep.include({ pool: 'counter', id, node: owner, why: 'owner', owner, mailbox: 0 })
    expect(w.body.epoch).to.be.a('number')
    expect(w.body.detail).to.include('owns it')
    expect(w.body.moves).to.deep.equal([])
    const gone = await ask(port(), 'GET', '/v1/workers/counter/never-made')
    expect(gone.status).to.equal(404)
    expect(gone.body.error.name).to.equal('WorkerNotAliveError')
    expect(gone.body.owner).to.equal(a.placement().ownerOf('counter', 'never-made'))
    const long = await ask(port(), 'GET', `/v1/workers/counter/${'x'.repeat(2_000)}`)
    expect(long.status).to.equal(400)
    expect(long.body.error.name).to.equal('InvalidOptionError')
  })

  it('a rebalance\'s plan, the rebalance, and each moved worker\'s move in its history', async () => {
    const before = await b.count('counter', { local: true })
    expect(before).to.be.greaterThan(0)
    // b's weight to almost nothing: most of b's workers belong on a now, but nothing moves until asked
    expect((await ask(port(), 'PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: 1 } }) })).status).to.equal(200)
    const until = Date.now() + 5_000
    let plan = await ask(port(), 'GET', '/v1/pools/counter/plan')
    while (plan.body.total === 0 && Date.now() < until) {
      await new Promise(resolve => setTimeout(resolve, 100))
      plan = await ask(port(), 'GET', '/v1/pools/counter/plan')
    }
    expect(plan.status).to.equal(200)
    expect(plan.body.total).to.be.greaterThan(0)
    expect(plan.body.moves.every((m: any) => m.from === b.peerId && m.to === a.peerId)).to.equal(true)
    const moving = plan.body.total as number
    // the plan changed nothing
    expect(await b.count('counter', { local: true })).to.equal(before)
    // a worker that will move says so: the ring names a, it is still on b
    let id = 0
    while (id < 400 && (b.runtime.whereHere('counter', `w-${id}`) === null || a.placement().ownerOf('counter', `w-${id}`) !== a.peerId)) id++
    expect(id).to.be.below(400)
    const waiting = await ask(port(), 'GET', `/v1/workers/counter/w-${id}`)
    expect(waiting.body).to.deep.include({ node: b.peerId, why: 'handoff', owner: a.peerId })

    expect((await ask(port(), 'POST', '/v1/pools/counter/rebalance', { token: TOKEN })).status).to.equal(200)
    const moved = Date.now() + 10_000
    while (await b.count('counter', { local: true }) > before - moving && Date.now() < moved) await new Promise(resolve => setTimeout(resolve, 100))
    expect(await b.count('counter', { local: true })).to.equal(before - moving)
    expect((await ask(port(), 'GET', '/v1/pools/counter/plan')).body.total).to.equal(0)
    const after = await ask(port(), 'GET', `/v1/workers/counter/w-${id}`)
    expect(after.body).to.deep.include({ node: a.peerId, why: 'owner' })
    expect(after.body.moves).to.have.length(1)
    expect(after.body.moves[0]).to.deep.include({ pool: 'counter', id: `w-${id}`, from: b.peerId, to: a.peerId, epoch: after.body.epoch })
  })

  it('a drain that cannot begin is refused at once; one undone before its end says so and stops waiting', async () => {
    const unknown = await ask(port(), 'POST', `/v1/nodes/${b.peerId}/drain`, { token: TOKEN, body: JSON.stringify({ pools: ['no-such-pool'] }) })
    expect(unknown.status).to.equal(404)
    expect(unknown.body.error.name).to.equal('UnknownPoolError')
    // a takes nothing (target 0): every worker goes to b, and a drain of b then has nowhere
    // to send them, so it is surely still waiting when it is undone
    await a.setTargets(a.peerId, { counter: 0 })
    try {
      // (this cluster moves workers only when asked)
      await a.rebalance('counter')
      const until = Date.now() + 10_000
      while (await a.count('counter', { local: true }) > 0 && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 100))
      expect(await b.count('counter', { local: true })).to.be.greaterThan(0)
      const started = await ask(port(), 'POST', `/v1/nodes/${b.peerId}/drain`, { token: TOKEN })
      expect(started.body).to.deep.equal({ node: b.peerId, draining: true })
      await new Promise(resolve => setTimeout(resolve, 500))
      expect((await ask(port(), 'POST', `/v1/nodes/${b.peerId}/undrain`, { token: TOKEN })).status).to.equal(200)
      const seen = await readEvents(port(), '/v1/events', s => s.some(e => e.event === 'drain:cancel'))
      expect(seen.some(e => e.event === 'drain:done')).to.equal(false)
      expect(seen.find(e => e.event === 'drain:cancel')?.data).to.deep.include({ member: b.peerId })
    } finally {
      await a.setTargets(a.peerId, { counter: 100_000 })
    }
  })

  it('/v1/events?scope=cluster: every member\'s events, each naming its member; resumable', async () => {
    // a drain of b is logged on b (drain:start) and on a, which runs it (drain:done)
    expect((await ask(port(), 'POST', `/v1/nodes/${b.peerId}/drain?wait=1`, { token: TOKEN })).status).to.equal(200)
    const seen = await readEvents(port(), '/v1/events?scope=cluster', s =>
      s.some(e => e.event === 'drain:start' && e.data.node === b.peerId) && s.some(e => e.event === 'drain:done' && e.data.node === a.peerId))
    const start = seen.find(e => e.event === 'drain:start' && e.data.node === b.peerId) as Sse
    expect(start.data.member).to.equal(b.peerId)
    // events of both nodes, a's own included
    expect(new Set(seen.map(e => e.data.node))).to.include(a.peerId)
    const resumed = await readEvents(port(), '/v1/events?scope=cluster', s => s.some(e => e.event === 'drain:done'), start.id)
    expect(resumed.some(e => e.id === start.id)).to.equal(false)
    expect(resumed.some(e => e.event === 'drain:done' && e.data.member === b.peerId)).to.equal(true)
    expect((await ask(port(), 'GET', '/v1/events?scope=everything')).status).to.equal(400)
    await ask(port(), 'POST', `/v1/nodes/${b.peerId}/undrain`, { token: TOKEN })
  })
})
