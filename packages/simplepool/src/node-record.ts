/**
 * What a node records for its operators, from its own events: the event log a watcher
 * reads (membership, rings, migrations, drains, fencing, failures) and the last moves of
 * workers onto it (the worker inspector's history); and its figures for a watcher. Every
 * node keeps both, bounded, so a watcher on any node sees the whole cluster.
 */
import type { WatchFigures } from './admin/admin-node.js'
import { AdminEventLog } from './admin/event-log.js'
import { MoveLog } from './admin/move-log.js'
import type { SimplePoolNode } from './node.js'

/** Events a node sends a watcher per question: the newest, when more were logged since its last. */
const WATCH_EVENTS_MAX = 200

export class NodeRecord {
  readonly events = new AdminEventLog()
  /** The last workers that moved here. */
  readonly moves = new MoveLog()
  /** Each pool's ring fingerprint when the log last looked, to log ring changes. */
  private readonly loggedRings = new Map<string, string>()

  constructor (private readonly node: SimplePoolNode) {
    const log = this.events
    for (const type of ['member:join', 'member:update', 'member:leave', 'member:down'] as const) {
      node.addEventListener(type, (evt) => {
        const m = evt.detail
        log.add(type, { member: m.peerId, status: m.status, liveness: m.liveness })
      })
    }
    node.addEventListener('membership:change', () => {
      const placement = node.placement()
      for (const pool of placement.pools()) {
        const fingerprint = placement.ring(pool)?.fingerprint ?? ''
        if (this.loggedRings.get(pool) === fingerprint) continue
        this.loggedRings.set(pool, fingerprint)
        log.add('ring:change', { pool, version: placement.version, nodes: placement.ring(pool)?.nodes.length ?? 0, fingerprint })
      }
    })
    for (const type of ['migration:start', 'migration:progress', 'migration:done', 'node:fence'] as const) {
      node.addEventListener(type, (evt) => { log.add(type, evt.detail) })
    }
    node.addEventListener('worker:fail', (evt) => {
      const d = evt.detail
      log.failure(d.pool, { id: d.id, node: d.node, during: d.during, error: d.error })
    })
    // arrivals only: the node a worker left may be gone when someone asks
    node.addEventListener('worker:migrate', (evt) => {
      const d = evt.detail
      if (d.to === d.node) this.moves.add({ at: Date.now(), pool: d.pool, id: d.id, from: d.from, to: d.to, epoch: d.epoch })
    })
  }

  /** The node's figures now, and the events it logged after `afterEventId`. */
  figures (afterEventId?: string): WatchFigures {
    const node = this.node
    const health = node.health()
    const mem = process.memoryUsage()
    const pools: WatchFigures['pools'] = {}
    for (const view of node.runtime.poolViews()) {
      pools[view.name] = { count: view.size, target: view.target, turns: view.counters.turns, failures: view.counters.failures, latency: view.cumulativeLatency().toSparse() }
    }
    const { events, gap } = this.events.since(afterEventId, WATCH_EVENTS_MAX)
    return {
      node: node.peerId,
      at: Date.now(),
      health: health.status,
      reasons: health.reasons,
      loopP99Ms: health.eventLoopDelayP99Ms,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      migrationBacklog: health.migrationBacklog,
      pools,
      rings: node.rings().rings,
      events,
      gap
    }
  }
}
