/**
 * The audit trail of operators' writes: every drain, undrain, target change, rebalance,
 * worker stop, call and cast asked of a node, through its admin HTTP API (and so from
 * the command line and the dashboard) or as a node operation from another member, is an
 * `admin:write` event on the node that took it, with who asked, what, when and how it
 * ended, and a line of the node's log. The events go to the admin API's event log too
 * (`simplepool events`). A write the admin API takes and passes on to another node is
 * recorded on both: by the token on the first, by the first's peer id on the other. What
 * an application asks of its own node through the API (`node.drain(node.peerId)`) is the
 * application's, not an operator's, and is not recorded.
 */
import { shown } from '@simplepool/core'
import type { Clock, Logger, TypedEventTarget, WireError } from '@simplepool/core'

/** Who asked for a write. */
export type WriteBy =
  /** A client of the admin HTTP API that sent the node's token; `address` is where it connected from. */
  | { kind: 'token', address: string }
  /** A client of the admin HTTP API that sent no token, or another: refused. */
  | { kind: 'no-token', address: string }
  /** Another member, by the peer id its connection proved. */
  | { kind: 'peer', peer: string }

/** One write, as recorded: see the module. */
export interface AdminWriteDetail {
  /** The node that recorded it: the one the write was asked of. */
  node: string
  by: WriteBy
  /** What: `drain`, `undrain`, `targets`, `rebalance`, `stop`, `call`, `cast`. */
  action: string
  /** What it was done to: the node, pools, targets, pool and id it named. */
  target: Record<string, unknown>
  /** When it ended, in ms since the epoch (this node's clock). */
  at: number
  /** Done; refused (no right, no token, a bad request); or failed on the way. */
  outcome: 'done' | 'refused' | 'failed'
  /** The error a write that was not done ended with. */
  error?: WireError
}

/** Errors that mean a write was refused, not that it failed. */
const REFUSALS = new Set(['ForbiddenError', 'Unauthorized', 'Forbidden', 'InvalidRequest', 'InvalidMessageError', 'InvalidOptionError', 'UnknownPoolError', 'NotFound', 'MethodNotAllowed'])

/** The events an audit trail is raised on. */
export interface AuditEvents extends Record<string, unknown> {
  'admin:write': AdminWriteDetail
}

export class AuditTrail {
  constructor (
    private readonly events: TypedEventTarget<AuditEvents>,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly self: () => string
  ) {}

  /** Records a write that ended: `error` undefined when it was done. */
  record (by: WriteBy, action: string, target: Record<string, unknown>, error?: unknown): void {
    const e = error as { name?: unknown, message?: unknown } | undefined
    const wire = error === undefined ? undefined : { name: typeof e?.name === 'string' ? e.name : 'Error', message: typeof e?.message === 'string' ? e.message : shown(error) }
    const outcome = wire === undefined ? 'done' : REFUSALS.has(wire.name) ? 'refused' : 'failed'
    const detail: AdminWriteDetail = { node: this.self(), by, action, target, at: this.clock.now(), outcome, ...(wire !== undefined ? { error: wire } : {}) }
    const who = by.kind === 'peer' ? `peer ${by.peer}` : by.kind === 'token' ? `the admin token from ${by.address}` : `a client without the token from ${by.address}`
    this.logger.info(`audit: ${action} ${JSON.stringify(target)} by ${who}: ${outcome}${wire !== undefined ? ` (${wire.name}: ${wire.message})` : ''}`)
    this.events.emit('admin:write', detail)
  }
}
