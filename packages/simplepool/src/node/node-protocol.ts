/**
 * The node protocol: what one node asks of another (or of itself), outside the runtime's
 * own operations. The node's transport handler takes every message whose operation is
 * `FIRST_NODE_OP` or more for itself and hands the rest to the runtime. On the wire each message is an array whose first element is its
 * operation; the rest of its layout is written here, in one `encodeX` and one `decodeX`
 * per operation, and nowhere else. A decoder checks every field of a message that
 * arrived and throws `InvalidMessageError` for one it cannot take.
 *
 * The arrays are the wire between nodes of different versions: their order and values
 * never change (test/node/node-protocol.spec.ts holds their bytes), and numbers are
 * never reused or renumbered.
 */
import { InvalidMessageError, shown } from '@simplepool/core'
import { MAX_ID_LENGTH } from '@simplepool/runtime'
import type { NodeHealth } from '@simplepool/runtime'
import type { RingsView, WatchFigures, WorkerHere } from '../admin/admin-node.js'

/** The node's operations, from the runtime's `FIRST_NODE_OP` (100) up. */
export const NodeOp = {
  /** Set the receiver's own targets: {@link SetTargetsMessage} → `true`. */
  SetTargets: 100,
  /** The receiver's health: {@link HealthMessage} → `NodeHealth`. */
  Health: 101,
  /** The receiver drains itself: {@link DrainMessage} → `true`. */
  Drain: 102,
  /** The receiver takes back the targets it had before draining: {@link UndrainMessage} → `true`. */
  Undrain: 103,
  /** Workers still on the receiver: {@link HeldMessage} → a count, or -1 when one of the pools is not drained (any more). */
  Held: 104,
  /** The receiver looks again for workers of a pool whose owner moved: {@link RebalanceMessage} → `true`. */
  Rebalance: 105,
  /** Whether the receiver marked the sender down lately: {@link MarkedDownMessage} → a boolean. */
  MarkedDown: 106,
  /** The receiver's rings: {@link RingsMessage} → {@link RingsView}. */
  Rings: 107,
  /** The receiver's figures for a watcher: {@link WatchMessage} → {@link WatchFigures}. */
  Watch: 108,
  /** One worker as it lives on the receiver: {@link InspectMessage} → {@link WorkerHere}. */
  Inspect: 109,
  /** What a rebalance would move from the receiver: {@link PlanMessage} → per destination, how many workers. */
  Plan: 110,
  /** The members the receiver sees `up` or `draining` and not down, who may hold workers: {@link HoldersMessage} → peer ids. */
  Holders: 111
} as const

/** One of {@link NodeOp}. */
export type NodeOpCode = typeof NodeOp[keyof typeof NodeOp]

/** What each operation answers. */
export interface NodeReplies {
  [NodeOp.SetTargets]: true
  [NodeOp.Health]: NodeHealth
  [NodeOp.Drain]: true
  [NodeOp.Undrain]: true
  [NodeOp.Held]: number
  [NodeOp.Rebalance]: true
  [NodeOp.MarkedDown]: boolean
  [NodeOp.Rings]: RingsView
  [NodeOp.Watch]: WatchFigures
  [NodeOp.Inspect]: WorkerHere
  [NodeOp.Plan]: Record<string, number>
  [NodeOp.Holders]: string[]
}

/** A message encoded: its operation first, which types its answer. */
export type NodePayload<Op extends NodeOpCode = NodeOpCode> = [Op, ...unknown[]]

/** The operation of a node message; `InvalidMessageError` unless it is an array starting with a number. */
export function nodeOpOf (payload: unknown): number {
  if (!Array.isArray(payload) || typeof payload[0] !== 'number') throw new InvalidMessageError('a node message must be an array starting with its operation')
  return payload[0]
}

/** `[NodeOp.SetTargets, targets]` */
export interface SetTargetsMessage {
  /** Pool name to target (a number >= 0); every pool must be one of the receiver's, or none changes. */
  targets: Record<string, number>
}

export function encodeSetTargets (m: SetTargetsMessage): NodePayload<typeof NodeOp.SetTargets> {
  return [NodeOp.SetTargets, m.targets]
}

export function decodeSetTargets (payload: unknown): SetTargetsMessage {
  const p = fieldsOf(payload, NodeOp.SetTargets)
  const targets = p[1]
  if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) throw new InvalidMessageError(`targets must be an object of pool name to number, got ${typeName(targets)}`)
  const entries = Object.entries(targets)
  if (entries.length > MAX_POOLS) throw new InvalidMessageError(`targets must name at most ${MAX_POOLS} pools`)
  for (const [pool, t] of entries) {
    if (pool.length === 0 || pool.length > MAX_ID_LENGTH) throw new InvalidMessageError(`targets name a pool of ${pool.length} characters: a pool name has 1 to ${MAX_ID_LENGTH}`)
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new InvalidMessageError(`the target of pool ${pool} must be a number >= 0, got ${shown(t)}`)
  }
  return { targets: targets as Record<string, number> }
}

/** `[NodeOp.Health]` */
export type HealthMessage = Record<string, never>

export function encodeHealth (_m: HealthMessage = {}): NodePayload<typeof NodeOp.Health> {
  return [NodeOp.Health]
}

export function decodeHealth (payload: unknown): HealthMessage {
  fieldsOf(payload, NodeOp.Health)
  return {}
}

/** `[NodeOp.Drain, pools | null]` */
export interface DrainMessage {
  /** The pools to drain; null: every pool of the receiver, and its status goes to `draining`. */
  pools: string[] | null
}

export function encodeDrain (m: DrainMessage): NodePayload<typeof NodeOp.Drain> {
  return [NodeOp.Drain, m.pools]
}

export function decodeDrain (payload: unknown): DrainMessage {
  return { pools: poolsField(fieldsOf(payload, NodeOp.Drain), 1) }
}

/** `[NodeOp.Undrain, pools | null]` */
export interface UndrainMessage {
  /** The pools to put back in service; null: every pool of the receiver. */
  pools: string[] | null
}

export function encodeUndrain (m: UndrainMessage): NodePayload<typeof NodeOp.Undrain> {
  return [NodeOp.Undrain, m.pools]
}

export function decodeUndrain (payload: unknown): UndrainMessage {
  return { pools: poolsField(fieldsOf(payload, NodeOp.Undrain), 1) }
}

/** `[NodeOp.Held, pools | null]` */
export interface HeldMessage {
  /** The pools whose workers are counted; null: every pool of the receiver. */
  pools: string[] | null
}

export function encodeHeld (m: HeldMessage): NodePayload<typeof NodeOp.Held> {
  return [NodeOp.Held, m.pools]
}

export function decodeHeld (payload: unknown): HeldMessage {
  return { pools: poolsField(fieldsOf(payload, NodeOp.Held), 1) }
}

/** `[NodeOp.Rebalance, pool]` */
export interface RebalanceMessage {
  pool: string
}

export function encodeRebalance (m: RebalanceMessage): NodePayload<typeof NodeOp.Rebalance> {
  return [NodeOp.Rebalance, m.pool]
}

export function decodeRebalance (payload: unknown): RebalanceMessage {
  return { pool: stringField(fieldsOf(payload, NodeOp.Rebalance), 1, 'pool') }
}

/** `[NodeOp.MarkedDown, withinMs]` */
export interface MarkedDownMessage {
  /** How far back the question goes, in ms: the sender's stall and a margin. */
  withinMs: number
}

export function encodeMarkedDown (m: MarkedDownMessage): NodePayload<typeof NodeOp.MarkedDown> {
  return [NodeOp.MarkedDown, m.withinMs]
}

export function decodeMarkedDown (payload: unknown): MarkedDownMessage {
  const within = fieldsOf(payload, NodeOp.MarkedDown)[1]
  if (typeof within !== 'number' || !Number.isFinite(within) || within < 0) throw new InvalidMessageError('withinMs must be a number >= 0')
  return { withinMs: within }
}

/** `[NodeOp.Rings]` */
export type RingsMessage = Record<string, never>

export function encodeRings (_m: RingsMessage = {}): NodePayload<typeof NodeOp.Rings> {
  return [NodeOp.Rings]
}

export function decodeRings (payload: unknown): RingsMessage {
  fieldsOf(payload, NodeOp.Rings)
  return {}
}

/** `[NodeOp.Holders]` */
export type HoldersMessage = Record<string, never>

export function encodeHolders (_m: HoldersMessage = {}): NodePayload<typeof NodeOp.Holders> {
  return [NodeOp.Holders]
}

export function decodeHolders (payload: unknown): HoldersMessage {
  fieldsOf(payload, NodeOp.Holders)
  return {}
}

/** Peer ids in a holders answer at most: a cluster's worth, and a bound on what one answer can make a joining node wait for. */
export const MAX_HOLDERS = 10_000

/** The answer of `NodeOp.Holders` as it came from the network: peer ids, or `InvalidMessageError`. */
export function decodeHoldersAnswer (answer: unknown): string[] {
  if (!Array.isArray(answer) || answer.length > MAX_HOLDERS || !answer.every(p => isName(p))) {
    throw new InvalidMessageError(`a holders answer must be an array of at most ${MAX_HOLDERS} peer ids`)
  }
  return answer
}

/** The longest event id a watcher may send back (the ids a node hands out are `<boot>.<seq>`, under 30). */
const MAX_EVENT_ID = 256

/** `[NodeOp.Watch, afterEventId | null]` */
export interface WatchMessage {
  /** The last event the watcher took from the receiver; null: none yet (the newest are sent). */
  afterEventId: string | null
}

export function encodeWatch (m: WatchMessage): NodePayload<typeof NodeOp.Watch> {
  return [NodeOp.Watch, m.afterEventId]
}

export function decodeWatch (payload: unknown): WatchMessage {
  const after = fieldsOf(payload, NodeOp.Watch)[1]
  if (after !== null && after !== undefined && (typeof after !== 'string' || after.length > MAX_EVENT_ID)) throw new InvalidMessageError(`afterEventId must be a string of at most ${MAX_EVENT_ID} characters, or null`)
  return { afterEventId: after ?? null }
}

/** `[NodeOp.Inspect, pool, id]` */
export interface InspectMessage {
  pool: string
  id: string
}

export function encodeInspect (m: InspectMessage): NodePayload<typeof NodeOp.Inspect> {
  return [NodeOp.Inspect, m.pool, m.id]
}

export function decodeInspect (payload: unknown): InspectMessage {
  const p = fieldsOf(payload, NodeOp.Inspect)
  return { pool: stringField(p, 1, 'pool'), id: stringField(p, 2, 'id') }
}

/** `[NodeOp.Plan, pool]` */
export interface PlanMessage {
  pool: string
}

export function encodePlan (m: PlanMessage): NodePayload<typeof NodeOp.Plan> {
  return [NodeOp.Plan, m.pool]
}

export function decodePlan (payload: unknown): PlanMessage {
  return { pool: stringField(fieldsOf(payload, NodeOp.Plan), 1, 'pool') }
}

/** The array of a message of operation `op`, checked to be one. */
function fieldsOf (payload: unknown, op: NodeOpCode): readonly unknown[] {
  if (nodeOpOf(payload) !== op) throw new InvalidMessageError(`expected a message of node operation ${op}, got operation ${shown((payload as unknown[])[0])}`)
  return payload as unknown[]
}

/** Pool names one message may name at most (a drain's, a target change's). */
const MAX_POOLS = 1_024

/** Whether `v` is a pool name or a worker id as the runtime takes them: 1 to `MAX_ID_LENGTH` characters. */
function isName (v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH
}

/**
 * A pool name or a worker id. Only its form is checked here: whether the receiver runs
 * such a pool, or holds such a worker, is the receiver's answer (`UnknownPoolError`, ...).
 */
function stringField (p: readonly unknown[], i: number, what: string): string {
  const v = p[i]
  if (!isName(v)) throw new InvalidMessageError(`${what} must be a string of 1 to ${MAX_ID_LENGTH} characters, got ${typeName(v)}`)
  return v
}

/** A list of pool names, or null (absent counts as null: every pool). */
function poolsField (p: readonly unknown[], i: number): string[] | null {
  const v = p[i]
  if (v === null || v === undefined) return null
  if (!Array.isArray(v) || v.length > MAX_POOLS) throw new InvalidMessageError(`pools must be an array of at most ${MAX_POOLS} pool names`)
  for (const pool of v) {
    if (!isName(pool)) throw new InvalidMessageError(`pools must be an array of pool names, got a ${typeName(pool)} in it`)
  }
  return v as string[]
}

function typeName (v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}
