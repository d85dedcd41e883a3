import type { ReplicaItem } from '../protocol/replica-messages.js'

/** A replica kept here: the owner's epoch and put count, and the state's bytes. */
export interface Replica {
  readonly epoch: number
  readonly seq: number
  readonly bytes: Uint8Array
}

/** Bytes before the state in a packed replica: the epoch (7 bytes, below 2^53) and the put count (6 bytes). */
const HEADER = 13

/**
 * The replicas this node keeps for workers owned elsewhere (it is one of their owner's
 * successors on the pool's ring): per pool and id, the latest state the owner sent, never
 * activated. A put older than what is kept (a lower epoch, or the same epoch and a put
 * count not higher) changes nothing; one from an epoch older than a copy kept or live
 * here is refused with that copy's epoch, which tells the owner its copy is stale.
 *
 * Each replica is one flat one-byte string (epoch, put count, then the state's bytes,
 * one character each): a million of them cost their state and about 50 bytes each of
 * map entry and string header, where an object holding a `Uint8Array` cost 300.
 */
export class ReplicaStore {
  private readonly pools = new Map<string, Map<string, string>>()
  private count = 0
  private size = 0

  /**
   * Keeps `item` unless a newer copy is known here. `liveEpoch`: the epoch of this node's
   * own live activation of the worker, if any. Returns true when kept (or already had),
   * the newer epoch that refuses it, or -1 for an epoch or put count out of range.
   */
  put (pool: string, item: ReplicaItem, liveEpoch: number | undefined): true | number {
    // a put from an older copy than the one live here is refused; one of the copy live here
    // (passed back on by a node that left its chain) is had already; one from a newer copy
    // (this one is being handed to it, say) is kept: this one goes soon (seed 15 with --replicas 1)
    if (!fits(item)) return -1
    if (liveEpoch !== undefined && liveEpoch > item.epoch) return liveEpoch
    if (liveEpoch === item.epoch) return true
    let replicas = this.pools.get(pool)
    const kept = replicas?.get(item.id)
    if (kept !== undefined) {
      const epoch = epochOf(kept)
      if (epoch > item.epoch) return epoch
      if (epoch === item.epoch && seqOf(kept) >= item.seq) return true
      this.size -= kept.length - HEADER
      this.count--
    }
    if (replicas === undefined) this.pools.set(pool, replicas = new Map())
    replicas.set(item.id, pack(item))
    this.size += item.bytes.byteLength
    this.count++
    return true
  }

  /** The replica of `pool`/`id` kept here, if any. */
  get (pool: string, id: string): Replica | undefined {
    const kept = this.pools.get(pool)?.get(id)
    return kept === undefined ? undefined : { epoch: epochOf(kept), seq: seqOf(kept), bytes: Buffer.from(kept.slice(HEADER), 'latin1') }
  }

  /** Whether a replica of `pool`/`id` is kept here (without reading it). */
  has (pool: string, id: string): boolean {
    return this.pools.get(pool)?.has(id) === true
  }

  /** Drops the replica of `pool`/`id` unless it is newer than the put `epoch`/`seq` names (any, when not given); returns whether one went. */
  drop (pool: string, id: string, epoch = Infinity, seq = Infinity): boolean {
    const replicas = this.pools.get(pool)
    const kept = replicas?.get(id)
    if (replicas === undefined || kept === undefined) return false
    const keptEpoch = epochOf(kept)
    if (keptEpoch > epoch || (keptEpoch === epoch && seqOf(kept) > seq)) return false
    replicas.delete(id)
    this.size -= kept.length - HEADER
    this.count--
    if (replicas.size === 0) this.pools.delete(pool)
    return true
  }

  /** The ids of every replica kept of `pool`. */
  idsOf (pool: string): Iterable<string> {
    return this.pools.get(pool)?.keys() ?? NONE
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

const NONE: readonly string[] = []

/** Whether `item`'s epoch and put count fit a packed replica (an owner sends epochs below 2^53 and counts below 2^48, a million turns a second for eight years; anything else is malformed). */
function fits (item: ReplicaItem): boolean {
  return Number.isSafeInteger(item.epoch) && item.epoch >= 0 && Number.isSafeInteger(item.seq) && item.seq >= 0 && item.seq < 2 ** 48
}

/** One flat string of `item`'s epoch, put count and bytes (a copy: the bytes arrive as a view into the frame they came in). */
function pack (item: ReplicaItem): string {
  const b = Buffer.allocUnsafe(HEADER + item.bytes.byteLength)
  b.writeUIntBE(Math.floor(item.epoch / 2 ** 32), 0, 3)
  b.writeUInt32BE(item.epoch % 2 ** 32, 3)
  b.writeUIntBE(item.seq, 7, 6)
  b.set(item.bytes, HEADER)
  return b.toString('latin1')
}

function epochOf (packed: string): number {
  let e = 0
  for (let i = 0; i < 7; i++) e = e * 256 + packed.charCodeAt(i)
  return e
}

function seqOf (packed: string): number {
  let s = 0
  for (let i = 7; i < HEADER; i++) s = s * 256 + packed.charCodeAt(i)
  return s
}
