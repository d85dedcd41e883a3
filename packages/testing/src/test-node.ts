import { Placement } from '@simplepool/ring'
import { Mesh } from '@simplepool/mesh'
import { Transport } from '@simplepool/transport'
import type { Logger } from '@simplepool/core'
import type { MeshInit } from '@simplepool/mesh'
import type { TransportInit } from '@simplepool/transport'

/**
 * The node a harness child runs until the runtime's `createNode` exists: a mesh, a
 * transport wired to it, and the placement of the current membership.
 */
export class TestNode {
  readonly mesh: Mesh
  readonly transport: Transport
  private placement?: Placement

  constructor (meshInit: MeshInit, transportInit: TransportInit, logger: Logger) {
    // joining until the transport takes calls: an `up` node must answer whoever routes to it
    this.mesh = new Mesh({ ...meshInit, announce: false, logger })
    const mesh = this.mesh
    this.transport = new Transport({ ...mesh.streams(), logger }, transportInit)
    // pending calls to a peer the membership gave up on fail at once, not at their deadline
    mesh.addEventListener('member:down', (evt) => { this.transport.peerDown(evt.detail.peerId) })
    mesh.addEventListener('member:leave', (evt) => { this.transport.peerDown(evt.detail.peerId, `peer ${evt.detail.peerId} left`) })
  }

  /** Starts the mesh, then the transport, then announces `up`. */
  async start (): Promise<void> {
    await this.mesh.start()
    await this.transport.start()
    this.mesh.setStatus('up')
  }

  /** Stops taking calls (pending ones fail), then leaves the cluster. */
  async stop (): Promise<void> {
    await this.transport.stop()
    await this.mesh.stop()
  }

  /** The placement of the current snapshot, rebuilt only when the snapshot version moved. */
  currentPlacement (): Placement {
    const snap = this.mesh.snapshot()
    if (this.placement?.version !== snap.version) this.placement = Placement.fromSnapshot(snap, this.placement)
    return this.placement
  }
}
