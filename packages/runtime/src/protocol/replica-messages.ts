/**
 * The messages of replication: an owner sends a worker's state, after the turns that
 * changed it, to the nodes that follow it on the pool's ring (its successors), which keep
 * it unactivated until the owner is gone; and tells them to drop it.
 */
import { InvalidMessageError, MAX_HANDOFF_WORKERS } from '@simplepool/core'
import { fieldsOf, int, str } from './fields.js'
import { Op } from './ops.js'

/** One worker's replica: its id, its owner's epoch, the owner's count of its puts in that epoch, and its state as bytes (cbor of its portable form). */
export interface ReplicaItem {
  id: string
  epoch: number
  seq: number
  bytes: Uint8Array
}

/** `[Op.ReplicaPut, pool, [id, epoch, seq, bytes, ...]]` */
export interface ReplicaPutMessage {
  pool: string
  /** In order; an item whose fields are malformed is its own `InvalidMessageError`, refused alone. */
  items: Array<ReplicaItem | InvalidMessageError>
}

/** Per item, in order: true when kept, or the epoch of the newer copy this node holds (the owner's copy is stale), or -1 for a malformed item. */
export type ReplicaPutAnswer = Array<true | number>

/** Reads a {@link ReplicaPutAnswer} to a put of `count` items from the network: anything else is `InvalidMessageError`. */
export function decodeReplicaPutAnswer (answer: unknown, count: number): ReplicaPutAnswer {
  if (!Array.isArray(answer) || answer.length !== count) throw new InvalidMessageError(`a replica put of ${count} items is answered with as many outcomes`)
  for (const a of answer) {
    if (a !== true && !Number.isSafeInteger(a)) throw new InvalidMessageError('a replica put\'s outcome is true or an epoch')
  }
  return answer as ReplicaPutAnswer
}

export function encodeReplicaPut (pool: string, items: readonly ReplicaItem[]): unknown[] {
  const flat: unknown[] = []
  for (const r of items) flat.push(r.id, r.epoch, r.seq, r.bytes)
  return [Op.ReplicaPut, pool, flat]
}

export function decodeReplicaPut (payload: unknown): ReplicaPutMessage {
  const p = fieldsOf(payload)
  const pool = str(p, 1, 'pool')
  const flat = p[2]
  if (!Array.isArray(flat) || flat.length % 4 !== 0 || flat.length > 4 * MAX_HANDOFF_WORKERS) {
    throw new InvalidMessageError(`a replica put carries [id, epoch, seq, bytes] quadruples, at most ${MAX_HANDOFF_WORKERS}`)
  }
  const items: ReplicaPutMessage['items'] = []
  for (let i = 0; i < flat.length; i += 4) {
    try {
      const bytes = flat[i + 3]
      if (!(bytes instanceof Uint8Array)) throw new InvalidMessageError('a replica\'s state must be bytes')
      items.push({ id: str(flat, i, 'id'), epoch: int(flat, i + 1, 'epoch'), seq: int(flat, i + 2, 'seq'), bytes })
    } catch (err) {
      items.push(err as InvalidMessageError)
    }
  }
  return { pool, items }
}

/**
 * `[Op.ReplicaDrop, pool, [id, epoch, seq, ...]]`: drop each replica not newer than the
 * put it names (its epoch, and in that epoch its put count): one put since, by a ring that
 * moved back, stays.
 */
export interface ReplicaDropMessage {
  pool: string
  items: Array<{ id: string, epoch: number, seq: number }>
}

export function encodeReplicaDrop (pool: string, items: ReadonlyArray<{ id: string, epoch: number, seq: number }>): unknown[] {
  const flat: unknown[] = []
  for (const r of items) flat.push(r.id, r.epoch, r.seq)
  return [Op.ReplicaDrop, pool, flat]
}

export function decodeReplicaDrop (payload: unknown): ReplicaDropMessage {
  const p = fieldsOf(payload)
  const pool = str(p, 1, 'pool')
  const flat = p[2]
  if (!Array.isArray(flat) || flat.length % 3 !== 0 || flat.length > 3 * MAX_HANDOFF_WORKERS) {
    throw new InvalidMessageError(`a replica drop carries [id, epoch, seq] triples, at most ${MAX_HANDOFF_WORKERS}`)
  }
  const items: ReplicaDropMessage['items'] = []
  for (let i = 0; i < flat.length; i += 3) items.push({ id: str(flat, i, 'id'), epoch: int(flat, i + 1, 'epoch'), seq: int(flat, i + 2, 'seq') })
  return { pool, items }
}

/** `[Op.ReplicaGet, pool, id]`: asked by a node that starts the worker (it owns it now), of the nodes that may keep a replica of it. */
export interface ReplicaGetMessage {
  pool: string
  id: string
}

/** `[epoch, seq, bytes]` of the replica kept, or null when none is. */
export type ReplicaGetAnswer = [number, number, Uint8Array] | null

export function encodeReplicaGet (pool: string, id: string): unknown[] {
  return [Op.ReplicaGet, pool, id]
}

export function decodeReplicaGet (payload: unknown): ReplicaGetMessage {
  const p = fieldsOf(payload)
  return { pool: str(p, 1, 'pool'), id: str(p, 2, 'id') }
}

/** Reads a {@link ReplicaGetAnswer} from the network: anything else is `InvalidMessageError`. */
export function decodeReplicaGetAnswer (answer: unknown): ReplicaGetAnswer {
  if (answer === null) return null
  if (!Array.isArray(answer) || !(answer[2] instanceof Uint8Array)) throw new InvalidMessageError('a replica get is answered with [epoch, seq, bytes] or null')
  return [int(answer, 0, 'epoch'), int(answer, 1, 'seq'), answer[2]]
}
