import { seededRandom } from '@simplepool/core'
import type { Logger, Random } from '@simplepool/core'
import type { Pool, RuntimeInit } from '@simplepool/runtime'
import { SimClock } from './sim-clock.js'
import { SimNetwork } from './sim-network.js'
import type { LinkProfile } from './sim-network.js'
import { SimNode } from './sim-node.js'

/** What a simulated cluster runs. */
export interface SimClusterInit {
  seed: number
  pools: ReadonlyArray<Pool<any, any, any>>
  /** Runtime tuning for every node. */
  runtime?: Omit<RuntimeInit, 'pools' | 'targets'>
  link?: LinkProfile
  logger?: Logger
}

const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/**
 * A cluster of simulated nodes on one virtual clock and one network, every choice drawn
 * from one seeded random source: the same seed and the same calls give the same run.
 */
export class SimCluster {
  readonly clock = new SimClock()
  readonly random: Random
  readonly network: SimNetwork
  readonly nodes = new Map<string, SimNode>()
  private readonly init: SimClusterInit
  private incarnation = 0

  constructor (init: SimClusterInit) {
    this.init = init
    this.random = seededRandom(init.seed)
    this.network = new SimNetwork(this.clock, this.random, init.link)
  }

  /** Starts a node; it joins through the records the others send it. */
  add (peerId: string, targets?: Record<string, number>): SimNode {
    const { clock, kill } = this.clock.forNode()
    const node = new SimNode({
      peerId,
      pools: this.init.pools,
      targets,
      clock,
      kill,
      network: this.network,
      random: this.random,
      logger: this.init.logger ?? silent,
      runtime: this.init.runtime,
      incarnation: ++this.incarnation
    })
    this.nodes.set(peerId, node)
    node.start()
    return node
  }

  /** The nodes still running. */
  running (): SimNode[] {
    return [...this.nodes.values()].filter(n => this.network.peers().includes(n.peerId))
  }

  /** Lets virtual time pass: `ms` more of it. */
  async advance (ms: number): Promise<void> {
    await this.clock.run(this.clock.monotonic() + ms)
  }

  /** Runs virtual time until `p` settles (at most `maxMs`), and returns its outcome. */
  async until<T> (p: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false
    const watched = p.finally(() => { done = true })
    // its outcome is read below, once time has run: not an unhandled rejection meanwhile
    watched.catch(() => {})
    await this.clock.run(this.clock.monotonic() + maxMs, () => done)
    return await watched
  }
}
