/**
 * The admin API's routes on a node. Any node answers for the whole cluster: members and
 * their figures come from the heartbeats every node already receives, and health, drains,
 * targets and rebalances ask the node concerned through the node's own operations.
 *
 * Reads: `GET /healthz`, `/readyz`, `/v1/cluster`, `/v1/nodes`, `/v1/nodes/:node`,
 * `/v1/pools`, `/v1/pools/:pool/plan` (what a rebalance would move), `/v1/ring`,
 * `/v1/workers/:pool/:id` (where, why, and its moves), `/metrics`; server-sent events
 * resumable with `Last-Event-ID`: `/v1/events` (this node's; `?scope=cluster` every
 * member's) and `/v1/watch` (the dashboard's stream); the dashboard itself at `/dashboard/`.
 * Writes (bearer token): `POST /v1/nodes/:node/drain` (`?wait=1` to answer when done),
 * `POST /v1/nodes/:node/undrain`, `PUT /v1/nodes/:node/targets`,
 * `POST /v1/pools/:pool/rebalance`, `DELETE /v1/workers/:pool/:id`.
 */
import type { ServerResponse } from 'node:http'
import { ASK_CONCURRENCY, WATCH_ROWS_MAX, isSimplePoolError } from '@simplepool/core'
import { checkId } from '@simplepool/runtime'
import type { AdminNode, MemberInfo, RingsView } from './admin-node.js'
import type { AdminHttp } from './http-server.js'
import { HttpError } from './http-server.js'
import type { ClusterWatch } from './cluster-watch.js'
import { addDashboardRoutes } from './dashboard-files.js'
import { askMembers, asking, boundedMap } from './ask-members.js'
import type { Unreachable } from './ask-members.js'

function stringList (v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new HttpError(400, 'InvalidRequest', `${what} must be an array of strings`)
  return v as string[]
}

/** A whole number in [min, max] from a query parameter, or undefined when absent; otherwise a 400 naming it. */
function wholeNumberParam (v: string | null, what: string, min: number, max: number): number | undefined {
  if (v === null) return undefined
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, 'InvalidRequest', `${what} must be a whole number from ${min} to ${max}, got ${v.slice(0, 32)}`)
  return n
}

/** The peer `id` if it is a member this node knows; otherwise a 404 naming it. */
function member (node: AdminNode, id: string): string {
  if (!node.members().some(m => m.peerId === id)) throw new HttpError(404, 'UnknownNode', `no member ${id} in this node's view`)
  return id
}

/** The pool's name if some member runs it; otherwise a 404 naming it. */
function pool (node: AdminNode, name: string): string {
  if (!node.members().some(m => m.pools[name] !== undefined)) throw new HttpError(404, 'UnknownPoolError', `no node runs pool ${name}`)
  return name
}

/** Every live member's rings, asked of it, and whether they all agree pool by pool. */
async function ringState (node: AdminNode, signal: AbortSignal): Promise<{ own: RingsView, views: RingsView[], unreachable: Unreachable[], agreed: Record<string, boolean> }> {
  const own = node.rings()
  const { answers, unreachable } = await askMembers(node, m => m.peerId !== node.peerId && m.status !== 'leaving', async (peer, s) => await node.ringsOf(peer, { signal: s }), signal)
  const views: RingsView[] = [own, ...answers.values()]
  const agreed: Record<string, boolean> = {}
  for (const pool of Object.keys(own.rings)) agreed[pool] = views.every(v => v.rings[pool] === own.rings[pool])
  return { own, views, unreachable, agreed }
}

/** Says in words why a worker lives where it does. */
function explain (w: { node: string, why?: string, owner?: string }): string {
  switch (w.why) {
    case 'owner': return `${w.node} owns it: the pool's ring names it for this id`
    case 'spill': return `${String(w.owner)} owns it by the ring but was at its hard limit, so it spilled to ${w.node}, the next node of the ring`
    case 'handoff': return `the ring now names ${String(w.owner)}; it is being handed there from ${w.node}`
    default: return ''
  }
}

/** Adds the admin routes of `node` to `http`; the streams and the dashboard's figures come from `watch`. */
export function addAdminRoutes (http: AdminHttp, node: AdminNode, watch: ClusterWatch): void {
  http.get('/healthz', async () => ({ status: 'ok', node: node.peerId }))

  http.get('/v1/events', async ({ header, query }) => {
    const scope = query.get('scope') ?? 'node'
    if (scope !== 'node' && scope !== 'cluster') throw new HttpError(400, 'InvalidRequest', `scope must be node or cluster, got ${scope}`)
    const last = header('last-event-id') ?? query.get('since') ?? undefined
    return {
      stream: (res: ServerResponse) => {
        if (scope === 'cluster') watch.openEvents(res, last)
        else node.eventLog.open(res, last)
      }
    }
  })

  // `?rows=N&from=K`: the rows a screen shows (see WatchPage); when absent, every member's (at most WATCH_ROWS_MAX)
  http.get('/v1/watch', async ({ header, query }) => {
    const page = { from: wholeNumberParam(query.get('from'), 'from', 0, Number.MAX_SAFE_INTEGER) ?? 0, rows: wholeNumberParam(query.get('rows'), 'rows', 1, WATCH_ROWS_MAX) ?? WATCH_ROWS_MAX }
    return { stream: (res: ServerResponse) => { watch.openDashboard(res, header('last-event-id') ?? query.get('since') ?? undefined, page) } }
  })

  addDashboardRoutes(http)

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
    const deadline = asking(signal)
    return await boundedMap(node.members(), ASK_CONCURRENCY, async (m) => {
      let health: unknown
      if (m.liveness === 'down') {
        health = null
      } else {
        try {
          health = m.peerId === node.peerId ? node.health() : await node.healthOf(m.peerId, { signal: deadline })
        } catch (err) {
          health = { error: { name: (err as Error).name, message: (err as Error).message } }
        }
      }
      return { node: m.peerId, self: m.peerId === node.peerId, status: m.status, liveness: m.liveness, addresses: m.addresses, pools: m.pools, health }
    })
  })

  http.get('/v1/nodes/:node', async ({ params, signal }) => {
    const peer = member(node, params.node)
    const m = node.members().find(x => x.peerId === peer) as MemberInfo
    const health = m.liveness === 'down' ? null : peer === node.peerId ? node.health() : await node.healthOf(peer, { signal: asking(signal) })
    // live workers as the node counts them now (heartbeat counts may be a second old)
    const workers = health === null ? null : Object.values(health.pools).reduce((s, p) => s + p.active, 0)
    return { node: peer, self: peer === node.peerId, status: m.status, liveness: m.liveness, addresses: m.addresses, pools: m.pools, workers, health }
  })

  http.get('/v1/pools/:pool/plan', async ({ params, signal }) => {
    const name = pool(node, params.pool)
    const { answers, unreachable } = await askMembers(node, m => m.pools[name] !== undefined, async (peer, s) => await node.movePlanOf(peer, name, { signal: s }), signal)
    const moves = [...answers].flatMap(([from, plan]) => Object.entries(plan).map(([to, workers]) => ({ from, to, workers })))
    moves.sort((a, b) => b.workers - a.workers)
    return { pool: name, total: moves.reduce((s, m) => s + m.workers, 0), moves, unreachable }
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
    const name = pool(node, params.pool)
    // a bad id is the client's mistake (400), not a worker that is not live
    checkId(params.id)
    // every member: the owner does not know of a copy waiting to be handed to it
    const { answers, unreachable } = await askMembers(node, m => m.pools[name] !== undefined, async (peer, s) => await node.inspectOn(peer, name, params.id, { signal: s }), signal)
    const copies = [...answers.values()].flatMap(a => a.where === null ? [] : [a.where])
    const moves = [...answers.values()].flatMap(a => a.moves).sort((x, y) => x.at - y.at)
    // one copy, as a rule; two only for a moment of a handoff (the newer epoch is the one that counts)
    const where = copies.sort((x, y) => y.epoch - x.epoch)[0]
    // found nowhere, but not every node could be asked: it may live on one of those
    if (where === undefined && unreachable.length > 0) {
      throw new HttpError(503, 'NodeUnavailableError', `worker ${name}/${params.id} is on none of the nodes that answered; ${unreachable.map(u => u.node).join(', ')} did not`, { unreachable, moves })
    }
    if (where === undefined) {
      let owner: string | undefined
      try {
        owner = node.placement().ownerOf(name, params.id)
      } catch {
        // nobody serves the pool now: no owner to name
      }
      throw new HttpError(404, 'WorkerNotAliveError', `worker ${name}/${params.id} is not live`, { owner, moves })
    }
    return { pool: name, id: params.id, ...where, detail: explain(where), moves, ...(copies.length > 1 ? { copies } : {}), ...(unreachable.length > 0 ? { unreachable } : {}) }
  })

  http.get('/metrics', async () => ({ text: await node.metrics(), contentType: node.metricsContentType }))

  http.write('POST', '/v1/nodes/:node/drain', 'drain', ['pools'], async ({ params, body, query, signal }) => {
    const peer = member(node, params.node)
    const pools = stringList((await body()).pools, 'pools')
    if (query.get('wait') === '1') {
      await node.drain(peer, { pools, signal })
      return { node: peer, drained: true }
    }
    // begun (a refusal, such as an unknown pool, is the answer); its progress and end are events
    await node.drain(peer, { pools, signal, wait: false })
    return { node: peer, draining: true }
  })

  http.write('POST', '/v1/nodes/:node/undrain', 'undrain', ['pools'], async ({ params, body, signal }) => {
    const peer = member(node, params.node)
    await node.undrain(peer, { pools: stringList((await body()).pools, 'pools'), signal })
    return { node: peer, undrained: true }
  })

  http.write('PUT', '/v1/nodes/:node/targets', 'targets', ['targets'], async ({ params, body, signal }) => {
    const peer = member(node, params.node)
    const targets = (await body()).targets
    if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) throw new HttpError(400, 'InvalidRequest', 'targets must be an object of pool names to numbers')
    await node.setTargets(peer, targets as Record<string, number>, { signal })
    return { node: peer, targets }
  })

  http.write('POST', '/v1/pools/:pool/rebalance', 'rebalance', [], async ({ params, signal }) => {
    await node.rebalance(pool(node, params.pool), { signal })
    return { pool: params.pool, rebalanced: true }
  })

  http.write('DELETE', '/v1/workers/:pool/:id', 'stop', [], async ({ params, signal }) => {
    const stopped = await node.stopWorker(pool(node, params.pool), params.id, { signal })
    return { pool: params.pool, id: params.id, stopped }
  })
  // an operator pokes one worker: `{ "msg": ..., "timeoutMs"?: ms }`
  http.write('POST', '/v1/workers/:pool/:id/call', 'call', [], async ({ params, body, signal }) => {
    const { msg, timeoutMs } = messageOf(await body(), true)
    try {
      const reply = await node.ref(pool(node, params.pool), params.id).call(msg, { signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
      return { pool: params.pool, id: params.id, reply: reply ?? null }
    } catch (err) {
      const e = err as Error
      // the worker's own error (its handler threw), not the runtime's: 422, by its name
      if (!isSimplePoolError(e.name)) throw new HttpError(422, e.name, e.message, { worker: true })
      throw err
    }
  })
  http.write('POST', '/v1/workers/:pool/:id/cast', 'cast', [], async ({ params, body }) => {
    const { msg } = messageOf(await body(), false)
    node.ref(pool(node, params.pool), params.id).cast(msg)
    return { pool: params.pool, id: params.id, sent: true }
  })
}

/** A call's or cast's body, checked: the message (any JSON value) and, for a call, its deadline. */
function messageOf (b: Record<string, unknown>, call: boolean): { msg: unknown, timeoutMs?: number } {
  const shape = call ? '{ "msg": <any JSON>, "timeoutMs"?: <ms> }' : '{ "msg": <any JSON> }'
  if (!('msg' in b)) throw new HttpError(400, 'InvalidMessageError', `the body must be ${shape}`)
  const t = b.timeoutMs
  if (t !== undefined && (!call || typeof t !== 'number' || !(t > 0))) throw new HttpError(400, 'InvalidMessageError', `the body must be ${shape}; timeoutMs: a number of ms > 0`)
  return { msg: b.msg, timeoutMs: t as number | undefined }
}
