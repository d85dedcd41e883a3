/**
 * Checked reads of the fields of a message from another node. Every field is checked on
 * arrival: a malformed message is answered with `InvalidMessageError` and touches no
 * worker.
 */
import { InvalidMessageError, shown } from '@simplepool/core'
import { MAX_ID_LENGTH } from './ops.js'

/** The operation of a message: throws `InvalidMessageError` unless it is an array starting with a number. */
export function opOf (payload: unknown): number {
  if (!Array.isArray(payload) || typeof payload[0] !== 'number') throw new InvalidMessageError('a runtime message must be an array starting with its operation')
  return payload[0]
}

/** A pool name or worker id: a string of 1 to `MAX_ID_LENGTH` characters. */
export function str (payload: readonly unknown[], i: number, what: string): string {
  const v = payload[i]
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) throw new InvalidMessageError(`${what} must be a string of 1 to ${MAX_ID_LENGTH} characters, got ${shown(v)}`)
  return v
}

/** A non-negative safe integer. */
export function int (payload: readonly unknown[], i: number, what: string): number {
  const v = payload[i]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidMessageError(`${what} must be a non-negative safe integer, got ${shown(v)}`)
  return v
}

/** The array of a message, checked to be one. */
export function fieldsOf (payload: unknown): readonly unknown[] {
  if (!Array.isArray(payload)) throw new InvalidMessageError('a runtime message must be an array starting with its operation')
  return payload
}
