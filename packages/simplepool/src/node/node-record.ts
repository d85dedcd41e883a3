/**
 * What a node records for its operators, from its own events: the event log a watcher
 * reads (membership, rings, migrations, drains, fencing, failures) and the last moves of
 * workers onto it (the worker inspector's history); and its figures for a watcher. Every
 * node keeps both, bounded, so a watcher on any node sees the whole cluster.
 */
import type { Clock, TypedEventTarget } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { NodeHealth, PoolView } from '@simplepool/runtime'
import type { RingsView, WatchFigures } from '../admin/admin-node.js'
import { AdminEventLog } from '../admin/event-log.js'
import { MoveLog } from '../admin/move-log.js'
import type { NodeEvents } from './node-events.js'
import { WATCH_EVENTS_MAX } from '@simplepool/core'

/** What a node's record listens to and reads. */
export interface NodeRecordComponents {
  /** The node's events: membership, rings, migrations, fencing, failures, moves. */
  events: Pick<TypedEventTarget<NodeEvents>, 'addEventListener'>
  /** Wall time of the moves and figures recorded. */
  clock: Clock
  /** This node's peer id. */
  self: () => string
  placement: () => Placement
  health: () => NodeHealth
  /** This node's pools, as the runtime shows them. */
  pools: () => readonly PoolView[]
  rings: () => RingsView
}

/** A node's record: its event log and move log, fed by its events, and its figures for a watcher. */
export class NodeRecord {
  readonly events = new AdminEventLog()
  /** The last workers that moved here. */
  readonly moves = new MoveLog()
  /** Each pool's ring fingerprint when the log last looked, to log ring changes. */
  private readonly loggedRings = new Map<string, string>()

  constructor (private readonly c: NodeRecordComponents) {
    const log = this.events
    const node = c.events
    for (const type of ['member:join', 'member:update', 'member:leave', 'member:down'] as const) {
      node.addEventListener(type, (evt) => {
        const m = evt.detail
        log.add(type, { member: m.peerId, status: m.status, liveness: m.liveness })
      })
    }
    node.addEventListener('membership:change', () => {
      const placement = c.placement()
      for (const pool of placement.pools()) {
        const fingerprint = placement.ring(pool)?.fingerprint ?? ''
        if (this.loggedRings.get(pool) === fingerprint) continue
        this.loggedRings.set(pool, fingerprint)
        log.add('ring:change', { pool, version: placement.version, nodes: placement.ring(pool)?.nodes.length ?? 0, fingerprint })
      }
    })
    for (const type of ['migration:start', 'migration:progress', 'migration:done', 'node:fence', 'worker:conflict', 'access:deny', 'admin:write'] as const) {
      node.addEventListener(type, (evt) => { log.add(type, evt.detail) })
    }
    node.addEventListener('worker:fail', (evt) => {
      const d = evt.detail
      log.failure(d.pool, { id: d.id, node: d.node, during: d.during, error: d.error })
    })
    // arrivals only: the node a worker left may be gone when someone asks
    node.addEventListener('worker:migrate', (evt) => {
      const d = evt.detail
      if (d.to === d.node) this.moves.add({ at: c.clock.now(), pool: d.pool, id: d.id, from: d.from, to: d.to, epoch: d.epoch })
    })
  }

  /** The node's figures now, and the events it logged after `afterEventId`. */
  figures (afterEventId?: string): WatchFigures {
    const c = this.c
    const health = c.health()
    const mem = process.memoryUsage()
    const pools: WatchFigures['pools'] = {}
    for (const view of c.pools()) {
      pools[view.name] = { count: view.size, target: view.target, turns: view.counters.turns, failures: view.counters.failures, latency: view.cumulativeLatency().toSparse() }
    }
    const { events, gap } = this.events.since(afterEventId, WATCH_EVENTS_MAX)
    return {
      node: c.self(),
      at: c.clock.now(),
      health: health.status,
      reasons: health.reasons,
      loopP99Ms: health.eventLoopDelayP99Ms,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      migrationBacklog: health.migrationBacklog,
      replicas: health.replicas,
      pools,
      rings: c.rings().rings,
      events,
      gap
    }
  }
}
