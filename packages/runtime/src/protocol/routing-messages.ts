/**
 * Advice between routers: a hint that the sender's ring is behind, and the notes that
 * keep an owner's spill pointers true.
 */
import { InvalidMessageError } from '@simplepool/core'
import { fieldsOf, str } from './fields.js'
import { Op } from './ops.js'

/** `[Op.Hint, pool, fingerprint, owner]`: "I forwarded your message to `owner`; my ring of `pool` is `fingerprint`". */
export interface HintMessage {
  pool: string
  /** The forwarder's ring fingerprint of the pool ('' when it has none). */
  fingerprint: string
  owner: string
}

export function encodeHint (m: HintMessage): unknown[] {
  return [Op.Hint, m.pool, m.fingerprint, m.owner]
}

export function decodeHint (payload: unknown): HintMessage {
  const p = fieldsOf(payload)
  if (typeof p[2] !== 'string') throw new InvalidMessageError('a hint\'s fingerprint must be a string')
  return { pool: str(p, 1, 'pool'), fingerprint: p[2], owner: str(p, 3, 'owner') }
}

/** `[Op.SpillNote, pool, id, live (1|0)]`: "the worker you spilled to me is live here (1) / not (any more) (0)". */
export interface SpillNoteMessage {
  pool: string
  id: string
  live: boolean
}

export function encodeSpillNote (m: SpillNoteMessage): unknown[] {
  return [Op.SpillNote, m.pool, m.id, m.live ? 1 : 0]
}

export function decodeSpillNote (payload: unknown): SpillNoteMessage {
  const p = fieldsOf(payload)
  return { pool: str(p, 1, 'pool'), id: str(p, 2, 'id'), live: p[3] === 1 }
}
