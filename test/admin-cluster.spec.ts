import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import { ask } from './admin-client.js'
import type { Answer } from './admin-client.js'

const TOKEN = 'cluster-admin-token'
const CLI = fileURLToPath(new URL('../packages/simplepool/dist/cli.js', import.meta.url))

/** Runs the `simplepool` command line; its exit code and output. */
async function cli (...args: string[]): Promise<{ code: number, out: string, err: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (error, out, err) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : -1), out, err })
    })
  })
}

/** Workers of `pool` live on `node` now. */
async function localCount (node: NodeHandle, pool: string): Promise<number> {
  const r = await node.request<{ ok: boolean, value: number }>('count', { pool, local: true })
  if (!r.ok) throw new Error(`count failed: ${JSON.stringify(r)}`)
  return r.value
}

describe('admin HTTP API on a 3-process cluster', function () {
  this.timeout(60_000)
  let cluster: Cluster
  let nodes: NodeHandle[]
  let ports: number[]

  before(async () => {
    cluster = await startCluster({ nodes: 3, pools: ['counter'], admin: { token: TOKEN } })
    nodes = cluster.nodes
    await cluster.waitForConvergence()
    ports = await Promise.all(nodes.map(async n => (await n.request<{ port: number }>('adminAddress')).port))
  })

  after(async () => { await cluster?.stop() })

  it('any node answers for the whole cluster: every member with its health, one ring agreed, counts per node', async () => {
    await nodes[0].request('spawnMany', { pool: 'counter', ids: Array.from({ length: 3000 }, (_, i) => `c-${i}`) }, 30_000)
    for (const port of ports) {
      const listed = await ask(port, 'GET', '/v1/nodes')
      expect(listed.body.map((n: any) => n.node).sort()).to.deep.equal(nodes.map(n => n.peerId).sort())
      for (const n of listed.body) expect(n.health?.node, JSON.stringify(n.health)).to.equal(n.node)
    }
    let ring: Answer | undefined
    const until = Date.now() + 10_000
    do {
      ring = await ask(ports[2], 'GET', '/v1/ring')
      const counted = ring.body.pools[0]?.nodes.reduce((s: number, n: any) => s + n.count, 0)
      if (ring.body.agreed === true && counted === 3000) break
      await new Promise(resolve => setTimeout(resolve, 200))
    } while (Date.now() < until)
    expect(ring.body.agreed).to.equal(true)
    expect(ring.body.pools[0].nodes).to.have.length(3)
    for (const n of ring.body.pools[0].nodes) expect(n.share).to.be.within(0.2, 0.47)
    expect((await ask(ports[1], 'GET', '/readyz')).status).to.equal(200)
    // counts ride the heartbeats: each node sees the others' as of their last one
    let cluster: Answer | undefined
    const later = Date.now() + 5_000
    do {
      cluster = await ask(ports[1], 'GET', '/v1/cluster')
      if (cluster.body.workers === 3000) break
      await new Promise(resolve => setTimeout(resolve, 200))
    } while (Date.now() < later)
    expect(cluster.body).to.deep.include({ members: 3, workers: 3000, ringAgreed: true })
  })

  it('writes need the token; with it, one node drains another and puts it back', async () => {
    const target = nodes[2].peerId
    expect((await ask(ports[0], 'POST', `/v1/nodes/${target}/drain`)).status).to.equal(401)
    expect((await ask(ports[0], 'POST', `/v1/nodes/${target}/drain`, { token: 'wrong-token' })).status).to.equal(401)
    expect(await localCount(nodes[2], 'counter')).to.be.above(0)
    const drained = await ask(ports[0], 'POST', `/v1/nodes/${target}/drain?wait=1`, { token: TOKEN })
    expect(drained.status, JSON.stringify(drained.body)).to.equal(200)
    expect(await localCount(nodes[2], 'counter')).to.equal(0)
    const pools = await ask(ports[1], 'GET', '/v1/pools')
    expect(pools.body[0].pool).to.equal('counter')
    expect((await ask(ports[0], 'POST', `/v1/nodes/${target}/undrain`, { token: TOKEN })).status).to.equal(200)
  })

  it('the simplepool command line reads the cluster through any node, as tables or JSON, with stable exit codes', async () => {
    const admin = `--admin=http://127.0.0.1:${ports[1]}`
    const status = await cli('status', admin, '-o', 'json')
    expect(status.code, status.err).to.equal(0)
    expect(JSON.parse(status.out)).to.deep.include({ healthy: true, members: 3, ringAgreed: true })
    const nodesJson = await cli('nodes', admin, '-o', 'json')
    expect(JSON.parse(nodesJson.out).map((n: any) => n.node).sort()).to.deep.equal(nodes.map(n => n.peerId).sort())
    const nodesTable = await cli('nodes', admin)
    expect(nodesTable.out.split('\n')[0]).to.match(/^NODE\s+SELF\s+STATUS\s+LIVENESS\s+HEALTH/)
    expect(nodesTable.out.trim().split('\n')).to.have.length(4)
    expect((await cli('pools', admin)).out).to.match(/^counter\s+3,?000|^counter\s+\d+/m)
    const ring = await cli('ring', admin, '-o', 'json')
    expect(ring.code).to.equal(0)
    expect(JSON.parse(ring.out).agreed).to.equal(true)
    await nodes[0].request('call', { pool: 'counter', id: 'cli-1', msg: 'inc' })
    const where = await cli('where', 'counter', 'cli-1', admin, '-o', 'json')
    expect(where.code, where.err).to.equal(0)
    expect(JSON.parse(where.out).node).to.be.oneOf(nodes.map(n => n.peerId))
    expect(JSON.parse(where.out).why).to.equal('owner')
    expect((await cli('where', 'counter', 'cli-1', admin)).out).to.match(/^why: owner: .* owns it/m)
    const missing = await cli('where', 'counter', 'never-started', admin)
    expect(missing.code).to.equal(1)
    expect(missing.out).to.match(/is not live; its owner would be/)
    expect((await cli('frobnicate', admin)).code).to.equal(64)
    expect((await cli('where', 'counter', admin)).code).to.equal(64)
    expect((await cli('nodes', admin, '-o', 'yaml')).code).to.equal(64)
    const help = await cli('--help')
    expect(help.code).to.equal(0)
    expect(help.out).to.match(/^simplepool <command>/)
    const unreachable = await cli('status', '--admin=http://127.0.0.1:1')
    expect(unreachable.code).to.equal(2)
    expect(unreachable.err).to.match(/cannot reach the admin API/)
  })

  it('the command line changes the cluster with the token: drain --wait, undrain, targets, rebalance --dry-run; asks first unless --yes', async () => {
    const admin = `--admin=http://127.0.0.1:${ports[0]}`
    const target = nodes[2].peerId
    const end = target.slice(-8)
    // no terminal to ask on and no --yes: refused, nothing changes
    const unasked = await cli('drain', end, admin, '--token', TOKEN)
    expect(unasked.code).to.equal(64)
    expect(unasked.err).to.match(/not without --yes/)
    expect(await localCount(nodes[2], 'counter')).to.be.above(0)
    // no token: refused by the node
    const untokened = await cli('drain', end, admin, '--yes')
    expect(untokened.code).to.equal(2)
    expect(untokened.err).to.match(/Unauthorized[\s\S]*--token/)
    const drained = await cli('drain', end, admin, '--token', TOKEN, '--yes', '--wait', '-o', 'json')
    expect(drained.code, drained.err).to.equal(0)
    expect(JSON.parse(drained.out)).to.deep.include({ node: target, drained: true })
    expect(await localCount(nodes[2], 'counter')).to.equal(0)
    expect((await cli('undrain', end, admin, '--token', TOKEN)).code).to.equal(0)
    // a plan, then the targets that make it: nothing moves until the pool is rebalanced or the ring settles
    const plan = await cli('rebalance', 'counter', '--dry-run', admin, '-o', 'json')
    expect(plan.code, plan.err).to.equal(0)
    expect(JSON.parse(plan.out)).to.have.keys('pool', 'total', 'moves', 'unreachable')
    const set = await cli('targets', 'set', end, 'counter=200000', admin, '--token', TOKEN, '--yes', '-o', 'json')
    expect(set.code, set.err).to.equal(0)
    expect(JSON.parse(set.out).targets).to.deep.equal({ counter: 200_000 })
    expect((await cli('targets', 'set', end, 'counter=lots', admin, '--token', TOKEN, '--yes')).code).to.equal(64)
    const rebalanced = await cli('rebalance', 'counter', admin, '--token', TOKEN, '--yes', '-o', 'json')
    expect(rebalanced.code, rebalanced.err).to.equal(0)
    expect(JSON.parse(rebalanced.out)).to.deep.include({ pool: 'counter', rebalanced: true })
    const diff = await cli('ring', '--diff', admin, '-o', 'json')
    expect(JSON.parse(diff.out)).to.have.property('off')
    // the drain's and the targets' events, from every member, on one stream
    const events = await cli('events', admin, '-o', 'json')
    expect(events.code, events.err).to.equal(0)
    const seen = events.out.trim().split('\n').map(l => JSON.parse(l))
    expect(seen.some(e => e.type === 'drain:start' && e.member === target && e.node === target)).to.equal(true)
    expect(seen.some(e => e.type === 'drain:done' && e.member === target)).to.equal(true)
    // top, twice, as JSON lines
    const top = await cli('top', admin, '--ticks', '2', '-o', 'json')
    expect(top.code, top.err).to.equal(0)
    const ticks = top.out.trim().split('\n').map(l => JSON.parse(l))
    expect(ticks).to.have.length(2)
    expect(ticks[1].nodes).to.have.length(3)
    expect(ticks[1].totals.workers).to.be.above(0)
    const help = await cli('drain', '--help')
    expect(help.code).to.equal(0)
    expect(help.out).to.match(/^simplepool drain <node> \[--wait\]/)
  })

  it('the command line pokes one worker: call prints its reply or its named error, cast sends; both need the token', async () => {
    const admin = `--admin=http://127.0.0.1:${ports[1]}`
    expect((await cli('call', 'counter', 'poked', '"inc"', admin)).code).to.equal(2)
    const first = await cli('call', 'counter', 'poked', '"inc"', admin, '--token', TOKEN)
    expect(first.code, first.err).to.equal(0)
    expect(first.out.trim()).to.equal('1')
    expect((await cli('cast', 'counter', 'poked', '"inc"', admin, '--token', TOKEN)).code).to.equal(0)
    const json = await cli('call', 'counter', 'poked', '"get"', admin, '--token', TOKEN, '-o', 'json')
    expect(JSON.parse(json.out)).to.deep.include({ pool: 'counter', id: 'poked', reply: 2 })
    // the worker's own error, by its name: exit code 1
    const thrown = await cli('call', 'counter', 'poked', '{"op":"throw","name":"RangeError","message":"no such thing"}', admin, '--token', TOKEN)
    expect(thrown.code).to.equal(1)
    expect(thrown.err).to.match(/RangeError: no such thing/)
    expect((await cli('call', 'counter', 'poked', 'not json', admin, '--token', TOKEN)).code).to.equal(64)
    expect((await cli('call', 'nope', 'poked', '"inc"', admin, '--token', TOKEN)).code).to.equal(1)
  })

  it('/readyz and status say not ready while a member does not answer, and ready once it does', async () => {
    nodes[1].pause()
    try {
      const r = await ask(ports[0], 'GET', '/readyz')
      expect(r.status).to.equal(503)
      expect(r.body.error.name).to.equal('NotReady')
      expect(r.body.error.message).to.include(`${nodes[1].peerId} did not answer`)
      const status = await cli('status', `--admin=http://127.0.0.1:${ports[0]}`)
      expect(status.code, status.out).to.equal(1)
      expect(status.out).to.match(/^cluster\s+NOT healthy: /)
    } finally {
      nodes[1].resume()
    }
    const until = Date.now() + 20_000
    let ready = await ask(ports[0], 'GET', '/readyz')
    while (ready.status !== 200 && Date.now() < until) {
      await new Promise(resolve => setTimeout(resolve, 250))
      ready = await ask(ports[0], 'GET', '/readyz')
    }
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200)
  })

  it('bad requests get a 4xx naming the problem, and the node keeps serving', async () => {
    expect((await ask(ports[0], 'GET', '/v1/workers/no-such-pool/x')).body.error.name).to.equal('UnknownPoolError')
    expect((await ask(ports[0], 'PUT', `/v1/nodes/${nodes[1].peerId}/targets`, { token: TOKEN, body: JSON.stringify({ targets: { counter: 'many' } }) })).status).to.equal(400)
    expect((await ask(ports[0], 'GET', '/healthz')).status).to.equal(200)
  })
})
