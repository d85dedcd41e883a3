/**
 * The audit trail of operators' writes: every drain, undrain, target change, rebalance,
 * worker stop, call and cast asked of a node through its admin HTTP API (and so from the
 * command line and the dashboard), and every target change, drain, undrain and rebalance
 * another member asks of it (with the right to: one without is counted by the access
 * rules, not recorded), is an `admin:write` event on the node that took it, with who
 * asked, what, when and how it ended, and a line of the node's log. The events go to the
 * admin API's event log too (`simplepool events`). A write the admin API takes and passes
 * on as a node operation is recorded on both: by the token on the first, by the first's
 * peer id on the other. A worker's stop, call or cast is recorded where the admin API took
 * it: the runtime message that carries it on is the same an application's own
 * `stopWorker` or `ref.call` sends, and not an operator's. What an application asks of its
 * own node through the API (`node.drain(node.peerId)`) is not recorded either.
 */
import { ThrottledLog, shown } from '@simplepool/core'
import type { Clock, Logger, TypedEventTarget, WireError } from '@simplepool/core'

/** Who asked for a write. */
export type WriteBy =
  /** A client of the admin HTTP API that sent the node's token; `address` is where it connected from. */
  | { kind: 'token', address: string }
  /** A client of the admin HTTP API that sent no token, or another: refused, and only logged (once a second at most). */
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

/** Items of a list, or entries of a map, a record keeps; the rest are counted. */
const MAX_ITEMS = 16
/** Characters of a string a record keeps. */
const MAX_STRING = 256

/**
 * `value` within bounds: lists and maps cut to their first {@link MAX_ITEMS} (a `…` entry
 * saying how many more), strings to {@link MAX_STRING} characters, three levels deep: a
 * record is a few KB, whatever a write named (1,024 pools, a drain's list of them).
 */
function bounded (value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value
  if (value === null || typeof value !== 'object') return value
  if (depth >= 3) return shown(value)
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map(v => bounded(v, depth + 1))
    return value.length > MAX_ITEMS ? [...kept, `… ${value.length - MAX_ITEMS} more`] : kept
  }
  const entries = Object.entries(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries.slice(0, MAX_ITEMS)) out[bounded(k) as string] = bounded(v, depth + 1)
  if (entries.length > MAX_ITEMS) out['…'] = `${entries.length - MAX_ITEMS} more`
  return out
}

export class AuditTrail {
  private readonly noToken: ThrottledLog

  constructor (
    private readonly events: TypedEventTarget<AuditEvents>,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly self: () => string
  ) {
    this.noToken = new ThrottledLog(clock, { ...logger, error: (m) => { logger.warn(m) } })
  }

  /**
   * Records a write that ended: `error` undefined when it was done. What it named is
   * recorded within bounds (see {@link bounded}). A client refused for want of the token is
   * only logged, once a second at most: anyone who reaches the API could otherwise push
   * the real records out of the event log.
   */
  record (by: WriteBy, action: string, target: Record<string, unknown>, error?: unknown): void {
    if (by.kind === 'no-token') {
      this.noToken.report('admin API', `audit: ${action} refused to a client without the admin token, from ${by.address}`)
      return
    }
    const e = error as { name?: unknown, message?: unknown } | undefined
    const wire = error === undefined ? undefined : { name: typeof e?.name === 'string' ? e.name : 'Error', message: typeof e?.message === 'string' ? e.message.slice(0, MAX_STRING) : shown(error) }
    const outcome = wire === undefined ? 'done' : REFUSALS.has(wire.name) ? 'refused' : 'failed'
    const detail: AdminWriteDetail = { node: this.self(), by, action, target: bounded(target) as Record<string, unknown>, at: this.clock.now(), outcome, ...(wire !== undefined ? { error: wire } : {}) }
    const who = by.kind === 'peer' ? `peer ${by.peer}` : `the admin token from ${by.address}`
    this.logger.info(`audit: ${action} ${JSON.stringify(detail.target)} by ${who}: ${outcome}${wire !== undefined ? ` (${wire.name}: ${wire.message})` : ''}`)
    this.events.emit('admin:write', detail)
  }
}
