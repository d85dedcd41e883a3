import { expect } from 'chai'
import { createNode } from 'simplepool'
import type { AdminWriteDetail, SimplePoolNode } from 'simplepool'
import { ask as askPort, counters, readEvents, twoNodes } from './admin-client.js'
import type { Answer, Sse } from './admin-client.js'

/** Server-sent events from `node`'s admin API; see {@link readEvents}. */
async function events (node: SimplePoolNode, path: string, until: (seen: Sse[]) => boolean, lastEventId?: string): Promise<Sse[]> {
  return await readEvents(node.adminAddress?.port ?? 0, path, until, lastEventId)
}

const TOKEN = 'test-admin-token'

/** One request to `node`'s admin API. */
async function ask (node: SimplePoolNode, method: string, path: string, init: { token?: string, body?: string, type?: string } = {}): Promise<Answer> {
  if (node.adminAddress === undefined) throw new Error('no admin server')
  return await askPort(node.adminAddress.port, method, path, init)
}

describe('admin HTTP API (two nodes in one process)', function () {
  this.timeout(30_000)
  let a: SimplePoolNode
  let b: SimplePoolNode

  before(async () => {
    ;[a, b] = await twoNodes({ admin: { port: 0, token: TOKEN } }, { admin: { port: 0 } })
  })

  after(async () => {
    await b?.stop()
    await a?.stop()
  })

  it('is off unless asked for, and binds loopback', async () => {
    const plain = await createNode({ pools: [counters] })
    try {
      expect(plain.adminAddress).to.equal(undefined)
    } finally {
      await plain.stop()
    }
    expect(a.adminAddress?.host).to.equal('127.0.0.1')
  })

  it('refuses bad admin options by name', async () => {
    for (const admin of [{ port: -1 }, { port: 1.5 }, { port: 0, token: 'short' }, { port: 0, host: '' }, 'yes']) {
      let err: Error | undefined
      try {
        await createNode({ pools: [counters], admin: admin as any })
      } catch (e) {
        err = e as Error
      }
      expect(err?.name, JSON.stringify(admin)).to.equal('InvalidOptionError')
    }
  })

  it('off loopback: a token is required, and every route but the probes asks for it unless reads are opened', async () => {
    let err: Error | undefined
    try {
      await createNode({ pools: [counters], admin: { port: 0, host: '0.0.0.0' } })
    } catch (e) {
      err = e as Error
    }
    expect(err?.name).to.equal('InvalidOptionError')
    expect(err?.message).to.match(/not loopback.*admin\.token/)
    for (const openReads of [false, true]) {
      // bound on every interface; asked on loopback only
      const wide = await createNode({ pools: [counters], admin: { port: 0, host: '0.0.0.0', token: TOKEN, openReads } })
      try {
        expect(wide.adminAddress?.host).to.equal('0.0.0.0')
        const port = wide.adminAddress?.port ?? 0
        for (const probe of ['/healthz', '/readyz']) expect((await askPort(port, 'GET', probe)).status, probe).to.equal(200)
        const bare = await askPort(port, 'GET', '/v1/nodes')
        expect(bare.status).to.equal(openReads ? 200 : 401)
        if (!openReads) expect(bare.body.error.message).to.match(/needs the admin token/)
        const wrong = await askPort(port, 'GET', '/v1/nodes', { token: 'wrong-token-value' })
        expect(wrong.status).to.equal(openReads ? 200 : 401)
        if (!openReads) expect(wrong.body.error.message).to.match(/not this node's admin token/)
        expect((await askPort(port, 'GET', '/v1/nodes', { token: TOKEN })).status).to.equal(200)
        // writes ask for it either way
        expect((await askPort(port, 'POST', '/v1/pools/counter/rebalance', { body: '{}' })).status).to.equal(401)
      } finally {
        await wide.stop()
      }
    }
  })

  it('GET /healthz, /v1/nodes with every member\'s health asked of it, /v1/pools with counts', async () => {
    expect((await ask(a, 'GET', '/healthz')).body).to.deep.equal({ status: 'ok', node: a.peerId })
    await a.spawnMany('counter', Array.from({ length: 200 }, (_, i) => `c-${i}`))
    const nodes = await ask(a, 'GET', '/v1/nodes')
    expect(nodes.status).to.equal(200)
    expect(nodes.body.map((n: any) => n.node).sort()).to.deep.equal([a.peerId, b.peerId].sort())
    const other = nodes.body.find((n: any) => n.node === b.peerId)
    expect(other.self).to.equal(false)
    expect(other.health.node).to.equal(b.peerId)
    expect(other.health.pools.counter.active).to.equal(await b.count('counter', { local: true }))
    // counts ride the heartbeat: wait for one
    let pools: Answer | undefined
    const until = Date.now() + 5_000
    do {
      pools = await ask(a, 'GET', '/v1/pools')
      if (pools.body[0]?.workers === 200) break
      await new Promise(resolve => setTimeout(resolve, 100))
    } while (Date.now() < until)
    expect(pools.body).to.have.length(1)
    expect(pools.body[0].pool).to.equal('counter')
    expect(pools.body[0].workers).to.equal(200)
    expect(pools.body[0].nodes).to.have.length(2)
  })

  it('GET /readyz once joined with every member on the same ring; /v1/ring and /v1/cluster say so', async () => {
    let ready: Answer | undefined
    const until = Date.now() + 5_000
    do {
      ready = await ask(b, 'GET', '/readyz')
      if (ready.status === 200) break
      await new Promise(resolve => setTimeout(resolve, 100))
    } while (Date.now() < until)
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200)
    const ring = await ask(a, 'GET', '/v1/ring')
    expect(ring.body.agreed).to.equal(true)
    expect(ring.body.pools[0].pool).to.equal('counter')
    expect(ring.body.pools[0].fingerprint).to.equal(b.rings().rings.counter)
    expect(ring.body.pools[0].nodes.map((n: any) => n.sameRing)).to.deep.equal([true, true])
    expect(ring.body.pools[0].nodes.reduce((s: number, n: any) => s + n.targetShare, 0)).to.be.closeTo(1, 1e-9)
    const cluster = await ask(a, 'GET', '/v1/cluster')
    expect(cluster.body).to.deep.include({ node: a.peerId, members: 2, pools: ['counter'], ringAgreed: true })
  })

  it('GET /v1/workers/:pool/:id says where a worker lives, 404 for one not live or a pool nobody runs', async () => {
    await b.ref('counter', 'w-1').call('inc')
    const where = await ask(b, 'GET', '/v1/workers/counter/w-1')
    expect(where.status).to.equal(200)
    expect(where.body.node).to.equal((await a.where('counter', 'w-1'))?.node)
    expect(where.body.epoch).to.be.a('number')
    expect((await ask(a, 'GET', '/v1/workers/counter/never-started')).body.error.name).to.equal('WorkerNotAliveError')
    const nopool = await ask(a, 'GET', '/v1/workers/no-such-pool/x')
    expect(nopool.status).to.equal(404)
    expect(nopool.body.error.name).to.equal('UnknownPoolError')
  })

  it('GET /metrics in the Prometheus text format', async () => {
    const m = await ask(a, 'GET', '/metrics')
    expect(m.status).to.equal(200)
    expect(m.type).to.match(/^text\/plain/)
    expect(m.body).to.match(/^simplepool_target\{pool="counter"\} \d+$/m)
  })

  it('writes need the token: without it or with a wrong one 401, and nothing changes', async () => {
    const before = b.runtime.targets().counter
    for (const token of [undefined, 'wrong-token-value']) {
      const r = await ask(a, 'PUT', `/v1/nodes/${b.peerId}/targets`, { token, body: JSON.stringify({ targets: { counter: 7 } }) })
      expect(r.status).to.equal(401)
      expect(r.body.error.name).to.equal('Unauthorized')
    }
    expect(b.runtime.targets().counter).to.equal(before)
    // a node started without a token takes no writes at all
    const off = await ask(b, 'PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: 7 } }) })
    expect(off.status).to.equal(403)
    expect(b.runtime.targets().counter).to.equal(before)
  })

  it('with the token: sets another node\'s targets, stops a worker, rebalances', async () => {
    const set = await ask(a, 'PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: 50_000 } }) })
    expect(set.status).to.equal(200)
    expect(b.runtime.targets().counter).to.equal(50_000)
    await a.ref('counter', 'to-stop').call('inc')
    const stopped = await ask(a, 'DELETE', '/v1/workers/counter/to-stop', { token: TOKEN })
    expect(stopped.body).to.deep.equal({ pool: 'counter', id: 'to-stop', stopped: true })
    expect(await a.alive('counter', 'to-stop')).to.equal(false)
    expect((await ask(a, 'POST', '/v1/pools/counter/rebalance', { token: TOKEN })).body).to.deep.equal({ pool: 'counter', rebalanced: true })
  })

  it('drains a node and puts it back, from another node', async () => {
    const drained = await ask(a, 'POST', `/v1/nodes/${b.peerId}/drain?wait=1`, { token: TOKEN })
    expect(drained.status, JSON.stringify(drained.body)).to.equal(200)
    expect(await b.count('counter', { local: true })).to.equal(0)
    const undrained = await ask(a, 'POST', `/v1/nodes/${b.peerId}/undrain`, { token: TOKEN })
    expect(undrained.body).to.deep.equal({ node: b.peerId, undrained: true })
    expect(b.runtime.targets().counter).to.equal(50_000)
  })

  it('records every write in the audit trail: who asked, what, when, how it ended; on the node asked and on the node it was passed to', async () => {
    const onA: AdminWriteDetail[] = []
    const onB: AdminWriteDetail[] = []
    const keepA = (evt: CustomEvent<AdminWriteDetail>): void => { onA.push(evt.detail) }
    const keepB = (evt: CustomEvent<AdminWriteDetail>): void => { onB.push(evt.detail) }
    a.addEventListener('admin:write', keepA)
    b.addEventListener('admin:write', keepB)
    try {
      const before = Date.now()
      expect((await ask(a, 'PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: 50_000 } }) })).status).to.equal(200)
      expect((await ask(a, 'PUT', `/v1/nodes/${b.peerId}/targets`, { token: 'wrong-token-value', body: '{}' })).status).to.equal(401)
      expect((await ask(a, 'POST', '/v1/workers/counter/audited/call', { token: TOKEN, body: JSON.stringify({ msg: 'inc' }) })).status).to.equal(200)
      expect((await ask(a, 'POST', `/v1/nodes/${b.peerId}/drain`, { token: TOKEN, body: JSON.stringify({ pools: ['nope'] }) })).status).to.equal(404)
      // a client without the token is only logged: anyone who reaches the API could otherwise push the records out
      expect(onA.map(d => [d.action, d.by.kind, d.outcome])).to.deep.equal([['targets', 'token', 'done'], ['call', 'token', 'done'], ['drain', 'token', 'refused']])
      const [set, call, drain] = onA
      expect(set.node).to.equal(a.peerId)
      expect(set.target).to.deep.equal({ node: b.peerId, targets: { counter: 50_000 } })
      expect(set.by).to.have.property('address').that.matches(/^(::ffff:)?127\.0\.0\.1:\d+$/)
      expect(set.at).to.be.within(before, Date.now())
      expect(call.target, 'a worker\'s message is the user\'s: not recorded').to.deep.equal({ pool: 'counter', id: 'audited' })
      expect(drain.error?.name).to.equal('UnknownPoolError')
      // on the node a write was passed to, by the peer id of the node that passed it
      expect(onB.map(d => [d.action, d.by, d.outcome])).to.deep.equal([['targets', { kind: 'peer', peer: a.peerId }, 'done'], ['drain', { kind: 'peer', peer: a.peerId }, 'refused']])
      expect(onB[0].target).to.deep.equal({ node: b.peerId, targets: { counter: 50_000 } })
      // a worker's stop is recorded where the API took it; the runtime's message that carries it to the owner is not an operator's
      let id = 0
      while (a.placement().ownerOf('counter', `stop-${id}`) !== b.peerId) id++
      await a.ref('counter', `stop-${id}`).call('inc')
      expect((await ask(a, 'DELETE', `/v1/workers/counter/stop-${id}`, { token: TOKEN })).status).to.equal(200)
      expect(onA.at(-1)).to.include({ action: 'stop', outcome: 'done' })
      expect(onA.at(-1)?.target).to.deep.equal({ pool: 'counter', id: `stop-${id}` })
      expect(onB).to.have.length(2)
      // a body names no other node than the path did, and the record keeps only the fields the route reads
      const other = await ask(a, 'PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: 50_000 }, node: 'someone-else', extra: 'x'.repeat(10_000) }) })
      expect(other.status).to.equal(200)
      expect(onA.at(-1)?.target).to.deep.equal({ node: b.peerId, targets: { counter: 50_000 } })
      // and in the event log the admin API serves
      expect(a.eventLog.since(undefined, 1_000).events.filter(e => e.type === 'admin:write').slice(-5).map(e => (e.data as AdminWriteDetail).action)).to.deep.equal(['targets', 'call', 'drain', 'stop', 'targets'])
    } finally {
      a.removeEventListener('admin:write', keepA)
      b.removeEventListener('admin:write', keepB)
    }
  })

  it('streams events (membership, ring changes, failures) and resumes after Last-Event-ID', async () => {
    // what a's log holds already: b joining, the ring of counter changing
    const past = await events(a, '/v1/events', seen => seen.some(e => e.event === 'member:join' && e.data.member === b.peerId) && seen.some(e => e.event === 'ring:change'))
    const join = past.find(e => e.event === 'member:join' && e.data.member === b.peerId) as Sse
    expect(past.find(e => e.event === 'ring:change')?.data.pool).to.equal('counter')
    // live: a failing turn of a worker that lives on a
    let boom = 0
    while (a.placement().ownerOf('counter', `boom-${boom}`) !== a.peerId) boom++
    const live = events(a, '/v1/events', seen => seen.some(e => e.event === 'worker:fail' && e.data.id === `boom-${boom}`))
    await new Promise(resolve => setTimeout(resolve, 100))
    await a.ref('counter', `boom-${boom}`).call('boom').catch(() => {})
    const failed = (await live).find(e => e.event === 'worker:fail') as Sse
    expect(failed.data).to.deep.include({ pool: 'counter', id: `boom-${boom}`, during: 'turn' })
    expect(failed.data.error.name).to.equal('RangeError')
    // resumed after the join: the join itself is not sent again, what came after is
    const resumed = await events(a, '/v1/events', seen => seen.some(e => e.id === failed.id), join.id)
    expect(resumed.some(e => e.id === join.id)).to.equal(false)
    expect(resumed.map(e => e.id)).to.include(failed.id)
    // resumed after an id this node never gave: told so, then everything kept
    const unknown = await events(a, '/v1/events', seen => seen.some(e => e.id === failed.id), 'elsewhere.7')
    expect(unknown[0].event).to.equal('events:gap')
    expect(unknown.map(e => e.id)).to.include(join.id)
  })

  it('calls and casts one worker for an operator, with the token: its reply, or its own error as a 422 by name', async () => {
    const path = '/v1/workers/counter/op-1'
    expect((await ask(a, 'POST', `${path}/call`, { body: JSON.stringify({ msg: 'inc' }) })).status).to.equal(401)
    const first = await ask(a, 'POST', `${path}/call`, { token: TOKEN, body: JSON.stringify({ msg: 'inc', timeoutMs: 2_000 }) })
    expect(first.status).to.equal(200)
    expect(first.body).to.deep.equal({ pool: 'counter', id: 'op-1', reply: 1 })
    expect((await ask(a, 'POST', `${path}/cast`, { token: TOKEN, body: JSON.stringify({ msg: 'inc' }) })).body).to.deep.equal({ pool: 'counter', id: 'op-1', sent: true })
    expect((await ask(a, 'POST', `${path}/call`, { token: TOKEN, body: JSON.stringify({ msg: 'get' }) })).body.reply).to.equal(2)
    const boom = await ask(a, 'POST', `${path}/call`, { token: TOKEN, body: JSON.stringify({ msg: 'boom' }) })
    expect(boom.status).to.equal(422)
    expect(boom.body.error).to.deep.equal({ name: 'RangeError', message: 'boom' })
    for (const body of ['{}', JSON.stringify({ msg: 'inc', timeoutMs: -1 })]) {
      const bad = await ask(a, 'POST', `${path}/call`, { token: TOKEN, body })
      expect(bad.status, body).to.equal(400)
    }
    expect((await ask(a, 'POST', '/v1/workers/nope/op-1/call', { token: TOKEN, body: JSON.stringify({ msg: 'inc' }) })).status).to.equal(404)
  })

  it('answers bad requests with a 4xx naming the problem, and keeps serving', async () => {
    const bad: Array<[string, string, { token?: string, body?: string, type?: string }, number, string]> = [
      ['GET', '/v1/nope', {}, 404, 'NotFound'],
      ['POST', '/v1/nodes', {}, 405, 'MethodNotAllowed'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: '{"targets": ' }, 400, 'InvalidJson'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: '[1]' }, 400, 'InvalidJson'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: 'targets=1', type: 'text/plain' }, 415, 'UnsupportedMediaType'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({}) }, 400, 'InvalidRequest'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: -5 } }) }, 400, 'InvalidOptionError'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { 'no-such-pool': 5 } }) }, 404, 'UnknownPoolError'],
      ['PUT', '/v1/nodes/no-such-node/targets', { token: TOKEN, body: JSON.stringify({ targets: { counter: 5 } }) }, 404, 'UnknownNode'],
      ['POST', `/v1/nodes/${b.peerId}/drain`, { token: TOKEN, body: JSON.stringify({ pools: 'counter' }) }, 400, 'InvalidRequest'],
      ['POST', '/v1/pools/no-such-pool/rebalance', { token: TOKEN }, 404, 'UnknownPoolError'],
      ['PUT', `/v1/nodes/${b.peerId}/targets`, { token: TOKEN, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) }, 413, 'PayloadTooLarge'],
      ['GET', '/v1/workers/counter/%E0%A4%A', {}, 404, 'NotFound']
    ]
    for (const [method, path, init, status, name] of bad) {
      const r = await ask(a, method, path, init)
      expect(r.status, `${method} ${path}`).to.equal(status)
      expect(r.body.error.name, `${method} ${path}`).to.equal(name)
    }
    expect(b.runtime.targets().counter).to.equal(50_000)
    expect((await ask(a, 'GET', '/healthz')).status).to.equal(200)
  })
})
