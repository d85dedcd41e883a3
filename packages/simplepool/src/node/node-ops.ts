/**
 * The receiving side of the node protocol: a message decoded (every field checked), then
 * answered from this node's parts. Calls a node makes of itself come through here too,
 * so an operation is checked and answered the same way wherever it was asked from.
 */
import { InvalidMessageError, NodeUnavailableError, UnknownPoolError } from '@simplepool/core'
import type { Access, NodeHealth, NodeOperation, WorkerLocation } from '@simplepool/runtime'
import type { RingsView, WatchFigures } from '../admin/admin-node.js'
import type { WorkerMove } from '../admin/move-log.js'
import type { DrainedPools } from './drained-pools.js'
import {
  NodeOp, decodeDrain, decodeHealth, decodeHeld, decodeHolders, decodeInspect, decodeMarkedDown, decodePlan, decodeRebalance, decodeRings, decodeSetTargets,
  decodeUndrain, decodeWatch, nodeOpOf
} from './node-protocol.js'

/** What answering the node's operations takes from the node. */
export interface NodeOpsComponents {
  /** This node's peer id, for the errors that name it. */
  self: () => string
  /** The pools this node runs, in their order. */
  poolNames: () => string[]
  /** Whether this node runs `pool`. */
  runs: (pool: string) => boolean
  /** Sets this node's own targets, all or none. */
  applyTargets: (targets: Record<string, number>) => void
  /** True once this node's stop began: its targets stay at 0 whoever asks. */
  stopping: () => boolean
  /** This node's side of a drain. */
  drained: Pick<DrainedPools, 'drain' | 'undrain' | 'held'>
  /** Whether this node marked `from` down within the last `withinMs` (see marked-down.ts). */
  markedDown: (from: string, withinMs: number) => boolean
  /** This node looks again, now, for workers whose owner moved (a rebalance asks every node this). */
  rebalance: () => void
  health: () => NodeHealth
  rings: () => RingsView
  /** The members this node sees `up` or `draining` and not down: those that may hold workers. */
  holders: () => string[]
  watchFigures: (afterEventId?: string) => WatchFigures
  /** Worker `id` as it lives here, or null. */
  whereHere: (pool: string, id: string) => WorkerLocation | null
  /** The moves of worker `id` onto this node that it remembers. */
  movesOf: (pool: string, id: string) => WorkerMove[]
  /** Per destination, this node's workers of `pool` a rebalance would move now. */
  movePlan: (pool: string) => Record<string, number>
  /** Who may run which operation here. */
  access: Pick<Access, 'mayOperate' | 'refuse'>
  /** Records an operator's write another member asked for, as it ended (`error` undefined: done). */
  audit?: (from: string, action: NodeOperation, target: Record<string, unknown>, error?: unknown) => void
}

/**
 * The right each operation needs; those without one are open to every member: a joining
 * node asks for the rings and the holders, a node back from a stall asks whether it was
 * marked down, and the rings are what every member's gossip shows anyway.
 */
const NEEDS: Partial<Record<number, NodeOperation>> = {
  [NodeOp.SetTargets]: 'targets',
  [NodeOp.Drain]: 'drain',
  [NodeOp.Held]: 'drain',
  [NodeOp.Undrain]: 'undrain',
  [NodeOp.Rebalance]: 'rebalance',
  [NodeOp.Health]: 'read',
  [NodeOp.Watch]: 'read',
  [NodeOp.Inspect]: 'read',
  [NodeOp.Plan]: 'read'
}

/** The operations that change something: another member's asking for one (with the right to) is recorded in the audit trail. */
const WRITES = new Set<number>([NodeOp.SetTargets, NodeOp.Drain, NodeOp.Undrain, NodeOp.Rebalance])

/** Answers node operation `payload` sent by `from` (this node's own peer id for its own calls); throws what the caller gets. */
export function handleNodeOp (payload: unknown, from: string, c: NodeOpsComponents): unknown {
  const op = nodeOpOf(payload)
  const needs = NEEDS[op]
  // refused before anything of it is read: counted and announced by the access rules, never
  // one audit record each (a member without the right could fill the log with them)
  if (needs !== undefined && !c.access.mayOperate(from, needs)) throw c.access.refuse(from, needs, null)
  if (c.audit === undefined || from === c.self() || !WRITES.has(op)) return answer(payload, op, from, c)
  const target = { node: c.self(), ...writeTarget(payload, op) }
  try {
    const out = answer(payload, op, from, c)
    c.audit(from, NEEDS[op] as NodeOperation, target)
    return out
  } catch (err) {
    c.audit(from, NEEDS[op] as NodeOperation, target, err)
    throw err
  }
}

/** What a write names, as its decoder reads it; nothing of a message that does not decode (the error says what was wrong). */
function writeTarget (payload: unknown, op: number): Record<string, unknown> {
  try {
    switch (op) {
      case NodeOp.SetTargets: return { ...decodeSetTargets(payload) }
      case NodeOp.Drain: return { ...decodeDrain(payload) }
      case NodeOp.Undrain: return { ...decodeUndrain(payload) }
      default: return { ...decodeRebalance(payload) }
    }
  } catch {
    return {}
  }
}

/** Answers an operation `from` may run. */
function answer (payload: unknown, op: number, from: string, c: NodeOpsComponents): unknown {
  switch (op) {
    case NodeOp.SetTargets: {
      const { targets } = decodeSetTargets(payload)
      refuseWhileStopping(c, 'set its targets')
      c.applyTargets(targets)
      return true
    }
    case NodeOp.Health:
      decodeHealth(payload)
      return c.health()
    case NodeOp.Rings:
      decodeRings(payload)
      return c.rings()
    case NodeOp.Holders:
      decodeHolders(payload)
      return c.holders()
    case NodeOp.Drain: {
      const { pools } = decodeDrain(payload)
      // all of them: the node's status goes to `draining` too
      c.drained.drain(poolsOf(pools, c), pools === null)
      return true
    }
    case NodeOp.Undrain: {
      const { pools } = decodeUndrain(payload)
      refuseWhileStopping(c, 'undrain it')
      c.drained.undrain(poolsOf(pools, c))
      return true
    }
    case NodeOp.MarkedDown:
      return c.markedDown(from, decodeMarkedDown(payload).withinMs)
    case NodeOp.Held:
      return c.drained.held(poolsOf(decodeHeld(payload).pools, c))
    case NodeOp.Rebalance:
      poolsOf([decodeRebalance(payload).pool], c)
      c.rebalance()
      return true
    case NodeOp.Watch:
      return c.watchFigures(decodeWatch(payload).afterEventId ?? undefined)
    case NodeOp.Inspect: {
      const { pool, id } = decodeInspect(payload)
      poolsOf([pool], c)
      return { where: c.whereHere(pool, id), moves: c.movesOf(pool, id) }
    }
    case NodeOp.Plan: {
      const { pool } = decodePlan(payload)
      poolsOf([pool], c)
      return c.movePlan(pool)
    }
    default: throw new InvalidMessageError(`unknown node operation ${String(op)}`)
  }
}

/** The pools an operation names (null: all of this node's), each one this node runs; `UnknownPoolError` otherwise. */
function poolsOf (pools: string[] | null, c: NodeOpsComponents): string[] {
  if (pools === null) return c.poolNames()
  for (const pool of pools) {
    if (!c.runs(pool)) throw new UnknownPoolError(`node ${c.self()} does not run pool ${pool}`, { pool })
  }
  return pools
}

/**
 * A stopping node has drained itself to hand its workers over: targets given back to it
 * (an undrain, a target change) would put it on the rings again, workers would move back,
 * and the stop would end with them unsaved. Refused instead.
 */
function refuseWhileStopping (c: NodeOpsComponents, what: string): void {
  if (c.stopping()) throw new NodeUnavailableError(`node ${c.self()} is stopping: it cannot ${what}`, { node: c.self() })
}
