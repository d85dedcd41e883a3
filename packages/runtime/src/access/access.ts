/**
 * A node's access rules, worked out per peer and checked where what other nodes send is
 * answered: the runtime's dispatch (pools) and the node's operations. Open (every check
 * passes, nothing is looked up) when no rules were given. A refusal is counted per peer,
 * pool and operation, for the metrics, and announced as an `access:deny` event at most
 * once a second per peer, so a flood of refused messages costs a counter each, not an
 * event each.
 */
import { ACCESS_CACHED_PEERS, ACCESS_COUNTED_PEERS, ACCESS_EVENT_INTERVAL_MS, ForbiddenError, InvalidOptionError, Throttle } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { RefusedOp, WorkerEvents } from '../events.js'
import { ANY_MEMBER, ANY_POOL, validateAccessRules } from './access-rules.js'
import type { AccessRules, NodeOperation } from './access-rules.js'

/** Rights on a pool, as bits. */
export const PoolRight = {
  Call: 1,
  Host: 2
} as const

/** Calling a pool: granted to its callers and its hosts (a host sends on what it does not own). */
export const CALL_OR_HOST = PoolRight.Call | PoolRight.Host

/** Refusals counted under one peer, pool and operation. */
export interface Refusals {
  /** The peer id, or `(other)` past {@link ACCESS_COUNTED_PEERS} peers. */
  peer: string
  /** The pool, `(unknown)` for a name neither this node nor its rules know, or '' for a node operation. */
  pool: string
  op: RefusedOp
  count: number
}

/** What the access rules need of the node. */
export interface AccessComponents {
  readonly clock: Clock
  readonly events: WorkerEvents
  /** This node's peer id: a node may always ask itself. */
  self: () => string
  /** Whether this node runs `pool`: refusals are counted under the pool's own name only for pools the node or its rules know. */
  runs: (pool: string) => boolean
}

/** One peer's rights, worked out from the rules when first asked. */
interface PeerRights {
  /** Its roles, with {@link ANY_MEMBER}. */
  readonly roles: ReadonlySet<string>
  /** Per pool, its {@link PoolRight} bits. */
  readonly pools: Map<string, number>
}

const OTHER_PEER = '(other)'
const UNKNOWN_POOL = '(unknown)'

export class Access {
  /** No rules: every member may do everything. */
  readonly open: boolean
  /**
   * With rules, whether a member may host a pool: a member that may not is on none of its
   * rings (whatever target it announces), is asked for no copy of its workers, and is
   * handed none. Undefined without rules.
   */
  readonly hostRight?: (peer: string, pool: string) => boolean
  private readonly rules: AccessRules | undefined
  private readonly c: AccessComponents
  /** Roles per peer id, from the rules. */
  private readonly rolesOf = new Map<string, string[]>()
  private readonly peers = new Map<string, PeerRights>()
  private readonly counts = new Map<string, Refusals>()
  /** Peers counted under their own id. */
  private readonly counted = new Set<string>()
  /** Per peer (its counted label): announced once a second at most. */
  private readonly announced: Throttle

  /** @param rules as the user gave them: checked here (`InvalidOptionError`) */
  constructor (rules: AccessRules | undefined, components: AccessComponents) {
    // a copy of its own, frozen: rules changed by their caller after the start would take effect only in part
    this.rules = rules === undefined ? undefined : deepFreeze(structuredClone(validateAccessRules(rules)))
    this.open = rules === undefined
    this.c = components
    this.announced = new Throttle(components.clock, ACCESS_EVENT_INTERVAL_MS)
    if (!this.open) this.hostRight = (peer, pool) => this.may(peer, pool, PoolRight.Host)
    for (const [role, peers] of Object.entries(this.rules?.roles ?? {})) {
      for (const peer of peers) {
        const roles = this.rolesOf.get(peer)
        if (roles === undefined) this.rolesOf.set(peer, [role])
        else roles.push(role)
      }
    }
  }

  /**
   * Fails with `InvalidOptionError` when this node is to hold workers of a pool (a target
   * above 0) that its own rules do not let it host: the others, configured alike, would
   * refuse its handoffs, claims and replicas, and its workers would be lost at their
   * first move. Checked at start, once its peer id is known, and when targets are set. A
   * pool with a target of 0 (a node that only calls it) needs no right to host.
   */
  checkSelf (pools: Iterable<string>): void {
    if (this.open) return
    for (const pool of pools) {
      if ((this.rightsOf(this.c.self(), pool) & PoolRight.Host) === 0) {
        throw new InvalidOptionError(`this node (${this.c.self()}) runs pool ${pool}, but its access rules do not let it host it: add its peer id to a role in access.pools.${pool}.host (or access.pools['*'].host)`)
      }
    }
  }

  /** Whether `peer` holds one of the `rights` bits on `pool`; this node itself always does. */
  may (peer: string, pool: string, rights: number): boolean {
    if (this.open || peer === this.c.self()) return true
    return (this.rightsOf(peer, pool) & rights) !== 0
  }

  /** Whether this node's own rules let it send `pool` calls and casts: the others, configured alike, would refuse them otherwise. */
  maySend (pool: string): boolean {
    return this.open || (this.rightsOf(this.c.self(), pool) & CALL_OR_HOST) !== 0
  }

  /** Whether this node's own rules let it host `pool` (a node asks itself nothing, so {@link may} cannot say). */
  hostsHere (pool: string): boolean {
    return this.open || (this.rightsOf(this.c.self(), pool) & PoolRight.Host) !== 0
  }

  /** Whether `peer` may run node operation `op`; this node itself always may. */
  mayOperate (peer: string, op: NodeOperation): boolean {
    if (this.open || peer === this.c.self()) return true
    const operations = this.rules?.operations ?? {}
    const granted = Object.hasOwn(operations, op) ? operations[op] : undefined
    return granted !== undefined && this.holdsAny(this.peerRights(peer).roles, granted)
  }

  /**
   * Counts a refusal of `op` on `pool` (null: a node operation) from `peer`, announces it
   * unless this peer was announced within the last second, and returns the error the
   * peer gets.
   */
  refuse (peer: string, op: RefusedOp, pool: string | null): ForbiddenError {
    this.refused(peer, op, pool)
    const self = this.c.self()
    const what = pool === null ? `run ${op} on it` : `${op} pool ${pool}`
    return new ForbiddenError(`node ${self} does not let peer ${peer} ${what}`, { node: self, peer, pool, op })
  }

  /** Counts and announces a refusal of state (`op`) of `pool` from `peer`, which in this node's view could hold none of its workers; returns the error. */
  refuseState (peer: string, op: RefusedOp, pool: string): ForbiddenError {
    this.refused(peer, op, pool)
    const self = this.c.self()
    return new ForbiddenError(`node ${self} takes no state of pool ${pool} from peer ${peer}: in its view that peer holds none of its workers (on none of its rings lately, no target for it, none reported)`,
      { node: self, peer, pool, op, reason: 'not-a-holder' })
  }

  /** Counts and announces a refusal, as {@link refuse} does, for what gets no answer (a cast): no error is built. */
  refused (peer: string, op: RefusedOp, pool: string | null): void {
    const counted = this.labelOf(peer)
    const poolLabel = pool === null ? '' : this.known(pool) ? pool : UNKNOWN_POOL
    const key = `${counted}\n${poolLabel}\n${op}`
    const entry = this.counts.get(key)
    if (entry !== undefined) entry.count++
    else this.counts.set(key, { peer: counted, pool: poolLabel, op, count: 1 })
    this.announce(counted, peer, op, pool)
  }

  /** Every refusal counted since start, per peer, pool and operation. */
  refusals (): Refusals[] {
    return [...this.counts.values()]
  }

  /** `peer` itself while fewer than {@link ACCESS_COUNTED_PEERS} peers were counted, else `(other)`. */
  private labelOf (peer: string): string {
    if (this.counted.has(peer)) return peer
    if (this.counted.size >= ACCESS_COUNTED_PEERS) return OTHER_PEER
    this.counted.add(peer)
    return peer
  }

  private announce (counted: string, peer: string, op: RefusedOp, pool: string | null): void {
    const held = this.announced.pass(counted)
    if (held >= 0 && this.c.events.has('access:deny')) this.c.events.emit('access:deny', { node: this.c.self(), peer, pool, op, count: held + 1 })
  }

  private known (pool: string): boolean {
    return this.c.runs(pool) || Object.hasOwn(this.rules?.pools ?? {}, pool)
  }

  private rightsOf (peer: string, pool: string): number {
    const rights = this.peerRights(peer)
    const cached = rights.pools.get(pool)
    if (cached !== undefined) return cached
    const pools = this.rules?.pools ?? {}
    // own keys only: rules made in code may carry a prototype (or `__proto__` as a key)
    const grant = Object.hasOwn(pools, pool) ? pools[pool] : Object.hasOwn(pools, ANY_POOL) ? pools[ANY_POOL] : undefined
    let bits = 0
    if (grant?.call !== undefined && this.holdsAny(rights.roles, grant.call)) bits |= PoolRight.Call
    if (grant?.host !== undefined && this.holdsAny(rights.roles, grant.host)) bits |= PoolRight.Host
    // a host sends on what it is not the owner of: hosting implies calling
    if ((bits & PoolRight.Host) !== 0) bits |= PoolRight.Call
    // only pools this node or its rules know are kept: a peer naming new pools at will grows nothing
    if (this.known(pool)) rights.pools.set(pool, bits)
    return bits
  }

  private peerRights (peer: string): PeerRights {
    let rights = this.peers.get(peer)
    if (rights === undefined) {
      if (this.peers.size >= ACCESS_CACHED_PEERS) this.peers.clear()
      rights = { roles: new Set([ANY_MEMBER, ...(this.rolesOf.get(peer) ?? [])]), pools: new Map() }
      this.peers.set(peer, rights)
    }
    return rights
  }

  private holdsAny (roles: ReadonlySet<string>, granted: readonly string[]): boolean {
    for (const role of granted) if (roles.has(role)) return true
    return false
  }
}

/** `value`, and everything in it, frozen. */
function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
