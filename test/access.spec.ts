import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadKeyFile } from 'simplepool'
import type { AccessRules } from 'simplepool'
import { Cluster, startCluster } from '@simplepool/testing'
import type { NodeHandle } from '@simplepool/testing'

type Outcome = { ok: true, value: unknown } | { ok: false, error: { name: string, message: string } }

/**
 * Access rules across real node processes. Two workers host `counter` and `stored`; an
 * edge node may call `counter` only, and drain, undrain and read the nodes; an intruder
 * holds the cluster key (it is a member) but no role, and runs with no rules of its own,
 * so nothing on its side stops what it sends: the others must.
 */
describe('access rules across processes', function () {
  this.timeout(60_000)
  let dir: string
  let cluster: Cluster
  let w1: NodeHandle
  let w2: NodeHandle
  let edge: NodeHandle
  let intruder: NodeHandle
  let rules: AccessRules
  const ids = { w1: '', w2: '', edge: '', spare: '' }
  const callerTargets = { counter: 0, stored: 0 }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplepool-access-'))
    for (const name of Object.keys(ids) as Array<keyof typeof ids>) ids[name] = (await loadKeyFile(join(dir, `${name}.key`))).peerId
    rules = {
      roles: { workers: [ids.w1, ids.w2], edge: [ids.edge], ops: [ids.edge] },
      pools: { counter: { call: ['edge'], host: ['workers'] }, stored: { host: ['workers'] } },
      operations: { drain: ['ops'], undrain: ['ops'], read: ['ops', 'workers'] }
    }
    cluster = new Cluster({ pools: ['counter', 'stored'], poolOptions: { storeDir: join(dir, 'store') } })
    w1 = await cluster.addNode({ name: 'w1', keyFile: join(dir, 'w1.key'), access: rules })
    ;[w2, edge, intruder] = await Promise.all([
      cluster.addNode({ name: 'w2', keyFile: join(dir, 'w2.key'), access: rules }),
      cluster.addNode({ name: 'edge', keyFile: join(dir, 'edge.key'), access: rules, targets: callerTargets }),
      // it announces a target for counter, as a node that means to host it would
      cluster.addNode({ name: 'intruder', targets: { counter: 100_000, stored: 0 } })
    ])
    await cluster.waitForConvergence()
  })

  after(async () => {
    await cluster?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const call = async (node: NodeHandle, pool: string, id: string, msg: unknown): Promise<Outcome> =>
    await node.request<Outcome>('call', { pool, id, msg })
  const failure = (o: Outcome): { name: string, message: string } => {
    if (o.ok) throw new Error(`expected a refusal, got ${JSON.stringify(o.value)}`)
    return o.error
  }
  /**
   * An id of `counter` that `owner` holds, in the intruder's view too: the intruder puts
   * itself on its own ring (its rules are its own), and sends what it owns there nowhere.
   */
  async function idOn (owner: NodeHandle, prefix: string): Promise<string> {
    const [owners, intruders] = await Promise.all([edge, intruder].map(async n => await n.request<string[]>('owners', { pool: 'counter', n: 200, prefix })))
    const i = owners.findIndex((o, k) => o === owner.peerId && intruders[k] === owner.peerId)
    if (i < 0) throw new Error(`no id of ${prefix}0..199 is owned by ${owner.name} in both views`)
    return `${prefix}${i}`
  }
  const denials = async (node: NodeHandle, peer: string, pool: string, op: string): Promise<number> => {
    const text = await node.request<string>('metrics')
    const line = text.split('\n').find(l => l.startsWith(`simplepool_access_denied_total{peer="${peer}",pool="${pool}",op="${op}"}`))
    return line === undefined ? 0 : Number(line.split(' ').at(-1))
  }

  it('lets the edge call what its role grants, and refuses the intruder by name', async () => {
    const id = await idOn(w1, 'call-')
    expect(await call(edge, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    const refused = failure(await call(intruder, 'counter', id, 'inc'))
    expect(refused.name).to.equal('ForbiddenError')
    expect(refused.message).to.equal(`node ${w1.peerId} does not let peer ${intruder.peerId} call pool counter`)
    expect(await call(edge, 'counter', id, 'get')).to.deep.equal({ ok: true, value: 1 })
    expect(await denials(w1, intruder.peerId, 'counter', 'call')).to.equal(1)
  })

  it("refuses at once what a node's own rules do not let it send, a cast included", async () => {
    const refused = failure(await call(edge, 'stored', 's-1', { op: 'get' }))
    expect(refused.name).to.equal('ForbiddenError')
    expect(refused.message).to.match(/this node's access rules do not let it .* call pool stored/)
    expect(await edge.request('cast', { pool: 'stored', id: 's-1', msg: { op: 'get' }, n: 3 })).to.deep.equal({ sent: 0, errors: { ForbiddenError: 3 } })
  })

  it('drops the casts of a member without the right, counts them, and announces it at most once a second', async () => {
    const id = await idOn(w2, 'cast-')
    expect(await call(edge, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    expect(await intruder.request('cast', { pool: 'counter', id, msg: 'inc', n: 500 })).to.deep.equal({ sent: 500, errors: {} })
    // on the same stream after the casts: once refused, every cast before it was read
    expect(failure(await call(intruder, 'counter', id, 'get')).name).to.equal('ForbiddenError')
    expect(await call(edge, 'counter', id, 'get')).to.deep.equal({ ok: true, value: 1 })
    expect(await denials(w2, intruder.peerId, 'counter', 'cast')).to.equal(500)
    const events = w2.events.filter(e => e.name === 'access:deny').map(e => e.detail as unknown as { peer: string, count: number })
    expect(events.length).to.be.within(1, 2)
    expect(events.every(e => e.peer === intruder.peerId)).to.equal(true)
  })

  it('takes no state and answers no claim from a member that may not host the pool', async () => {
    const id = await idOn(w1, 'forged-')
    expect(await call(edge, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    const forged: Array<[string, unknown[]]> = [
      ['handoff', [11, 'counter', [id, 1e9, { n: 1_000_000 }]]],
      ['claim', [10, 'counter', id]],
      ['replica', [14, 'counter', [id, 1e9, 1, new Uint8Array([1, 2, 3])]]],
      ['replica', [16, 'counter', id]]
    ]
    for (const sender of [intruder, edge]) {
      for (const [op, payload] of forged) {
        const refused = failure(await sender.request<Outcome>('rawCall', { peer: w1.peerId, payload }))
        expect(refused.name, `${sender.name}: ${op}`).to.equal('ForbiddenError')
        expect(refused.message).to.equal(`node ${w1.peerId} does not let peer ${sender.peerId} ${op} pool counter`)
      }
    }
    expect(await call(edge, 'counter', id, 'get'), 'the worker kept its own state').to.deep.equal({ ok: true, value: 1 })
    expect(await denials(w1, intruder.peerId, 'counter', 'handoff')).to.equal(1)
    expect(await denials(w1, edge.peerId, 'counter', 'claim')).to.equal(1)
  })

  it('lets only the roles granted an operation run it', async () => {
    const health = await edge.request<{ node: string }>('healthOf', { peer: w1.peerId })
    expect(health.node).to.equal(w1.peerId)
    await expectForbidden(intruder.request('healthOf', { peer: w1.peerId }), /does not let peer .* run read on it/)
    await expectForbidden(intruder.request('drain', { peer: w2.peerId, timeoutMs: 2_000 }), /run drain on it/)
    await expectForbidden(intruder.request('setTargets', { peer: w2.peerId, targets: { counter: 1 } }), /run targets on it/)
    await expectForbidden(edge.request('setTargets', { peer: w2.peerId, targets: { counter: 1 } }), /run targets on it/)
    const id = await idOn(w2, 'stop-')
    expect(await call(edge, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    await expectForbidden(edge.request('stopWorker', { pool: 'counter', id }), /run stop on it|stop pool counter/)
    expect(await call(edge, 'counter', id, 'get')).to.deep.equal({ ok: true, value: 1 })
    // a drain the edge may run, undone
    await edge.request('drain', { peer: w2.peerId, pools: ['stored'], timeoutMs: 10_000 })
    await edge.request('undrain', { peer: w2.peerId, pools: ['stored'] })
    expect(await denials(w2, intruder.peerId, '', 'drain')).to.equal(1)
  })

  it('leaves a member that may not host a pool off its ring, whatever it announces, and asks only hosts to count', async () => {
    const seen = await w1.request<{ members: Array<{ peerId: string, pools: Record<string, { target: number }> }> }>('snapshot')
    expect(seen.members.find(m => m.peerId === intruder.peerId)?.pools.counter?.target, 'the intruder announced its target').to.equal(100_000)
    for (const node of [w1, w2, edge]) {
      const owners = await node.request<string[]>('owners', { pool: 'counter', n: 500, prefix: 'ring-' })
      expect(new Set(owners), node.name).to.deep.equal(new Set([w1.peerId, w2.peerId]))
    }
    const id = await idOn(w2, 'count-')
    expect(await call(edge, 'counter', id, 'inc')).to.deep.equal({ ok: true, value: 1 })
    const local = await Promise.all([w1, w2].map(async n => await n.request<Outcome>('count', { pool: 'counter', local: true })))
    const total = local.reduce((sum, o) => sum + (o.ok ? o.value as number : NaN), 0)
    expect(await edge.request('count', { pool: 'counter' })).to.deep.equal({ ok: true, value: total })
  })

  it('refuses to start a node whose rules do not let it host a pool it would hold', async () => {
    const spare = cluster.addNode({ name: 'spare', keyFile: join(dir, 'spare.key'), access: rules, startTimeoutMs: 10_000 } as never)
    const err = await spare.then(() => undefined, (e: Error) => e)
    expect(err?.message).to.match(/did not start.*InvalidOptionError.*runs pool counter, but its access rules do not let it host it/)
  })

  async function expectForbidden (p: Promise<unknown>, message: RegExp): Promise<void> {
    const err = await p.then(() => undefined, (e: Error) => e)
    expect(err?.name).to.equal('ForbiddenError')
    expect(err?.message).to.match(message)
  }
})

/**
 * With no access rules every member may call and operate, but state is still taken only
 * from a member that could hold the pool's workers in the receiver's view: a client node
 * (target 0, never on the ring) cannot hand in forged state for a live worker.
 */
describe('state only from a member that could hold it, with no access rules', function () {
  this.timeout(60_000)
  let cluster: Cluster
  let host: NodeHandle
  let client: NodeHandle

  before(async () => {
    cluster = await startCluster({ nodes: 1, pools: ['counter'] })
    host = cluster.nodes[0]
    client = await cluster.addNode({ name: 'client', targets: { counter: 0 } })
    await cluster.waitForConvergence()
  })

  after(async () => { await cluster?.stop() })

  it('refuses a forged handoff and replica from a client, and the worker keeps its state', async () => {
    expect(await client.request('call', { pool: 'counter', id: 'c-1', msg: 'inc' })).to.deep.equal({ ok: true, value: 1 })
    for (const [op, payload] of [['handoff', [11, 'counter', ['c-1', 1e9, { n: 1_000_000 }]]], ['replica', [14, 'counter', ['c-1', 1e9, 1, new Uint8Array([1])]]]] as const) {
      const refused = await client.request<Outcome>('rawCall', { peer: host.peerId, payload })
      expect(refused.ok, op).to.equal(false)
      const error = (refused as { error: { name: string, message: string } }).error
      expect(error.name, op).to.equal('ForbiddenError')
      expect(error.message).to.equal(`node ${host.peerId} takes no state of pool counter from peer ${client.peerId}: in its view that peer holds none of its workers (on none of its rings lately, no target for it, none reported)`)
    }
    expect(await client.request('call', { pool: 'counter', id: 'c-1', msg: 'get' })).to.deep.equal({ ok: true, value: 1 })
  })
})
