import type { Clock } from '@simplepool/core'
import { BARRIER, SPAWNED, STOP, replyIn } from '../activation/activation.js'
import type { Slot } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import { answer, refuse } from '../activation/replies.js'
import { Op } from '../protocol/ops.js'
import { encodeBarrier, encodeCall, encodeCast, encodeSpawn, encodeWorker } from '../protocol/worker-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'

/**
 * A message for `pool`/`id` that waited here went on to `to`: a cast (`answered`
 * undefined) or a call, answered by `answered`. The node's send order keeps the route:
 * what it sends on to the worker next follows it while it may be on its way (see
 * `SendOrder.onward`; seed 4186: a claim's waiting messages sent on to a node that claimed
 * in turn, and a barrier sent on later by the node they left took the short way past them).
 */
export type SentOn = (pool: string, id: string, to: string, answered: Promise<unknown> | undefined) => void

/**
 * A message that waited here for a worker goes on to the worker's new node `to`, as sent
 * on by this node (hops 1): one that claims from this node queues it ahead of what came
 * straight to it. A call's answer there answers its caller here. `epoch`: the worker's
 * there, when known.
 */
export function followOn (transport: RuntimeTransport, clock: Clock, local: LocalPool, id: string, to: string, epoch: number | undefined, slot: Slot, msg: unknown, sentOn?: SentOn): void {
  const pool = local.name
  if (slot === null) {
    try {
      transport.cast(to, encodeCast({ pool, id, msg, spawn: true, hops: 1, spilled: false }))
      sentOn?.(pool, id, to, undefined)
    } catch {
      local.stats.counters.droppedCasts++
    }
    return
  }
  const reply = replyIn(slot, msg)
  if (reply === null) return
  const settle = (p: Promise<unknown>): void => {
    sentOn?.(pool, id, to, p)
    p.then((v) => { answer(reply, v) }, (err) => { refuse(reply, err as Error) })
  }
  const timeoutMs = Math.max(1, reply.deadline - clock.monotonic())
  if (slot === SPAWNED) {
    // no epoch known there yet (a redirect): asked of that node
    if (epoch === undefined) settle(transport.call(to, encodeSpawn({ pool, id, hops: 0, sync: true, spilled: false }), { timeoutMs }))
    else answer(reply, { node: to, epoch })
  } else if (slot === BARRIER) {
    settle(transport.call(to, encodeBarrier({ pool, id, hops: 1, timeoutMs: Math.ceil(timeoutMs), spilled: false }), { timeoutMs }))
  } else if (slot === STOP) {
    settle(transport.call(to, encodeWorker({ op: Op.Stop, pool, id, hops: 0, spilled: false }), { timeoutMs }))
  } else {
    settle(transport.call(to, encodeCall({ pool, id, msg, spawn: true, hops: 1, timeoutMs: Math.ceil(timeoutMs), spilled: false }), { timeoutMs }))
  }
}
