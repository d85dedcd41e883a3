import { TimeoutError, seededRandom } from '@simplepool/core'
import type { AccessRules } from '@simplepool/runtime'
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
  /** The nodes' membership (see `SimNodeInit.membership`). @default 'gossip' */
  membership?: 'gossip' | 'witness'
  /** Every node's access rules (`NodeInit.access`); none: open. */
  access?: AccessRules
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

  /**
   * Makes a node and starts it; it joins through the records the others send it (the
   * first node running is its bootstrap). The start resolves once the node is `up`.
   */
  add (peerId: string, targets?: Record<string, number>): SimNode {
    const bootstrap = this.running()[0]?.peerId
    const node = new SimNode({
      peerId,
      pools: this.init.pools,
      targets,
      time: this.clock.forNode(),
      bootstrap,
      network: this.network,
      random: this.random,
      logger: this.init.logger ?? silent,
      runtime: this.init.runtime,
      membership: this.init.membership,
      access: this.init.access,
      incarnation: ++this.incarnation
    })
    this.nodes.set(peerId, node)
    node.started = node.start()
    // a start that fails is the caller's to read
    node.started.catch(() => {})
    return node
  }

  /** Runs virtual time until every node made so far has started (`up`), or rejects with the first start that failed. */
  async started (maxMs = 60_000): Promise<void> {
    await this.until(Promise.all([...this.nodes.values()].map(async n => await n.started)), maxMs)
  }

  /** The nodes still running. */
  running (): SimNode[] {
    return [...this.nodes.values()].filter(n => n.running)
  }

  /** Lets virtual time pass: `ms` more of it. */
  async advance (ms: number): Promise<void> {
    await this.clock.run(this.clock.monotonic() + ms)
  }

  /**
   * Runs virtual time until `p` settles (at most `maxMs`), and returns its outcome; rejects
   * with `TimeoutError` when it has not settled by then (nothing else would ever settle it).
   */
  async until<T> (p: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false
    const watched = p.finally(() => { done = true })
    // its outcome is read below, once time has run: not an unhandled rejection meanwhile
    watched.catch(() => {})
    await this.clock.run(this.clock.monotonic() + maxMs, () => done)
    if (!done) throw new TimeoutError(`not settled after ${maxMs} virtual ms`)
    return await watched
  }
}
