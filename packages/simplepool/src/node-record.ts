/**
 * What a node records for its operators, from its own events: the event log a watcher
 * reads (membership, rings, migrations, drains, fencing, failures) and the last moves of
 * workers onto it (the worker inspector's history); and its figures for a watcher. Every
 * node keeps both, bounded, so a watcher on any node sees the whole cluster.
 */
import type { HealthStatus, WorkerLocation } from '@simplepool/runtime'
import { AdminEventLog } from './admin-events.js'
import type { AdminEvent } from './admin-events.js'
import { MoveLog } from './move-log.js'
import type { WorkerMove } from './move-log.js'
import type { SimplePoolNode } from './node.js'

/** Events a node sends a watcher per question: the newest, when more were logged since its last. */
const WATCH_EVENTS_MAX = 200

/** One node's answer about one worker: see {@link SimplePoolNode.inspectOn}. */
export interface WorkerHere {
  where: WorkerLocation | null
  moves: WorkerMove[]
}

/** A node's figures for a watcher (the dashboard), asked once a second only while one is open. */
export interface WatchFigures {
  node: string
  /** Wall-clock ms on that node. */
  at: number
  health: HealthStatus
  reasons: string[]
  loopP99Ms: number
  rssBytes: number
  heapUsedBytes: number
  migrationBacklog: number
  /** Per pool: live workers, target, and counters since the pool started (turns, failures, turn latencies as a sparse histogram). */
  pools: Record<string, { count: number, target: number, turns: number, failures: number, latency: number[] }>
  /** Each pool's ring fingerprint (see `RingsView`). */
  rings: Record<string, string>
  /** Events logged after the watcher's last, oldest first; `gap` when some were missed. */
  events: AdminEvent[]
  gap: boolean
}

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
    for (const name of node.runtime.poolNames()) {
      const p = node.runtime.localPool(name)
      if (p === undefined) continue
      pools[name] = { count: p.activations.size, target: p.target, turns: p.stats.counters.turns, failures: p.stats.counters.failures, latency: p.stats.cumulative().toSparse() }
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
