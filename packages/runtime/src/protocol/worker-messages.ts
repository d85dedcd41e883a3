/**
 * The messages that reach one worker (or its pool) on the node that runs it: casts,
 * calls, spawns, where, stop, count. Each has one encoder and one decoder; the layout of
 * the array on the wire is written here and nowhere else.
 *
 * `hops` counts the nodes a message was forwarded through (views of the ring disagreed).
 * `spilled` marks a message the worker's owner sent on to the next node of the ring
 * because it was at its hard limit; it is the last field, and present only when true.
 */
import { InvalidMessageError, shown } from '@simplepool/core'
import { MAX_TIMEOUT_MS } from '../options.js'
import { fieldsOf, int, str } from './fields.js'
import { MAX_ID_LENGTH, Op } from './ops.js'

/** The most ids one `SpawnMany` may carry. */
export const MAX_SPAWN_MANY_IDS = 100_000

/** `[Op.Cast, pool, id, msg, spawn (1|0), hops, spilled? (1)]` */
export interface CastMessage {
  pool: string
  id: string
  msg: unknown
  /** Activate the worker if it is not live. */
  spawn: boolean
  hops: number
  spilled: boolean
}

export function encodeCast (m: CastMessage): unknown[] {
  return m.spilled
    ? [Op.Cast, m.pool, m.id, m.msg, m.spawn ? 1 : 0, m.hops, 1]
    : [Op.Cast, m.pool, m.id, m.msg, m.spawn ? 1 : 0, m.hops]
}

export function decodeCast (payload: unknown): CastMessage {
  const p = fieldsOf(payload)
  return { pool: str(p, 1, 'pool'), id: str(p, 2, 'id'), msg: p[3], spawn: p[4] !== 0, hops: int(p, 5, 'hops'), spilled: p[6] === 1 }
}

/** `[Op.Call, pool, id, msg, spawn (1|0), hops, timeoutMs, spilled? (1)]` */
export interface CallMessage extends CastMessage {
  /** The caller's deadline, as time left when it was sent: the callee answers `TimeoutError` past it. */
  timeoutMs: number
}

export function encodeCall (m: CallMessage): unknown[] {
  return m.spilled
    ? [Op.Call, m.pool, m.id, m.msg, m.spawn ? 1 : 0, m.hops, m.timeoutMs, 1]
    : [Op.Call, m.pool, m.id, m.msg, m.spawn ? 1 : 0, m.hops, m.timeoutMs]
}

export function decodeCall (payload: unknown): CallMessage {
  const p = fieldsOf(payload)
  return {
    pool: str(p, 1, 'pool'),
    id: str(p, 2, 'id'),
    msg: p[3],
    spawn: p[4] !== 0,
    hops: int(p, 5, 'hops'),
    timeoutMs: Math.min(int(p, 6, 'timeoutMs'), MAX_TIMEOUT_MS),
    spilled: p[7] === 1
  }
}

/**
 * A message to one worker that carries nothing else: `Where` and `Stop`.
 * `[op, pool, id, hops, 0?, spilled? (1)]`: the fifth field is there only to hold the
 * sixth's place (nodes before the typed protocol sent `undefined` there when they passed
 * such a message on; nobody reads it).
 */
export interface WorkerMessage {
  op: typeof Op.Where | typeof Op.Stop
  pool: string
  id: string
  hops: number
  spilled: boolean
}

export function encodeWorker (m: WorkerMessage): unknown[] {
  return m.spilled ? [m.op, m.pool, m.id, m.hops, 0, 1] : [m.op, m.pool, m.id, m.hops]
}

export function decodeWorker (payload: unknown): WorkerMessage {
  const p = fieldsOf(payload)
  if (p[0] !== Op.Where && p[0] !== Op.Stop) throw new InvalidMessageError(`operation ${shown(p[0])} is not Where or Stop`)
  return { op: p[0], pool: str(p, 1, 'pool'), id: str(p, 2, 'id'), hops: int(p, 3, 'hops'), spilled: p[5] === 1 }
}

/** `[Op.Spawn, pool, id, hops, sync (1|0), spilled? (1)]`: anything but 1 for `sync` reads as async. */
export interface SpawnMessage {
  pool: string
  id: string
  hops: number
  /** Answer once `load`/`init` ran, not once the worker was accepted. */
  sync: boolean
  spilled: boolean
}

export function encodeSpawn (m: SpawnMessage): unknown[] {
  return m.spilled
    ? [Op.Spawn, m.pool, m.id, m.hops, m.sync ? 1 : 0, 1]
    : [Op.Spawn, m.pool, m.id, m.hops, m.sync ? 1 : 0]
}

export function decodeSpawn (payload: unknown): SpawnMessage {
  const p = fieldsOf(payload)
  return { pool: str(p, 1, 'pool'), id: str(p, 2, 'id'), hops: int(p, 3, 'hops'), sync: p[4] === 1, spilled: p[5] === 1 }
}

/** `[Op.SpawnMany, pool, ids, sync (1|0), hops, spilled? (1)]`: anything but 0 for `sync` reads as sync (as nodes have always read it). */
export interface SpawnManyMessage {
  pool: string
  ids: string[]
  sync: boolean
  hops: number
  spilled: boolean
}

export function encodeSpawnMany (m: SpawnManyMessage): unknown[] {
  return m.spilled
    ? [Op.SpawnMany, m.pool, m.ids, m.sync ? 1 : 0, m.hops, 1]
    : [Op.SpawnMany, m.pool, m.ids, m.sync ? 1 : 0, m.hops]
}

export function decodeSpawnMany (payload: unknown): SpawnManyMessage {
  const p = fieldsOf(payload)
  const pool = str(p, 1, 'pool')
  const ids = p[2]
  if (!Array.isArray(ids) || ids.length > MAX_SPAWN_MANY_IDS) throw new InvalidMessageError(`ids must be an array of at most ${MAX_SPAWN_MANY_IDS} strings`)
  for (const id of ids) if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) throw new InvalidMessageError('every id must be a non-empty string')
  return { pool, ids: ids as string[], sync: p[3] !== 0, hops: int(p, 4, 'hops'), spilled: p[5] === 1 }
}

/**
 * `[Op.Barrier, pool, id, hops, timeoutMs, spilled? (1)]`: goes where a message to the
 * worker would go and is answered (true) when it reaches the head of the worker's mailbox,
 * or at once where the worker is not live and nothing waits for it. Never activates it.
 */
export interface BarrierMessage {
  pool: string
  id: string
  hops: number
  timeoutMs: number
  spilled: boolean
}

export function encodeBarrier (m: BarrierMessage): unknown[] {
  return m.spilled
    ? [Op.Barrier, m.pool, m.id, m.hops, m.timeoutMs, 1]
    : [Op.Barrier, m.pool, m.id, m.hops, m.timeoutMs]
}

export function decodeBarrier (payload: unknown): BarrierMessage {
  const p = fieldsOf(payload)
  return { pool: str(p, 1, 'pool'), id: str(p, 2, 'id'), hops: int(p, 3, 'hops'), timeoutMs: Math.min(int(p, 4, 'timeoutMs'), MAX_TIMEOUT_MS), spilled: p[5] === 1 }
}

/** `[Op.Count, pool]` */
export interface CountMessage {
  pool: string
}

export function encodeCount (m: CountMessage): unknown[] {
  return [Op.Count, m.pool]
}

export function decodeCount (payload: unknown): CountMessage {
  return { pool: str(fieldsOf(payload), 1, 'pool') }
}
