/**
 * The admin API's routes on a node. Any node answers for the whole cluster: members and
 * their figures come from the heartbeats every node already receives, and health, drains,
 * targets and rebalances ask the node concerned through the node's own operations.
 *
 * Reads: `GET /healthz`, `/readyz`, `/v1/cluster`, `/v1/nodes`, `/v1/pools`, `/v1/ring`,
 * `/v1/workers/:pool/:id`, `/metrics`, and `/v1/events` (server-sent events of this node,
 * resumable with `Last-Event-ID`).
 * Writes (bearer token): `POST /v1/nodes/:node/drain` (`?wait=1` to answer when done),
 * `POST /v1/nodes/:node/undrain`, `PUT /v1/nodes/:node/targets`,
 * `POST /v1/pools/:pool/rebalance`, `DELETE /v1/workers/:pool/:id`.
 */
import type { AdminEventLog } from './admin-events.js'
import type { AdminHttp } from './admin-http.js'
import { HttpError } from './admin-http.js'
import type { RingsView, SimplePoolNode } from './node.js'

/** How long a read waits for another node's answer before it reports the node unreachable. */
const ASK_TIMEOUT_MS = 2_000

/** The request's signal, or {@link ASK_TIMEOUT_MS}, whichever ends first: for a question to another node. */
function asking (signal: AbortSignal): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ASK_TIMEOUT_MS)])
}

function stringList (v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new HttpError(400, 'InvalidRequest', `${what} must be an array of strings`)
  return v as string[]
}

/** The peer `id` if it is a member this node knows; otherwise a 404 naming it. */
function member (node: SimplePoolNode, id: string): string {
  if (!node.members().some(m => m.peerId === id)) throw new HttpError(404, 'UnknownNode', `no member ${id} in this node's view`)
  return id
}

/** The pool's name if some member runs it; otherwise a 404 naming it. */
function pool (node: SimplePoolNode, name: string): string {
  if (!node.members().some(m => m.pools[name] !== undefined)) throw new HttpError(404, 'UnknownPoolError', `no node runs pool ${name}`)
  return name
}

/** Every live member's rings, asked of it, and whether they all agree pool by pool. */
async function ringState (node: SimplePoolNode, signal: AbortSignal): Promise<{ own: RingsView, views: RingsView[], unreachable: Array<{ node: string, error: string }>, agreed: Record<string, boolean> }> {
  const own = node.rings()
  const others = node.members().filter(m => m.peerId !== node.peerId && m.liveness !== 'down' && m.status !== 'leaving')
  const views: RingsView[] = [own]
  const unreachable: Array<{ node: string, error: string }> = []
  await Promise.all(others.map(async (m) => {
    try {
      views.push(await node.ringsOf(m.peerId, { signal: asking(signal) }))
    } catch (err) {
      unreachable.push({ node: m.peerId, error: `${(err as Error).name}: ${(err as Error).message}` })
    }
  }))
  const agreed: Record<string, boolean> = {}
  for (const pool of Object.keys(own.rings)) agreed[pool] = views.every(v => v.rings[pool] === own.rings[pool])
  return { own, views, unreachable, agreed }
}

/** Adds the admin routes of `node` to `http`; `/v1/events` streams `events`. */
export function addAdminRoutes (http: AdminHttp, node: SimplePoolNode, events: AdminEventLog): void {
  http.get('/healthz', async () => ({ status: 'ok', node: node.peerId }))

  http.get('/v1/events', async ({ header, query }) => ({
    stream: (res: Parameters<AdminEventLog['open']>[0]) => { events.open(res, header('last-event-id') ?? query.get('since') ?? undefined) }
  }))

  // ready: joined (up in its own view) and every live member places every pool alike
  http.get('/readyz', async ({ signal }) => {
    const self = node.members().find(m => m.peerId === node.peerId)
    const reasons: string[] = []
    if (self?.status !== 'up') reasons.push(`this node is ${self?.status ?? 'not a member'}`)
    const rings = await ringState(node, signal)
    for (const [pool, ok] of Object.entries(rings.agreed)) if (!ok) reasons.push(`the members' rings of ${pool} differ`)
    for (const u of rings.unreachable) reasons.push(`${u.node} did not answer: ${u.error}`)
    if (reasons.length > 0) throw new HttpError(503, 'NotReady', reasons.join('; '))
    return { ready: true, node: node.peerId }
  })

  http.get('/v1/cluster', async ({ signal }) => {
    const members = node.members()
    const byLiveness: Record<string, number> = {}
    const byStatus: Record<string, number> = {}
    for (const m of members) {
      byLiveness[m.liveness] = (byLiveness[m.liveness] ?? 0) + 1
      byStatus[m.status] = (byStatus[m.status] ?? 0) + 1
    }
    const rings = await ringState(node, signal)
    let workers = 0
    for (const m of members) for (const p of Object.values(m.pools)) workers += p.count
    return {
      node: node.peerId,
      members: members.length,
      liveness: byLiveness,
      status: byStatus,
      pools: Object.keys(rings.own.rings).sort(),
      workers,
      ringAgreed: Object.values(rings.agreed).every(Boolean) && rings.unreachable.length === 0
    }
  })

  http.get('/v1/ring', async ({ signal }) => {
    const members = node.members()
    const { own, views, unreachable, agreed } = await ringState(node, signal)
    return {
      node: node.peerId,
      version: own.version,
      agreed: Object.values(agreed).every(Boolean) && unreachable.length === 0,
      unreachable,
      pools: Object.keys(own.rings).sort().map((pool) => {
        const on = members.filter(m => m.pools[pool] !== undefined && m.liveness !== 'down' && m.status === 'up')
        const targets = on.reduce((s, m) => s + m.pools[pool].target, 0)
        const count = on.reduce((s, m) => s + m.pools[pool].count, 0)
        return {
          pool,
          fingerprint: own.rings[pool],
          agreed: agreed[pool],
          // what each node should hold (its target's share) and what it holds (as of its last heartbeat)
          nodes: on.map(m => ({
            node: m.peerId,
            target: m.pools[pool].target,
            targetShare: targets > 0 ? m.pools[pool].target / targets : 0,
            count: m.pools[pool].count,
            share: count > 0 ? m.pools[pool].count / count : 0,
            sameRing: views.find(v => v.node === m.peerId)?.rings[pool] === own.rings[pool]
          }))
        }
      })
    }
  })

  http.get('/v1/nodes', async ({ signal }) => {
    const members = node.members()
    return await Promise.all(members.map(async (m) => {
      let health: unknown
      if (m.liveness === 'down') {
        health = null
      } else {
        try {
          health = m.peerId === node.peerId ? node.health() : await node.healthOf(m.peerId, { signal: asking(signal) })
        } catch (err) {
          health = { error: { name: (err as Error).name, message: (err as Error).message } }
        }
      }
      return { node: m.peerId, self: m.peerId === node.peerId, status: m.status, liveness: m.liveness, addresses: m.addresses, pools: m.pools, health }
    }))
  })

  http.get('/v1/pools', async () => {
    const members = node.members()
    const names = new Set<string>()
    for (const m of members) for (const name of Object.keys(m.pools)) names.add(name)
    return [...names].sort().map((name) => {
      const nodes = members.filter(m => m.pools[name] !== undefined).map(m => ({ node: m.peerId, liveness: m.liveness, target: m.pools[name].target, count: m.pools[name].count }))
      // counts as of each member's last heartbeat (this node's: now)
      return { pool: name, workers: nodes.reduce((s, n) => s + n.count, 0), nodes }
    })
  })

  http.get('/v1/workers/:pool/:id', async ({ params, signal }) => {
    const where = await node.where(pool(node, params.pool), params.id, { signal })
    if (where === null) throw new HttpError(404, 'WorkerNotAliveError', `worker ${params.pool}/${params.id} is not live`)
    return { pool: params.pool, id: params.id, ...where }
  })

  http.get('/metrics', async () => ({ text: await node.metrics(), contentType: node.metricsContentType }))

  http.write('POST', '/v1/nodes/:node/drain', async ({ params, body, query, signal }) => {
    const peer = member(node, params.node)
    const pools = stringList((await body()).pools, 'pools')
    if (query.get('wait') === '1') {
      await node.drain(peer, { pools, signal })
      return { node: peer, drained: true }
    }
    // started here, finished by the node's own handoffs; progress shows in /v1/pools
    node.drain(peer, { pools }).catch(() => { /* a drain that times out leaves the node draining, as it should */ })
    return { node: peer, draining: true }
  })

  http.write('POST', '/v1/nodes/:node/undrain', async ({ params, body, signal }) => {
    const peer = member(node, params.node)
    await node.undrain(peer, { pools: stringList((await body()).pools, 'pools'), signal })
    return { node: peer, undrained: true }
  })

  http.write('PUT', '/v1/nodes/:node/targets', async ({ params, body, signal }) => {
    const peer = member(node, params.node)
    const targets = (await body()).targets
    if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) throw new HttpError(400, 'InvalidRequest', 'targets must be an object of pool names to numbers')
    await node.setTargets(peer, targets as Record<string, number>, { signal })
    return { node: peer, targets }
  })

  http.write('POST', '/v1/pools/:pool/rebalance', async ({ params, signal }) => {
    await node.rebalance(pool(node, params.pool), { signal })
    return { pool: params.pool, rebalanced: true }
  })

  http.write('DELETE', '/v1/workers/:pool/:id', async ({ params, signal }) => {
    const stopped = await node.stopWorker(pool(node, params.pool), params.id, { signal })
    return { pool: params.pool, id: params.id, stopped }
  })
}
