/**
 * Named errors. Code branches on `err.name`, never on `instanceof`, because an error that
 * crossed the wire is rebuilt from `{ name, message, data }` on the other side. Each
 * class's static `code` is its name, to compare with: `err.name === TimeoutError.code`.
 */

/** The form an error takes on the wire. */
export interface WireError {
  name: string
  message: string
  data?: unknown
}

/** Base of every SimplePool error: a stable `name`, a message, optional plain `data`. */
export class SimplePoolError extends Error {
  data?: unknown
  constructor (message: string, data?: unknown) {
    super(message)
    this.name = 'SimplePoolError'
    if (data !== undefined) this.data = data
  }
}

/** A call or operation ran past its deadline. */
export class TimeoutError extends SimplePoolError {
  static readonly code = 'TimeoutError'
  constructor (message = 'The operation timed out', data?: unknown) { super(message, data); this.name = 'TimeoutError' }
}

/** The operation was cancelled through its `AbortSignal`. */
export class AbortError extends SimplePoolError {
  static readonly code = 'AbortError'
  constructor (message = 'The operation was aborted', data?: unknown) { super(message, data); this.name = 'AbortError' }
}

/** A message with `spawn: false` reached no live worker. */
export class WorkerNotAliveError extends SimplePoolError {
  static readonly code = 'WorkerNotAliveError'
  constructor (message = 'The worker is not alive', data?: unknown) { super(message, data); this.name = 'WorkerNotAliveError' }
}

/** A pool name that this node does not know. */
export class UnknownPoolError extends SimplePoolError {
  static readonly code = 'UnknownPoolError'
  constructor (message = 'Unknown pool', data?: unknown) { super(message, data); this.name = 'UnknownPoolError' }
}

/**
 * The peer is down, gone, or its connection closed with work pending. `data.reason` is
 * `'closed'` for the last: the stream closed with the call in flight, and whether the peer
 * took it is not known (see {@link mayHaveArrived}).
 */
export class NodeUnavailableError extends SimplePoolError {
  static readonly code = 'NodeUnavailableError'
  constructor (message = 'The node is unavailable', data?: unknown) { super(message, data); this.name = 'NodeUnavailableError' }
}

/**
 * True when a failed call may still have reached its peer and been acted on: it timed
 * out, or its stream closed while it was in flight (`NodeUnavailableError` with
 * `data.reason` `'closed'`). Code that reads a failure as "not taken there" (a claim's
 * "not here", a handoff that resumes its workers) must not read these so.
 */
export function mayHaveArrived (err: unknown): boolean {
  const e = err as { name?: string, data?: { reason?: unknown } } | undefined
  return e?.name === 'TimeoutError' || (e?.name === 'NodeUnavailableError' && e.data?.reason === 'closed')
}

/** A bounded queue is full: the send fails now rather than growing memory. */
export class OverloadedError extends SimplePoolError {
  static readonly code = 'OverloadedError'
  constructor (message = 'Overloaded', data?: unknown) { super(message, data); this.name = 'OverloadedError' }
}

/** A worker's move from one node to another failed. */
export class HandoffError extends SimplePoolError {
  static readonly code = 'HandoffError'
  constructor (message = 'Handoff failed', data?: unknown) { super(message, data); this.name = 'HandoffError' }
}

/** Bad input: from a user's call, or a malformed, oversized or unknown frame from the network. */
export class InvalidMessageError extends SimplePoolError {
  static readonly code = 'InvalidMessageError'
  constructor (message = 'Invalid message', data?: unknown) { super(message, data); this.name = 'InvalidMessageError' }
}

/**
 * Proven: the peers do not share a cluster key (the peer sent bytes this node cannot read
 * under its key setting, or, on dials in a row, answered the private network's nonce and
 * then failed what it sent under its key, at least once by refusing it rather than by
 * letting it wait). A peer that died, or was reset, mid-handshake, and one that stands
 * still after its nonce, are a `NodeUnavailableError`, never this.
 */
export class ClusterKeyError extends SimplePoolError {
  static readonly code = 'ClusterKeyError'
  constructor (message = 'Cluster key mismatch', data?: unknown) { super(message, data); this.name = 'ClusterKeyError' }
}

/** The peer has no handler for what was sent to it. */
export class NoHandlerError extends SimplePoolError {
  static readonly code = 'NoHandlerError'
  constructor (message = 'No handler', data?: unknown) { super(message, data); this.name = 'NoHandlerError' }
}

/** An option or argument has the wrong type or value. */
export class InvalidOptionError extends SimplePoolError {
  static readonly code = 'InvalidOptionError'
  constructor (message = 'Invalid option', data?: unknown) { super(message, data); this.name = 'InvalidOptionError' }
}

/** The service is not started, or is stopping. */
export class NotStartedError extends SimplePoolError {
  static readonly code = 'NotStartedError'
  constructor (message = 'Not started', data?: unknown) { super(message, data); this.name = 'NotStartedError' }
}

/**
 * The node that holds the worker heard no majority of the cluster within its lease (a
 * network partition, most likely): it takes no turn, so that the majority may place its
 * workers elsewhere. Retry: the caller's own view moves the worker within seconds.
 */
export class NodeIsolatedError extends SimplePoolError {
  static readonly code = 'NodeIsolatedError'
  constructor (message = 'The node heard no majority of the cluster', data?: unknown) { super(message, data); this.name = 'NodeIsolatedError' }
}

/**
 * A node given bootstrap addresses heard from no member of the cluster within
 * `joinTimeoutMs`: it did not join, and served nothing meanwhile. `data.failures` names
 * what each dial of a bootstrap address met (`ClusterKeyError`, `TimeoutError`...), when
 * one failed. A node that could join no cluster never runs as one of its own.
 */
export class JoinTimeoutError extends SimplePoolError {
  static readonly code = 'JoinTimeoutError'
  constructor (message = 'The node heard from no member of the cluster', data?: unknown) { super(message, data); this.name = 'JoinTimeoutError' }
}

/**
 * A store refused a write (or the fence a load raises) for worker `data.pool`/`data.id`:
 * a newer activation's epoch (`data.stored`) holds its row, so this activation's copy
 * (`data.epoch`) is stale. The activation is dropped unsaved, and the calls that waited
 * for it get this error; retry: the newer copy serves them.
 */
export class StaleWriteError extends SimplePoolError {
  static readonly code = 'StaleWriteError'
  constructor (message = 'A newer activation of the worker wrote its state', data?: unknown) { super(message, data); this.name = 'StaleWriteError' }
}

/**
 * The receiving node's access rules do not let the sender (`data.peer`, as the Noise
 * handshake proved it) do this (`data.op`) to pool `data.pool` (or the node): nothing of
 * it reached a worker. Not retried: ask the operator for the right.
 */
export class ForbiddenError extends SimplePoolError {
  static readonly code = 'ForbiddenError'
  constructor (message = 'Forbidden', data?: unknown) { super(message, data); this.name = 'ForbiddenError' }
}

const KNOWN: Record<string, new (message?: string, data?: unknown) => SimplePoolError> = {
  TimeoutError,
  AbortError,
  WorkerNotAliveError,
  UnknownPoolError,
  NodeUnavailableError,
  NodeIsolatedError,
  OverloadedError,
  HandoffError,
  InvalidMessageError,
  ClusterKeyError,
  NoHandlerError,
  InvalidOptionError,
  NotStartedError,
  JoinTimeoutError,
  StaleWriteError,
  ForbiddenError
}

/** True when a store refused the write as stale (by name: an adapter or a handler may throw its own `StaleWriteError`). */
export function isStaleWrite (err: Error): boolean {
  return err.name === 'StaleWriteError'
}

/** True when `name` is one of SimplePool's own errors (not a handler's). */
export function isSimplePoolError (name: string): boolean {
  return Object.hasOwn(KNOWN, name)
}

const MAX_WIRE_MESSAGE = 4096

/** Turns any thrown value into its wire form; never throws. */
export function toWireError (err: unknown): WireError {
  if (err instanceof Error) {
    const out: WireError = { name: String(err.name ?? 'Error'), message: String(err.message ?? '').slice(0, MAX_WIRE_MESSAGE) }
    const data = (err as { data?: unknown }).data
    if (data !== undefined) out.data = data
    return out
  }
  return { name: 'Error', message: String(err).slice(0, MAX_WIRE_MESSAGE) }
}

/**
 * Rebuilds a named error from its wire form. Known names come back as their class; any
 * other name (a handler's own error) comes back as an `Error` with that same `name`.
 */
export function fromWireError (wire: unknown): Error {
  if (wire == null || typeof wire !== 'object') {
    return new InvalidMessageError('Malformed error on the wire')
  }
  const w = wire as Partial<WireError>
  const name = typeof w.name === 'string' && w.name.length > 0 ? w.name : 'Error'
  const message = typeof w.message === 'string' ? w.message : ''
  // own names only: an error named `constructor` or `__proto__` from the network reads Object's
  const Known = Object.hasOwn(KNOWN, name) ? KNOWN[name] : undefined
  if (Known !== undefined) return new Known(message, w.data)
  const err = new Error(message) as Error & { data?: unknown }
  err.name = name
  if (w.data !== undefined) err.data = w.data
  return err
}
