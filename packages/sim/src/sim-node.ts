import type { Logger, Random } from '@simplepool/core'
import type { AccessRules } from '@simplepool/runtime'
import type { Placement } from '@simplepool/ring'
import type { Pool, Runtime, RuntimeInit } from '@simplepool/runtime'
import { ClusterNode } from 'simplepool'
import type { StopOptions } from 'simplepool'
import type { NodeClock } from './sim-clock.js'
import { SimMesh } from './sim-mesh.js'
import { SimWitnessMesh } from './sim-witness-mesh.js'
import type { SimNetwork } from './sim-network.js'
import { SimTransport } from './sim-transport.js'

/** What a simulated node is made of and with. */
export interface SimNodeInit {
  peerId: string
  pools: ReadonlyArray<Pool<any, any, any>>
  targets?: Record<string, number>
  /** The node's own clock (see `SimClock.forNode`): its kill, its pauses. */
  time: NodeClock
  network: SimNetwork
  random: Random
  logger: Logger
  /** Runtime tuning, as `createNode`'s `runtime` option. */
  runtime?: Omit<RuntimeInit, 'pools' | 'targets'>
  /** Incarnation of this start: a restarted node has a larger one. */
  incarnation: number
  /** A node to join through: a joining node waits to hear the members that may hold workers, as `createNode` with `bootstrap` does. */
  bootstrap?: string
  /** The membership: gossip records (the mesh's default), or witnesses. @default 'gossip' */
  membership?: 'gossip' | 'witness'
  /** The node's access rules (`NodeInit.access`); none: open. */
  access?: AccessRules
}

/**
 * One simulated node: the real node ({@link ClusterNode}: the runtime, drains, stop,
 * node operations, health) on a {@link SimMesh} and a {@link SimTransport}. What the
 * libp2p host adds below them (streams, dials, encryption) is left out.
 */
export class SimNode {
  readonly peerId: string
  readonly node: ClusterNode<SimMesh | SimWitnessMesh, SimTransport>
  readonly time: NodeClock
  /** The start, once begun. */
  started?: Promise<void>
  private gone = false
  /** Killed (kill -9): what it held in memory died with it. */
  killed = false

  constructor (init: SimNodeInit) {
    this.peerId = init.peerId
    this.time = init.time
    this.node = new ClusterNode<SimMesh | SimWitnessMesh, SimTransport>({
      pools: init.pools,
      targets: init.targets,
      clock: init.time.clock,
      random: init.random,
      logger: init.logger,
      runtime: init.runtime,
      access: init.access,
      processMetrics: false,
      bootstrap: init.bootstrap !== undefined ? [`/sim/${init.bootstrap}`] : []
    }, (hooks) => {
      const transport = new SimTransport(init.peerId, init.network)
      if (init.membership === 'witness') {
        const mesh = new SimWitnessMesh({
          peerId: init.peerId,
          network: init.network,
          clock: init.time.clock,
          pausedUntil: init.time.pausedUntil,
          transport,
          bootstrap: init.bootstrap,
          seed: Math.floor(init.random.next() * 2 ** 31),
          logger: hooks.logger
        })
        return { mesh, transport }
      }
      const mesh = new SimMesh({
        peerId: init.peerId,
        network: init.network,
        clock: init.time.clock,
        pausedUntil: init.time.pausedUntil,
        transport,
        counts: hooks.counts,
        epochs: hooks.epochs,
        incarnation: init.incarnation,
        logger: hooks.logger
      })
      return { mesh, transport }
    })
  }

  get runtime (): Runtime {
    return this.node.runtime
  }

  get view (): SimMesh | SimWitnessMesh {
    return this.node.mesh
  }

  /** False once stopped or killed. */
  get running (): boolean {
    return !this.gone && this.node.mesh.isRunning
  }

  /** Starts as `createNode` does: resolves once the node announced `up` (a start that fails stops what it started). */
  async start (): Promise<void> {
    await this.node.start()
  }

  /** Leaves gracefully, as `node.stop()`: hands its workers over, then goes. */
  async stop (options?: StopOptions): Promise<void> {
    if (this.gone) return
    await this.node.stop(options)
    this.gone = true
  }

  /** kill -9: everything in memory is gone at once; nothing more runs or is sent. */
  kill (): void {
    if (this.gone) return
    this.gone = true
    this.killed = true
    this.time.kill()
    this.node.mesh.kill()
  }

  placement (): Placement {
    return this.node.placement()
  }
}
