import { multiaddr } from '@multiformats/multiaddr'
import {
  DEFAULT_ALLOW, DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_DOWN_AFTER_MS, DEFAULT_FORGET_AFTER_MS, DEFAULT_HEARTBEAT_MS, MAX_HEARTBEAT_MS, DEFAULT_LISTEN,
  DEFAULT_MAX_RECORDS_PER_SECOND, DEFAULT_RECONNECT_WINDOW_MS, DEFAULT_SUSPECT_AFTER_MS, InvalidOptionError, MEMBERSHIP_SWEEP_MS, isLoopbackHost
} from '@simplepool/core'
import { hostOf } from './own-address.js'
import type { Clock, EpochMark, Logger, Random } from '@simplepool/core'
import type { PrivateKey } from '@libp2p/interface'

/** Options of a mesh; every field is optional. */
export interface MeshInit {
  /** Multiaddrs to listen on. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /**
   * The multiaddrs other nodes dial this one at, when they differ from the listen
   * addresses: behind NAT, a port mapped by a container runtime, a DNS name. @default []
   * (the listen addresses; a wildcard one stands for every interface's address)
   */
  announceAddresses?: string[]
  /** Multiaddrs (with /p2p/<id>) of nodes already in the cluster. @default [] */
  bootstrap?: string[]
  /** Pre-shared key: only nodes holding it can connect (libp2p private network). */
  clusterKey?: string | Uint8Array
  /**
   * Listen on (or announce) an address other than loopback without a `clusterKey`: anyone who reaches
   * the port may then join the cluster, hand in workers and call them. Refused unless set,
   * for a network the operator trusts. @default false
   */
  insecure?: boolean
  /** A persistent identity; a new one is made when absent. */
  privateKey?: PrivateKey
  /** This node's target per pool (its weight on each pool's ring). @default {} */
  targets?: Record<string, number>
  /** Called on each heartbeat for this node's worker count per pool. */
  counts?: () => Record<string, number>
  /** The node's epoch mark: its records carry it, and the records it reads raise it. */
  epochs?: EpochMark
  /** The shortest interval between this node's records. @default 500 */
  heartbeatMs?: number
  /** Records a node should receive per second at most; big clusters stretch the heartbeat to keep to it. @default 20 */
  maxRecordsPerSecond?: number
  /** @default 1000 */
  suspectAfterMs?: number
  /** @default 2000 */
  downAfterMs?: number
  /** @default 500 */
  reconnectWindowMs?: number
  /** @default 3000 */
  dialTimeoutMs?: number
  /** @default 60000 */
  forgetAfterMs?: number
  /**
   * Announce `up` at the end of `start()`. With `false` the node stays `joining` (known,
   * but on no ring) until `setStatus('up')`: for an owner that starts more services first.
   * @default true
   */
  announce?: boolean
  /** Address ranges exempt from libp2p's inbound dial rate limit. @default loopback */
  allow?: string[]
  /** Where bootstrap failures and dropped records are reported. @default stderr */
  logger?: Logger
  /** Time for heartbeats and liveness deadlines. @default the system clock */
  clock?: Clock
  /** Draws the jitter of bootstrap retries. @default Math.random */
  random?: Random
  /**
   * How members learn of each other and find one down. `gossip` (the default): every node
   * sends its record to every other on a heartbeat, over a full mesh of connections; up to
   * a few tens of nodes. `witness`: each node keeps links to a few witnesses, the member
   * list is pulled at a join and pushed over the links, and a member is down once a
   * majority of its witnesses doubts it: its cost per node does not grow with the cluster
   * (docs/design/membership-v2.md). Every node of a cluster must use the same.
   * @default 'gossip'
   */
  membership?: 'gossip' | 'witness'
  /** With `membership: 'witness'`: how many witnesses each member names. @default 6 */
  witnesses?: number
}

export type MeshOptions = Required<Omit<MeshInit, 'clusterKey' | 'privateKey' | 'counts' | 'insecure' | 'random' | 'membership' | 'witnesses'>> & Pick<MeshInit, 'clusterKey' | 'privateKey' | 'counts' | 'insecure' | 'random' | 'membership' | 'witnesses'>

/** What a `MeshInit` leaves out takes. */
export const DEFAULTS = {
  listen: DEFAULT_LISTEN,
  announceAddresses: [] as string[],
  bootstrap: [] as string[],
  targets: {} as Record<string, number>,
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
  maxRecordsPerSecond: DEFAULT_MAX_RECORDS_PER_SECOND,
  suspectAfterMs: DEFAULT_SUSPECT_AFTER_MS,
  downAfterMs: DEFAULT_DOWN_AFTER_MS,
  reconnectWindowMs: DEFAULT_RECONNECT_WINDOW_MS,
  dialTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS,
  forgetAfterMs: DEFAULT_FORGET_AFTER_MS,
  allow: DEFAULT_ALLOW,
  announce: true
}

/** Checks a `MeshInit` and says what was expected and what arrived. */
export function validateMeshInit (init: MeshInit): void {
  const arrays = ['listen', 'announceAddresses', 'bootstrap', 'allow'] as const
  for (const k of arrays) {
    const v = init[k]
    if (v !== undefined && (!Array.isArray(v) || !v.every(s => typeof s === 'string'))) {
      throw new InvalidOptionError(`${k} must be an array of multiaddr strings, got ${JSON.stringify(v)} (${typeof v})`)
    }
    // parsed here, so a typo fails the start by name instead of failing every dial later
    for (const [i, a] of (v ?? []).entries()) {
      try {
        multiaddr(a)
      } catch (err) {
        throw new InvalidOptionError(`${k}[${i}] is not a multiaddr: ${a} (${(err as Error).message})`)
      }
    }
  }
  if (init.insecure !== undefined && typeof init.insecure !== 'boolean') throw new InvalidOptionError(`insecure must be a boolean, got ${String(init.insecure)}`)
  // announced addresses too: a loopback listener behind a proxy is reached from outside
  const open = init.clusterKey == null && init.insecure !== true ? [...(init.listen ?? []), ...(init.announceAddresses ?? [])].find(a => !isLoopback(a)) : undefined
  if (open !== undefined) {
    throw new InvalidOptionError(`address ${open} is not loopback and the node has no clusterKey: anyone who reaches it could join the cluster and call its workers. Give a clusterKey, or insecure: true for a network you trust`)
  }
  for (const k of ['heartbeatMs', 'maxRecordsPerSecond', 'suspectAfterMs', 'downAfterMs', 'reconnectWindowMs', 'dialTimeoutMs', 'forgetAfterMs'] as const) {
    const v = init[k]
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new InvalidOptionError(`${k} must be a positive number, got ${String(v)} (${typeof v})`)
    }
  }
  if (init.targets !== undefined) validateTargets(init.targets)
  if (init.membership !== undefined && init.membership !== 'gossip' && init.membership !== 'witness') throw new InvalidOptionError(`membership must be 'gossip' or 'witness', got ${String(init.membership)}`)
  if (init.witnesses !== undefined && (!Number.isInteger(init.witnesses) || init.witnesses < 1)) throw new InvalidOptionError(`witnesses must be a whole number of at least 1, got ${String(init.witnesses)}`)
  const h = init.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  if (h > MAX_HEARTBEAT_MS) throw new InvalidOptionError(`heartbeatMs must be at most ${MAX_HEARTBEAT_MS} (the others would wait four intervals to mark this node down), got ${h}`)
  const s = init.suspectAfterMs ?? DEFAULT_SUSPECT_AFTER_MS
  const d = init.downAfterMs ?? DEFAULT_DOWN_AFTER_MS
  if (!(h < s && s < d)) throw new InvalidOptionError(`expected heartbeatMs < suspectAfterMs < downAfterMs, got ${h}, ${s}, ${d}`)
  // a gap of suspectAfterMs between sweeps reads as this node's own pause
  if (s < 5 * MEMBERSHIP_SWEEP_MS) throw new InvalidOptionError(`suspectAfterMs must be at least ${5 * MEMBERSHIP_SWEEP_MS} ms, got ${s}`)
}

/** True when a listen multiaddr names this machine's loopback interface only (not `0.0.0.0` or `::`). */
export function isLoopback (addr: string): boolean {
  return isLoopbackHost(hostOf(multiaddr(addr)) ?? '')
}

/** Checks a targets map: pool name to a non-negative finite number. */
export function validateTargets (targets: unknown): asserts targets is Record<string, number> {
  if (targets == null || typeof targets !== 'object' || Array.isArray(targets)) {
    throw new InvalidOptionError(`targets must be an object of pool name to number, got ${JSON.stringify(targets)} (${typeof targets})`)
  }
  for (const [k, v] of Object.entries(targets)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InvalidOptionError(`target of pool ${k} must be a non-negative number, got ${String(v)} (${typeof v})`)
    }
  }
}
