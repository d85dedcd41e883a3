import type { ReplicaItem } from '../protocol/replica-messages.js'

/** A replica kept here: the owner's epoch and put count, and the state's bytes. */
export interface Replica {
  readonly epoch: number
  readonly seq: number
  readonly bytes: Uint8Array
}

/**
 * The replicas this node keeps for workers owned elsewhere (it is one of their owner's
 * successors on the pool's ring): per pool and id, the latest state the owner sent, as
 * bytes, never activated. A put older than what is kept (a lower epoch, or the same epoch
 * and a put count not higher) changes nothing; one from an epoch older than a copy kept
 * or live here is refused with that copy's epoch, which tells the owner its copy is stale.
 */
export class ReplicaStore {
  private readonly pools = new Map<string, Map<string, Replica>>()
  private count = 0
  private size = 0

  /**
   * Keeps `item` unless a newer copy is known here. `liveEpoch`: the epoch of this node's
   * own live activation of the worker, if any. Returns true when kept (or already had),
   * or the newer epoch that refuses it.
   */
  put (pool: string, item: ReplicaItem, liveEpoch: number | undefined): true | number {
    // a put from an older copy than the one live here is refused; one of the copy live here
    // (passed back on by a node that left its chain) is had already; one from a newer copy
    // (this one is being handed to it, say) is kept: this one goes soon (seed 15 with --replicas 1)
    if (liveEpoch !== undefined && liveEpoch > item.epoch) return liveEpoch
    if (liveEpoch === item.epoch) return true
    let replicas = this.pools.get(pool)
    const kept = replicas?.get(item.id)
    if (kept !== undefined) {
      if (kept.epoch > item.epoch) return kept.epoch
      if (kept.epoch === item.epoch && kept.seq >= item.seq) return true
      this.size -= kept.bytes.byteLength
      this.count--
    }
    if (replicas === undefined) this.pools.set(pool, replicas = new Map())
    // a copy of its own: the bytes arrive as a view into the frame they came in, which would stay
    const bytes = Uint8Array.prototype.slice.call(item.bytes)
    replicas.set(item.id, { epoch: item.epoch, seq: item.seq, bytes })
    this.size += bytes.byteLength
    this.count++
    return true
  }

  /** The replica of `pool`/`id` kept here, if any. */
  get (pool: string, id: string): Replica | undefined {
    return this.pools.get(pool)?.get(id)
  }

  /** Drops the replica of `pool`/`id` unless it is newer than the put `epoch`/`seq` names (any, when not given); returns whether one went. */
  drop (pool: string, id: string, epoch = Infinity, seq = Infinity): boolean {
    const replicas = this.pools.get(pool)
    const kept = replicas?.get(id)
    if (replicas === undefined || kept === undefined || kept.epoch > epoch || (kept.epoch === epoch && kept.seq > seq)) return false
    replicas.delete(id)
    this.size -= kept.bytes.byteLength
    this.count--
    if (replicas.size === 0) this.pools.delete(pool)
    return true
  }

  /** Every replica kept of `pool`: id and replica. */
  of (pool: string): ReadonlyMap<string, Replica> {
    return this.pools.get(pool) ?? EMPTY
  }

  /** The pools this node keeps replicas of. */
  poolNames (): Iterable<string> {
    return this.pools.keys()
  }

  /** Replicas kept here, and their bytes of state. */
  get figures (): { replicas: number, bytes: number } {
    return { replicas: this.count, bytes: this.size }
  }
}

const EMPTY: ReadonlyMap<string, Replica> = new Map()
