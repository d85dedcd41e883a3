/**
 * The messages of the handoff: workers handed over with their state, and claims (a new
 * owner asking for a worker that another node may still hold).
 */
import { InvalidMessageError, MAX_HANDOFF_WORKERS } from '@simplepool/core'
import type { WireError } from '@simplepool/core'
import { fieldsOf, int, str } from './fields.js'
import { Op } from './ops.js'

/** One worker handed over: its id, its epoch on the sender, and its portable state (`snapshot` applied). */
export interface HandedWorker {
  id: string
  epoch: number
  snapshot: unknown
}

/** `[Op.HandoffMany, pool, [id, epoch, snapshot, id, epoch, snapshot, ...], again?]` */
export interface HandoffMessage {
  pool: string
  /** In order; a worker whose fields are malformed is its own `InvalidMessageError`, refused alone. */
  workers: Array<HandedWorker | InvalidMessageError>
  /**
   * The same message sent again (the first went unanswered): the receiver takes a worker
   * only if it remembers having taken it from this message (then it answers so), never
   * anew; see `HandoffReceiver.take`.
   */
  again?: boolean
}

/**
 * Per worker, in order: its new epoch on the receiver, or the error that refused it (a
 * `HandoffError` with `data.epoch` when a newer copy lives there, `data.retry` when an
 * older one is busy).
 */
export type HandoffAnswer = Array<number | WireError>

export function encodeHandoff (pool: string, workers: readonly HandedWorker[], again = false): unknown[] {
  const flat: unknown[] = []
  for (const w of workers) flat.push(w.id, w.epoch, w.snapshot)
  return again ? [Op.HandoffMany, pool, flat, true] : [Op.HandoffMany, pool, flat]
}

export function decodeHandoff (payload: unknown): HandoffMessage {
  const p = fieldsOf(payload)
  const pool = str(p, 1, 'pool')
  const items = p[2]
  if (!Array.isArray(items) || items.length % 3 !== 0 || items.length > 3 * MAX_HANDOFF_WORKERS) {
    throw new InvalidMessageError(`a handoff carries [id, epoch, snapshot] triples, at most ${MAX_HANDOFF_WORKERS}`)
  }
  const workers: HandoffMessage['workers'] = []
  for (let i = 0; i < items.length; i += 3) {
    try {
      workers.push({ id: str(items, i, 'id'), epoch: int(items, i + 1, 'epoch'), snapshot: items[i + 2] })
    } catch (err) {
      workers.push(err as InvalidMessageError)
    }
  }
  const again = p[3]
  if (again !== undefined && typeof again !== 'boolean') throw new InvalidMessageError('a handoff\'s `again` is a boolean')
  return again === true ? { pool, workers, again } : { pool, workers }
}

/**
 * `[Op.Claim, pool, id, claimer?, hops?]`: `claimer` is set when a node passes a claim on
 * to a node that may hold the worker (one its worker spilled to, was handed to, or that
 * kept it); `hops` counts the nodes that passed it on, 1 when absent.
 */
export interface ClaimMessage {
  pool: string
  id: string
  claimer?: string
  hops?: number
}

/** 'moved': handed over to the claimer; 'mine': held here for now (ask again); 'none': not here. */
export type ClaimAnswer = 'moved' | 'mine' | 'none'

export function encodeClaim (m: ClaimMessage): unknown[] {
  if (m.claimer === undefined) return [Op.Claim, m.pool, m.id]
  return m.hops === undefined || m.hops <= 1 ? [Op.Claim, m.pool, m.id, m.claimer] : [Op.Claim, m.pool, m.id, m.claimer, m.hops]
}

export function decodeClaim (payload: unknown): ClaimMessage {
  const p = fieldsOf(payload)
  const m: ClaimMessage = { pool: str(p, 1, 'pool'), id: str(p, 2, 'id') }
  if (p[3] !== undefined) m.claimer = str(p, 3, 'claimer')
  if (p[4] !== undefined && m.claimer !== undefined) m.hops = int(p, 4, 'hops')
  return m
}
