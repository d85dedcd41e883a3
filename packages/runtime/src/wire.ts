/**
 * What runtimes say to each other, as transport payloads: arrays whose first element is
 * the operation. Every field is checked on arrival; a malformed payload is answered with
 * `InvalidMessageError` and touches no worker.
 */
import { InvalidMessageError } from '@simplepool/core'

/** Operations between runtimes. */
export const Op = {
  /** `[op, pool, id, msg, spawn, hops, spilled?]` (`spilled` 1: from the id's owner, at its hard limit, to the next node on the ring) */
  Cast: 1,
  /** `[op, pool, id, msg, spawn, hops, timeoutMs, spilled?]` → the handler's reply */
  Call: 2,
  /** `[op, pool, id, hops, sync, spilled?]` → `{ node, epoch }` */
  Spawn: 3,
  /** `[op, pool, ids, sync, hops, spilled?]` → ids activated */
  SpawnMany: 4,
  /** `[op, pool, id, hops, 0, spilled?]` → `{ node, epoch }` or null */
  Where: 5,
  /** `[op, pool, id, hops, 0, spilled?]` → true when a worker was stopped */
  Stop: 6,
  /** `[op, pool]` → workers of the pool on the receiving node */
  Count: 7,
  /** `[op, pool, fingerprint, owner]`: "I forwarded your message; my ring of that pool is this" */
  Hint: 8,
  // 9 was a handoff of one worker: every handoff now goes as HandoffMany
  /**
   * `[op, pool, id, claimer?]` → 'moved' | 'none' | 'mine': "the ring gave me (or `claimer`,
   * when an owner passes a claim on to where the worker spilled) this id: hand it over if you hold it"
   */
  Claim: 10,
  /**
   * `[op, pool, [id, epoch, snapshot, id, epoch, snapshot, ...]]`: take these workers, with
   * their state → per worker its new epoch here, or the error that refused it (a
   * `HandoffError` with `data.epoch` when a newer copy lives here, `data.retry` when an
   * older one is busy)
   */
  HandoffMany: 11,
  /** `[op, pool, id, live]`: "the worker you spilled to me is live here (1) / not (any more) (0)": the owner sets or drops its pointer */
  SpillNote: 12
} as const

/** Operations from 100 up belong to the node around the runtime (targets, health). */
export const FIRST_NODE_OP = 100

/** The largest id accepted, in UTF-16 code units. */
export const MAX_ID_LENGTH = 1024

/** Throws `InvalidMessageError` unless `payload` is an array starting with a known op. */
export function opOf (payload: unknown): number {
  if (!Array.isArray(payload) || typeof payload[0] !== 'number') throw new InvalidMessageError('a runtime message must be an array starting with its operation')
  return payload[0]
}

/** A string field of a payload, checked. */
export function str (payload: unknown[], i: number, what: string): string {
  const v = payload[i]
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) throw new InvalidMessageError(`${what} must be a string of 1 to ${MAX_ID_LENGTH} characters, got ${typeof v}`)
  return v
}

/** A non-negative integer field of a payload, checked. */
export function int (payload: unknown[], i: number, what: string): number {
  const v = payload[i]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidMessageError(`${what} must be a non-negative safe integer, got ${String(v)}`)
  return v
}
