import { HANDOFF_PUMP_MS, REPLICA_STARTS_PER_PUMP } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { LocalPool } from '../activation/local-pool.js'

/** What the paced starts need of the node. */
export interface ReplicaStartsComponents {
  readonly clock: Clock
  readonly logger: Logger
  /** True while the node runs: it starts workers only then. */
  running: () => boolean
  /** Whether `pool`/`id` should still start here: its replica is kept, and this node owns it. */
  due: (pool: string, id: string) => boolean
}

/**
 * Workers started from their replicas after their owner was lost, `REPLICA_STARTS_PER_PUMP`
 * every `HANDOFF_PUMP_MS`: a failover at a million workers makes hundreds of thousands at
 * once, each claiming and asking its chain first, and all at once they swamped the nodes
 * (every sampled worker answered 47 s after the kill). A message for one of them starts it
 * at once meanwhile (from the same replica).
 */
export class ReplicaStarts {
  private readonly starting: Array<[LocalPool, string]> = []
  private pumping = false

  constructor (private readonly c: ReplicaStartsComponents) {}

  /** Workers waiting for their start. */
  get size (): number {
    return this.starting.length
  }

  add (workers: ReadonlyArray<[LocalPool, string]>): void {
    for (const w of workers) this.starting.push(w)
    if (this.starting.length > 0 && !this.pumping) this.pump()
  }

  private pump (): void {
    this.pumping = false
    if (!this.c.running()) {
      this.starting.length = 0
      return
    }
    const batch = this.starting.splice(0, REPLICA_STARTS_PER_PUMP)
    for (const [local, id] of batch) {
      // still due here, and still not live (a message may have started it meanwhile)
      if (local.activations.has(id) || !this.c.due(local.name, id)) continue
      try {
        local.ensure(id)
      } catch (err) {
        this.c.logger.warn(`${local.name}/${id} could not start from its replica: ${(err as Error).message}`)
      }
    }
    if (this.starting.length > 0) {
      this.pumping = true
      this.c.clock.setTimeout(() => { this.pump() }, HANDOFF_PUMP_MS)
    }
  }
}
