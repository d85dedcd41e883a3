import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'

const TOKEN = 'cluster-admin-token'

interface Answer { status: number, body: any }

/** Workers of `pool` live on `node` now. */
async function localCount (node: NodeHandle, pool: string): Promise<number> {
  const r = await node.request<{ ok: boolean, value: number }>('count', { pool, local: true })
  if (!r.ok) throw new Error(`count failed: ${JSON.stringify(r)}`)
  return r.value
}

async function ask (port: number, method: string, path: string, init: { token?: string, body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) })
  const text = await res.text()
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') === true ? JSON.parse(text) : text }
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

  it('bad requests get a 4xx naming the problem, and the node keeps serving', async () => {
    expect((await ask(ports[0], 'GET', '/v1/workers/no-such-pool/x')).body.error.name).to.equal('UnknownPoolError')
    expect((await ask(ports[0], 'PUT', `/v1/nodes/${nodes[1].peerId}/targets`, { token: TOKEN, body: { targets: { counter: 'many' } } })).status).to.equal(400)
    expect((await ask(ports[0], 'GET', '/healthz')).status).to.equal(200)
  })
})
