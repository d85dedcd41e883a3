/**
 * The membership contract: what every node publishes about itself, and the immutable,
 * versioned snapshot every node folds those records into.
 */

/** A node's lifecycle status, as the node itself announces it. */
export type MemberStatus = 'joining' | 'up' | 'draining' | 'leaving'

/** What this node believes of a peer's liveness, from connections and heartbeats. */
export type Liveness = 'alive' | 'suspect' | 'down'

/** Per pool, on one node: its target, which is its weight on the pool's ring. */
export interface PoolTarget {
  target: number
}

/** Per pool, on one node: its target and how many workers it holds now. */
export interface PoolFigures extends PoolTarget {
  count: number
}

/** The record a node publishes about itself on every heartbeat. */
export interface MemberRecord {
  peerId: string
  addresses: string[]
  status: MemberStatus
  pools: Record<string, PoolFigures>
  /** Grows on each process start, so a restarted node's records beat its old ones. */
  incarnation: number
  /** Grows on every heartbeat of one incarnation; orders records from the same node. */
  seq: number
  /** Event-loop utilisation in [0, 1] over the last heartbeat interval. */
  load: number
  /**
   * How long until this node's next record, in ms. Receivers judge its silence by this,
   * not by their own interval: a node in a big cluster sends less often.
   */
  heartbeatMs: number
  /**
   * The largest epoch this node handed out or heard of (0 for none). Every node that
   * reads it hands out larger ones from then on: epochs follow wall time, and a copy made
   * on a node whose clock ran ahead must still rank below the next copy made elsewhere
   * once that node is gone. Older nodes send none; it reads as 0.
   */
  epoch: number
  /**
   * The members this node suspects or marked down (silent past the suspicion deadline, or
   * a redial refused): a node named here learns that this one does not hear it, so it
   * stops counting this one toward its lease on a majority (a link cut one way, which its
   * own silence deadlines cannot see); and the others do not mark that node down on
   * silence alone while enough hosts do not doubt it that it may still hold its lease (see
   * {@link isMajority}). Older nodes send none.
   */
  doubts?: string[]
  /**
   * The members among {@link doubts} this node marked down (the others it only suspects):
   * a node that joined while a member was silent knows it only from the others' doubts,
   * and may start that member's workers only once every member that doubts it marked it
   * down (until then it may still serve them). Older nodes send none; their doubts read as
   * suspicions.
   */
  downs?: string[]
  /**
   * The members among {@link downs} this node knows gone (a redial was refused: no
   * process listens where they were): they left its base on a majority. A node that never
   * heard a member counts it in its own base while another member's record names it down
   * and not gone (see `MembershipView.unknown`). Older nodes send none.
   */
  gone?: string[]
  /**
   * The members this node hears (their records arrive within the suspicion deadline), as
   * {@link peerTag}s: a node that never heard of a member does not doubt it either, and
   * only a member that hears another may vouch that it can still hold its lease (see
   * `MembershipView.mayHoldLease`). Four bytes a member. Older nodes send none.
   */
  hears?: number[]
}

/**
 * A node's epoch high-water mark: its records carry `last()`, and every record it reads
 * raises it (see {@link MemberRecord.epoch}).
 */
export interface EpochMark {
  last: () => number
  observe: (epoch: number) => void
}

/**
 * One member as a snapshot holds it: the parts of its record that decide placement and
 * routing, and its liveness in this view. Counts and load change on every heartbeat, so
 * they live apart from the snapshot (see {@link MemberFigures}).
 */
export interface Member {
  peerId: string
  addresses: readonly string[]
  status: MemberStatus
  pools: Readonly<Record<string, PoolTarget>>
  incarnation: number
  liveness: Liveness
}

/** The figures of a member's latest record, refreshed on every heartbeat. */
export interface MemberFigures {
  counts: Readonly<Record<string, number>>
  load: number
  seq: number
  /** The interval the member announced for its records. */
  heartbeatMs: number
  /** Monotonic time (this node's clock) when the last record arrived. */
  lastSeen: number
  /** The members the member's last record doubts (see {@link MemberRecord.doubts}). */
  doubts: readonly string[]
  /** The members among those the member's last record marked down (see {@link MemberRecord.downs}). */
  downs: readonly string[]
  /** The members among those it knows gone (see {@link MemberRecord.gone}). */
  gone: readonly string[]
  /** The tags of the members the member's last record hears, when it said (see {@link MemberRecord.hears}). */
  hears?: readonly number[]
}

/**
 * An immutable view of the cluster. `version` grows with every change of any member's
 * status, liveness, targets, addresses or incarnation, and with nothing else: one node
 * holding two snapshots of equal version holds equal views. Versions are local to a node.
 */
export interface MembershipSnapshot {
  readonly version: number
  /** This node's peer id. */
  readonly self: string
  /** Every member this node knows, itself included, sorted by peer id. */
  readonly members: ReadonlyArray<Readonly<Member>>
}

/** Events of a membership service. */
export interface MembershipEvents extends Record<string, unknown> {
  'member:join': Readonly<Member>
  'member:update': Readonly<Member>
  'member:leave': Readonly<Member>
  'member:down': Readonly<Member>
  'membership:change': MembershipSnapshot
}

/** True when a member should hold workers: it announced `up` and is not down in this view. */
export function isServing (m: Pick<Member, 'status' | 'liveness'>): boolean {
  return m.status === 'up' && m.liveness !== 'down'
}

/**
 * A member that counts toward the majority of a partition (see {@link isMajority}): any
 * member but one that said goodbye (leaving), whatever its status and targets. Targets
 * and status change at runtime (a drain, an undrain, a target set, a join that ends), and
 * a change made on one side of a cut is not seen on the other: a base of hosts by target,
 * or of members up, would differ between the sides, and a side that gained a host or an
 * `up` member meanwhile could hold a majority of its own base while the other held one of
 * its own (seeds 79, 130). Clients (target 0) and joining members count too, then: a
 * side with the callers and one host serves, the other side's hosts stop.
 */
export function countsForMajority (m: Pick<Member, 'status'>): boolean {
  return m.status !== 'leaving'
}

/** A member that may hold workers: up or draining, with a target above 0 in some pool (a client, target 0 everywhere, holds none). */
export function isHost (m: Pick<Member, 'status' | 'pools'>): boolean {
  if (m.status !== 'up' && m.status !== 'draining') return false
  for (const p of Object.values(m.pools)) if (typeof p.target === 'number' && p.target > 0) return true
  return false
}

/**
 * The majority rule of partitions, which every node computes alike from its view: the
 * `counted` members of `base` are more than half of it, or exactly half and among them
 * the base's oldest member (the smallest incarnation, then the smallest peer id), so that
 * of two equal halves exactly one passes. A base of one or none always passes. `counted`
 * is asked at most once per member, and not at all past a strict majority.
 */
export function isMajority<M extends Pick<Member, 'peerId' | 'incarnation'>> (base: ReadonlyArray<Readonly<M>>, counted: (m: Readonly<M>) => boolean): boolean {
  if (base.length <= 1) return true
  let heard = 0
  let oldest: Readonly<M> | undefined
  let oldestCounted = false
  for (const m of base) {
    const yes = counted(m)
    if (yes && ++heard * 2 > base.length) return true
    if (oldest === undefined || m.incarnation < oldest.incarnation || (m.incarnation === oldest.incarnation && m.peerId < oldest.peerId)) {
      oldest = m
      oldestCounted = yes
    }
  }
  return heard * 2 === base.length && oldestCounted
}

/**
 * A member's short tag in records that name many members (`MemberRecord.hears`): the
 * 32-bit FNV-1a hash of its peer id. Two ids may share a tag; a reader takes a tag for any
 * member that has it, which only ever keeps a member in (the safe side).
 */
export function peerTag (peerId: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < peerId.length; i++) {
    h ^= peerId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * A lease a membership keeps itself, where `QuorumLease` is not the rule: witness
 * membership holds a member down only once a majority of its witness group doubts it,
 * and a member holds its lease only while a majority of that group echoes it, so both
 * are answered by the membership alone, without asking the others.
 */
export interface MembershipLease {
  /** True while this node may serve: nobody holds it down, nor can before it notices (held while it joins: it holds no worker yet). */
  holds: () => boolean
  /** True while the lease holds on the cluster's word (it no longer holds by joining alone): a joining node waits for it before it is `up`. */
  ready: () => boolean
  /**
   * Whether this node was held down, asked once it stood still for `pausedMs` or was cut
   * off: yes when a generation of it ended since the last yes (held down, or renewed), or
   * when it stood still longer than the others remember a generation; no once the lease
   * holds again; not knowing within `timeoutMs` counts as yes.
   */
  markedDown: (pausedMs: number, options: { timeoutMs: number, signal?: AbortSignal }) => Promise<boolean>
}

/** Events of a membership that keeps its own lease: this node's generation ended (it learnt it is held down, or renewed it), and it must stop serving what it holds at once. */
export interface MembershipLeaseEvents {
  'lease:lost': { readonly peerId: string }
}
