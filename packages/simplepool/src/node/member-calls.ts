/**
 * What other members send this node, handed to the part that answers it: the node's own
 * operations (from `FIRST_NODE_OP` up) to `handleNodeOp`, the rest to the runtime. A
 * worker's stop is an operator's write: it goes to the audit trail with its outcome.
 */
import { FIRST_NODE_OP, Op, decodeWorker, opOf } from '@simplepool/runtime'
import type { Runtime } from '@simplepool/runtime'
import type { TransportHandlers } from '@simplepool/transport'
import type { AuditTrail, WriteBy } from '../admin/audit.js'
import { handleNodeOp } from './node-ops.js'
import type { NodeOpsComponents } from './node-ops.js'

export function memberCalls (runtime: Runtime, ops: NodeOpsComponents, audit: AuditTrail): TransportHandlers {
  return {
    onCall: (payload, from) => {
      const op = opOf(payload)
      if (op >= FIRST_NODE_OP) return handleNodeOp(payload, from, ops)
      return op === Op.Stop ? stopFrom(runtime, audit, payload, from) : runtime.handleCall(payload, from)
    },
    onCast: (payload, from) => { runtime.handleCast(payload, from) }
  }
}

/** A worker's stop from `from`, answered by the runtime and recorded as it ends. */
function stopFrom (runtime: Runtime, audit: AuditTrail, payload: unknown, from: string): unknown {
  let target: Record<string, unknown>
  try {
    const m = decodeWorker(payload)
    target = { pool: m.pool, id: m.id }
  } catch {
    // not a stop the runtime takes: it answers with what is wrong
    return runtime.handleCall(payload, from)
  }
  const by: WriteBy = { kind: 'peer', peer: from }
  let answer: unknown
  try {
    answer = runtime.handleCall(payload, from)
  } catch (err) {
    audit.record(by, 'stop', target, err)
    throw err
  }
  Promise.resolve(answer).then(() => { audit.record(by, 'stop', target) }, (err) => { audit.record(by, 'stop', target, err) })
  return answer
}
