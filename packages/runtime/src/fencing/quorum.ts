import { NodeIsolatedError, countsForMajority, isMajority } from '@simplepool/core'
import type { Clock, Member } from '@simplepool/core'

/** What the lease on a majority needs of the node. */
export interface QuorumComponents {
  readonly clock: Clock
  self: () => string
  /** Every member of this node's view, itself included. */
  members: () => ReadonlyArray<Readonly<Member>>
  /** Ms since this node last heard a record of the member; undefined when never. */
  heardAgo: (peerId: string) => number | undefined
  /** True when the member is known gone lately (it said goodbye, or refused a redial: no process listens there): it leaves a frozen base. */
  departed: (peerId: string) => boolean
  /** How many ms ago this node's view marked the member down, if it did lately. */
  markedDownAgo: (peerId: string) => number | undefined
  /** Members the others doubt (marked down or not) that this view never heard: see {@link QuorumLease}. */
  unknown?: () => readonly string[]
  /**
   * How long a member's last record counts as hearing it, in ms: shorter than the others
   * take to mark this node down after its last record reached them, by a margin (see
   * `DEFAULT_LEASE_MARGIN_MS`), so that this node stops taking turns before they may
   * place its workers elsewhere.
   */
  ms: () => number
}

/**
 * The lease on a majority: whether this node hears enough of the cluster to go on serving
 * its workers while the others may be deciding it is gone (a network partition).
 *
 * The members that count (the *base*) are the members of this node's view, but those
 * leaving and those known gone (a goodbye, or a redial refused: no process listens where
 * it was; a cut network never refuses, it is silent), whatever their status, targets and
 * liveness (`countsForMajority`: a target changed, or a join that ended, on one side of a
 * cut is not seen on the other, and bases by target or status would differ; seeds 79,
 * 130); and this node. A member marked down stays in the base until it is known gone or
 * forgotten: a side that dropped the members it marked down held a majority of the rest
 * while they counted on the other side, where they were heard again (seed 65) or never
 * marked down (seed 280: halves of three, each holding its lease). Clients (target 0
 * everywhere) and joining members count too: a side with the callers and one host of
 * three serves, and the two hosts on the other side stop. A node holds the lease while it
 * heard, within the lease (`ms()`), from more than half of the base (itself included), or
 * from exactly half when that half holds the base's oldest member (the smallest
 * incarnation, then the smallest peer id), the rule both halves of an even split compute
 * alike (`isMajority`). A member this node never heard, that the members it counts doubt
 * or marked down (`unknown`: it stood still or was cut off as this node joined), is in
 * the others' bases: it is in this one too, never heard, and taken for the oldest (its
 * incarnation is unknown here), so that a tie goes to the side that knows it (seed 10164).
 *
 * When the lease is lost the base is frozen until it holds again: the node's own view
 * forgets the members it marked down meanwhile, and a base that shrank with it would give
 * the cut-off side a majority of itself. Only a member known gone leaves a frozen base.
 */
export class QuorumLease {
  private readonly c: QuorumComponents
  /** The base frozen when the lease was lost, until it holds again. */
  private frozen: Array<Readonly<Member>> | undefined
  /** When the lease was lost (monotonic ms). */
  private lostAt = 0
  /** The members the last base was taken from (an immutable view's), and that base. */
  private baseOf: ReadonlyArray<Readonly<Member>> | undefined
  private unknownOf: readonly string[] | undefined
  private lastBase: Array<Readonly<Member>> = []

  constructor (components: QuorumComponents) {
    this.c = components
  }

  /**
   * Looks at the lease (every beat of the stall guard): lost, `fence` isolates this node
   * (once a fence for a stall is over, if one is on) until it holds again.
   *
   * A beat that came late (the loop was busy, or the process stood still) gets no grace:
   * the records kept meanwhile are not read yet, so the lease may look lost when it is
   * not, and the node fences until they are (a blip, not a loss: nobody marked it down,
   * nothing is dropped). Counting every member as heard instead let a node that stood
   * still inside a cut serve past the others' deadline (seed 381). After a stall long
   * enough to trip the stall guard, the members that answer its question ("did you mark
   * me down?") count as heard by that answer.
   */
  beat (fence: { readonly active: boolean, isolate: () => void, rejoined: (actedAlone: boolean) => void }): void {
    const frozen = this.frozen
    if (this.check() === 'regained') {
      // this node's view marked members of the base down while it heard no majority
      const lostMs = this.c.clock.monotonic() - this.lostAt
      fence.rejoined((frozen ?? []).some(m => (this.c.markedDownAgo(m.peerId) ?? Infinity) <= lostMs))
    } else if (this.lost && !fence.active) fence.isolate()
  }

  /** True while the lease is lost. */
  get lost (): boolean {
    return this.frozen !== undefined
  }

  /**
   * Looks at the lease now: `lost` when it was held until now and is no longer (the base
   * is frozen), `regained` when it was lost and holds again on the frozen base; undefined
   * when nothing changed.
   */
  check (): 'lost' | 'regained' | undefined {
    if (this.frozen === undefined) {
      const base = this.base()
      if (this.holds(base)) return undefined
      this.frozen = base
      this.lostAt = this.c.clock.monotonic()
      return 'lost'
    }
    // a member known gone since (a goodbye, a refused redial) is not waited for: no side has
    // it. A member known only by name stays while a record here names it (see `unknown`:
    // records of members this node marked down count too, so a cut does not shrink it)
    const unknown = this.c.unknown?.() ?? NONE
    this.frozen = this.frozen.filter(m => !this.c.departed(m.peerId) && (m.incarnation !== -Infinity || unknown.includes(m.peerId)))
    for (const peerId of unknown) if (!this.frozen.some(m => m.peerId === peerId)) this.frozen.push(unknownMember(peerId))
    if (!this.holds(this.frozen, true)) return undefined
    this.frozen = undefined
    return 'regained'
  }

  /** The base now: the members of this node's view that count toward a majority, and this node (kept per view: the members are immutable; see the class). */
  private base (): Array<Readonly<Member>> {
    const members = this.c.members()
    const unknown = this.c.unknown?.() ?? NONE
    if (members !== this.baseOf || unknown !== this.unknownOf || this.lastBase.some(m => m.liveness === 'down' && this.c.departed(m.peerId))) {
      const self = this.c.self()
      this.baseOf = members
      this.unknownOf = unknown
      this.lastBase = members.filter(m => m.peerId === self || (countsForMajority(m) && !(m.liveness === 'down' && this.c.departed(m.peerId))))
      for (const peerId of unknown) this.lastBase.push(unknownMember(peerId))
    }
    return this.lastBase
  }

  /**
   * Whether this node heard a majority of `base` (see the class) within the lease; liveness
   * as this node's view has it now (a frozen base's members are looked up again; a base of
   * this view's members has it already).
   */
  private holds (base: ReadonlyArray<Readonly<Member>>, frozen = false): boolean {
    if (base.length <= 1) return true
    const self = this.c.self()
    let now: Map<string, Readonly<Member>> | undefined
    if (frozen) {
      now = new Map()
      for (const m of this.c.members()) now.set(m.peerId, m)
    }
    const liveness = (m: Readonly<Member>): string | undefined => now === undefined ? m.liveness : now.get(m.peerId)?.liveness
    const leaseMs = this.c.ms()
    return isMajority(base, (m) => {
      if (m.peerId === self) return true
      const ago = this.c.heardAgo(m.peerId)
      return ago !== undefined && ago <= leaseMs && liveness(m) !== 'down'
    })
  }
}

const NONE: readonly string[] = []

/** A member known here only by name (see `unknown`): never heard, and the oldest. */
function unknownMember (peerId: string): Readonly<Member> {
  return { peerId, addresses: [], status: 'up', pools: {}, incarnation: -Infinity, liveness: 'down' }
}

/** What a call to a worker of a node that lost its lease gets, at once. */
export function isolatedError (self: string, pool: string, id: string): NodeIsolatedError {
  return new NodeIsolatedError(`node ${self} heard no majority of the cluster within its lease: ${pool}/${id} takes no turn there now`, { node: self, pool, id })
}
