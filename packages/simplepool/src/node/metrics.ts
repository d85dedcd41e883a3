import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { MembershipSnapshot } from '@simplepool/core'
import type { TransportStats } from '@simplepool/transport'
import type { NodeHealth, PoolCounters, PoolView, Refusals, RoutingStats } from '@simplepool/runtime'

const STATUS_VALUE = { online: 0, degraded: 1, critical: 2 } as const

/** Pool counters exported as Prometheus counters: name, help, and the counter they read. */
const POOL_COUNTERS: Array<[string, string, keyof PoolCounters]> = [
  ['simplepool_activations_total', 'Workers activated on this node', 'activations'],
  ['simplepool_turns_total', 'Turns run: calls, casts and ticks', 'turns'],
  ['simplepool_ticks_total', 'Ticks queued by the timing wheel', 'ticks'],
  ['simplepool_failures_total', 'Turns, activations and saves that threw', 'failures'],
  ['simplepool_timeouts_total', 'Calls that ran past their deadline in a mailbox or a turn', 'timeouts'],
  ['simplepool_passivations_total', 'Workers saved and deactivated', 'passivations'],
  ['simplepool_overloaded_total', 'Messages refused by a full mailbox', 'overloaded'],
  ['simplepool_mailbox_dropped_casts_total', 'Casts lost in a mailbox: the worker failed to activate or the node stopped', 'droppedCasts'],
  ['simplepool_migrated_out_total', 'Workers handed to another node with their state', 'migratedOut'],
  ['simplepool_migrated_in_total', 'Workers taken from another node with their state', 'migratedIn'],
  ['simplepool_spilled_total', 'New workers sent to the next node on the ring because this node was at its hard limit', 'spilled'],
  ['simplepool_fenced_total', 'Activations dropped unsaved because a newer copy lived elsewhere', 'fenced'],
  ['simplepool_stale_writes_total', 'Writes a store refused because a newer copy of the worker held its row; each dropped its activation', 'staleWrites'],
  ['simplepool_forwarded_total', 'Messages forwarded to the owner this node sees', 'forwarded']
]

/**
 * What the metrics read of a node, when scraped: its pools and routing counters, its
 * transport's counters, its view of the members, its health. A `SimplePoolNode` is one.
 */
export interface MetricsSource {
  runtime: {
    poolViews: () => readonly PoolView[]
    counts: () => Record<string, number>
    targets: () => Record<string, number>
    readonly routing: Readonly<RoutingStats>
    readonly replicator: { readonly figures: { replicas: number, bytes: number, missed: number } }
    readonly access: { refusals: () => readonly Refusals[] }
  }
  transport: { readonly stats: Readonly<TransportStats> }
  mesh: { snapshot: () => MembershipSnapshot }
  health: () => NodeHealth
}

/**
 * A node's figures in the Prometheus text format, through prom-client. Nothing is
 * recorded per message here: every value is read from the runtime's own counters when
 * the registry is scraped, so an unscraped node pays nothing.
 */
export class NodeMetrics {
  /** This node's own registry: nodes in one process do not share metrics. */
  readonly registry = new Registry()

  constructor (node: MetricsSource, processMetrics: boolean) {
    const registers = [this.registry]
    for (const [name, help, key] of POOL_COUNTERS) {
      // eslint-disable-next-line no-new
      new Counter({
        name,
        help,
        labelNames: ['pool'],
        registers,
        collect () {
          this.reset()
          for (const view of node.runtime.poolViews()) this.inc({ pool: view.name }, view.counters[key])
        }
      })
    }
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'simplepool_workers',
      help: 'Workers active on this node',
      labelNames: ['pool'],
      registers,
      collect () {
        for (const [pool, n] of Object.entries(node.runtime.counts())) this.set({ pool }, n)
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'simplepool_target',
      help: "This node's target per pool (its ring weight)",
      labelNames: ['pool'],
      registers,
      collect () {
        for (const [pool, n] of Object.entries(node.runtime.targets())) this.set({ pool }, n)
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'simplepool_turn_duration_seconds',
      help: 'Turn duration quantiles over the last 30 to 60 seconds',
      labelNames: ['pool', 'quantile'],
      registers,
      collect () {
        for (const view of node.runtime.poolViews()) {
          this.set({ pool: view.name, quantile: '0.5' }, view.quantile(0.5) / 1000)
          this.set({ pool: view.name, quantile: '0.99' }, view.quantile(0.99) / 1000)
        }
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'simplepool_node_health_status',
      help: 'The node\'s health: 0 online, 1 degraded, 2 critical',
      registers,
      collect () { this.set(STATUS_VALUE[node.health().status]) }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'simplepool_health_status',
      help: 'A pool\'s health on this node: 0 online, 1 degraded, 2 critical',
      labelNames: ['pool'],
      registers,
      collect () {
        for (const [pool, p] of Object.entries(node.health().pools)) this.set({ pool }, STATUS_VALUE[p.status])
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'simplepool_members',
      help: 'Members this node knows, by status and liveness',
      labelNames: ['status', 'liveness'],
      registers,
      collect () {
        this.reset()
        for (const m of node.mesh.snapshot().members) this.inc({ status: m.status, liveness: m.liveness })
      }
    })
    for (const [name, help, key] of [['simplepool_replicas', 'Replicas of workers owned elsewhere kept on this node', 'replicas'],
      ['simplepool_replica_bytes', 'Bytes of state in the replicas kept on this node', 'bytes']] as const) {
      // eslint-disable-next-line no-new
      new Gauge({ name, help, registers, collect () { this.set(node.runtime.replicator.figures[key]) } })
    }
    // eslint-disable-next-line no-new
    new Counter({
      name: 'simplepool_replicas_missed_total',
      help: 'Replicas a successor did not acknowledge (down, cut off, too slow): each failed its call or went to the next successor',
      registers,
      collect () {
        this.reset()
        this.inc(node.runtime.replicator.figures.missed)
      }
    })
    // eslint-disable-next-line no-new
    new Counter({
      name: 'simplepool_dropped_casts_total',
      help: 'Casts lost after they were sent: on the transport, at a full mailbox, or for a worker not alive',
      registers,
      collect () {
        this.reset()
        this.inc(node.transport.stats.droppedCasts + node.runtime.routing.droppedCasts)
      }
    })
    // eslint-disable-next-line no-new
    new Counter({
      name: 'simplepool_access_denied_total',
      help: "Requests the access rules refused, per peer (its proven peer id; past 256 peers, '(other)'), pool ('' for a node operation) and operation",
      labelNames: ['peer', 'pool', 'op'],
      registers,
      collect () {
        this.reset()
        for (const r of node.runtime.access.refusals()) this.inc({ peer: r.peer, pool: r.pool, op: r.op }, r.count)
      }
    })
    for (const [name, key] of [['simplepool_transport_frames_out_total', 'framesOut'], ['simplepool_transport_frames_in_total', 'framesIn'],
      ['simplepool_transport_envelopes_out_total', 'envelopesOut'], ['simplepool_transport_envelopes_in_total', 'envelopesIn'],
      ['simplepool_transport_call_timeouts_total', 'timeouts'], ['simplepool_transport_invalid_frames_total', 'invalidFrames']] as const) {
      // eslint-disable-next-line no-new
      new Counter({
        name,
        help: `Transport: ${key}`,
        registers,
        collect () {
          this.reset()
          this.inc(node.transport.stats[key])
        }
      })
    }
    if (processMetrics) collectDefaultMetrics({ register: this.registry })
  }

  /** The content type of {@link text}. */
  get contentType (): string {
    return this.registry.contentType
  }

  /** Every metric in the Prometheus text format, read now. */
  async text (): Promise<string> {
    return await this.registry.metrics()
  }
}
