/**
 * What other members send this node, handed to the part that answers it: the node's own
 * operations (from `FIRST_NODE_OP` up) to `handleNodeOp`, the rest to the runtime.
 */
import { FIRST_NODE_OP, opOf } from '@simplepool/runtime'
import type { Runtime } from '@simplepool/runtime'
import type { TransportHandlers } from '@simplepool/transport'
import { handleNodeOp } from './node-ops.js'
import type { NodeOpsComponents } from './node-ops.js'

export function memberCalls (runtime: Runtime, ops: NodeOpsComponents): TransportHandlers {
  return {
    onCall: (payload, from) => opOf(payload) >= FIRST_NODE_OP ? handleNodeOp(payload, from, ops) : runtime.handleCall(payload, from),
    onCast: (payload, from) => { runtime.handleCast(payload, from) }
  }
}
