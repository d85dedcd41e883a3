/**
 * The composition root: a SimplePool node is one libp2p host (the mesh: membership and
 * streams), one transport on it, and a {@link ClusterNode} (the runtime with this node's
 * pools, and the node's own parts) on those two.
 */
import { Mesh, WitnessMesh, isPeerId } from '@simplepool/mesh'
import { validateAccessRules } from '@simplepool/runtime'
import { Transport } from '@simplepool/transport'
import { ClusterNode } from './cluster-node.js'
import type { NodeInit } from './cluster-node.js'

/**
 * A SimplePool node: one libp2p host (membership and direct streams) and one runtime
 * with this node's pools. Make one with {@link createNode}. Its membership is gossip
 * (`Mesh`) unless `membership: 'witness'` (`WitnessMesh`).
 */
export class SimplePoolNode extends ClusterNode<Mesh | WitnessMesh, Transport> {
  constructor (init: NodeInit) {
    // peer ids are checked for their form here, where libp2p is: the runtime checks the rest
    if (init?.access !== undefined) validateAccessRules(init.access, isPeerId)
    super(init, (hooks) => {
      const { pools, targets, transport, runtime, processMetrics, admin, random, joinTimeoutMs, access, ...meshInit } = init
      // `announce: false`: joining until the transport takes calls (the node announces `up` once it does)
      const meshOf = { ...meshInit, counts: hooks.counts, epochs: hooks.epochs, announce: false, logger: hooks.logger, random }
      const mesh = init.membership === 'witness' ? new WitnessMesh(meshOf) : new Mesh(meshOf)
      return { mesh, transport: new Transport({ ...mesh.streams(), clock: init.clock, logger: hooks.logger }, transport) }
    })
  }
}

/**
 * Starts a node and resolves once it has joined (its bootstrap nodes, if any, dialed) and
 * announced `up`. `createNode({ pools })` alone is a one-node cluster on loopback.
 *
 * @example
 * ```ts
 * const node = await createNode({ pools: [rooms], bootstrap: [seed], targets: { 'chat-room': 100_000 } })
 * await node.ref('chat-room', 'room-42').call({ type: 'join', user: 'ada' })
 * ```
 */
export async function createNode (init: NodeInit): Promise<SimplePoolNode> {
  const node = new SimplePoolNode(init)
  // a start that fails stops what it started (ClusterNode.start)
  await node.start()
  return node
}
