import { TypedEventTarget, sleep } from '@simplepool/core'
import type { Clock, Member, MemberFigures, MemberStatus, MembershipEvents, MembershipLease, MembershipLeaseEvents, MembershipSnapshot, PoolTarget, Random, TimerHandle } from '@simplepool/core'
import { WITNESS_MEMBERSHIP_DEFAULTS, WitnessMembership } from './witness-membership.js'
import type { WitnessMembershipOptions } from './witness-membership.js'
import type { LinkMessage } from './witness-messages.js'
import { WITNESS_DEFAULTS } from './witness-options.js'

/** A stall this much short of `forgetAfterMs` may already have outlasted the others' memory of the generation. */
const HELD_DOWN_MARGIN_MS = 1_000

/**
 * A node that served and has held no lease for this long renews its generation (see
 * `watch`): far above a lease's blips (a beat or two lost), short beside what a caller
 * of its workers would wait for.
 */
const RENEW_AFTER_MS = 10_000
/** How often the lease is looked at for that. */
const WATCH_MS = 1_000
/** How long a node that leaves waits for the members that name it to name others: a rename or two, at most every `renameMs`. */
const LEAVE_WAIT_MS = 5_000

/** The events a mesh on witness membership passes on from its core. */
export const WITNESS_MESH_EVENTS = ['member:join', 'member:update', 'member:leave', 'member:down', 'membership:change', 'lease:lost'] as const

/** What the core of a mesh on witness membership is given: its node, and how to reach a peer over its link. */
export interface WitnessMeshCoreInit {
  peerId: string
  addresses: readonly string[]
  clock: Clock
  random: Random
  /** Sends a message over the link to `peer` (opened when needed). */
  send: (peer: string, message: LinkMessage) => void
  /** A link this node needs no more. */
  unlinked?: (peer: string) => void
  options?: Partial<WitnessMembershipOptions>
}

/**
 * A mesh's membership by witnesses, without I/O: what the libp2p mesh and the simulated
 * one both run, in the shape the node reads a membership (its snapshot, events, status and
 * targets). It keeps its own lease ({@link MembershipLease}): a member is down only once
 * a majority of its witness group doubts it, and holds its lease only while a majority of
 * that group echoes it, so neither the others' records nor questions to them are needed.
 *
 * What the gossip mesh answers from records and this one does not: other members' counts
 * and load (`figures` is undefined; an operator asks the members), a member's last record
 * (`heardFrom` is its liveness), members never heard (`unheard`, `unknown`: a joiner pulls
 * the whole list, and news of members held down with it) and goodbyes (`departed`: a
 * member that leaves announces `leaving`, then ends its generation and leaves the view).
 */
export class WitnessMeshCore extends TypedEventTarget<MembershipEvents & MembershipLeaseEvents> {
  readonly membership: WitnessMembership
  private readonly c: WitnessMeshCoreInit
  private status: MemberStatus = 'joining'
  /** This node's generation ended (held down, or renewed) and no fence has dropped what the old one held yet (see `markedDown`). */
  private unanswered = false
  /** It ended at least once: a node past its first generation no longer holds its lease by joining. */
  private ended = false
  private readonly sweepMs: number
  private readonly forgetAfterMs: number
  /** The lease the node's runtime fences by. */
  readonly lease: MembershipLease
  /** Since when (monotonic) this node, past its join, has held no lease. */
  private lostSince: number | undefined
  private watchTimer: TimerHandle | undefined

  constructor (init: WitnessMeshCoreInit, targets: Readonly<Record<string, number>>) {
    super()
    this.c = init
    this.sweepMs = init.options?.sweepMs ?? WITNESS_DEFAULTS.sweepMs
    this.forgetAfterMs = init.options?.forgetAfterMs ?? WITNESS_MEMBERSHIP_DEFAULTS.forgetAfterMs
    this.membership = new WitnessMembership({
      self: { peerId: init.peerId, addresses: init.addresses, status: 'joining', pools: poolsOf(targets) },
      clock: init.clock,
      random: init.random,
      send: init.send,
      unlinked: init.unlinked,
      heldDown: () => { this.onHeldDown() }
    }, { ...WITNESS_MEMBERSHIP_DEFAULTS, ...init.options })
    for (const type of ['member:join', 'member:update', 'member:leave', 'member:down', 'membership:change'] as const) {
      this.membership.addEventListener(type, (evt) => { this.dispatchEvent(new CustomEvent(type, { detail: evt.detail })) })
    }
    this.lease = {
      holds: () => this.holds(),
      ready: () => this.membership.holdsLease(),
      markedDown: async (pausedMs, options) => await this.markedDown(pausedMs, options)
    }
  }

  snapshot (): MembershipSnapshot {
    return this.membership.snapshot()
  }

  member (peerId: string): Readonly<Member> | undefined {
    return this.membership.get(peerId)
  }

  /** Counts and load are not in the records: undefined (see the class). */
  figures (_peerId: string): Readonly<MemberFigures> | undefined {
    return undefined
  }

  /** Not down here: the detector heard it, or its witnesses did. */
  heardFrom (peerId: string): boolean {
    const m = this.membership.get(peerId)
    return m !== undefined && m.liveness !== 'down'
  }

  unheard (): readonly string[] {
    return NONE
  }

  unknown (): readonly string[] {
    return NONE
  }

  markedDownAgo (peerId: string): number | undefined {
    return this.membership.downAgo(peerId)
  }

  departed (_peerId: string): boolean {
    return false
  }

  setStatus (status: MemberStatus): void {
    this.status = status
    this.membership.update({ status })
  }

  setTargets (targets: Readonly<Record<string, number>>): void {
    this.membership.update({ pools: poolsOf(targets) })
  }

  /** Joins through the members `peers` names (their peer ids), or starts a cluster of one. */
  start (peers: readonly string[]): void {
    this.membership.start(peers)
    this.watch()
  }

  /**
   * Leaves: announces `leaving`, waits (up to {@link LEAVE_WAIT_MS}) until no member names
   * this node as a witness any more, then ends its generation; the others drop it from
   * their views as the news spreads (give it a moment before `stop`). A member names
   * another witness only once a majority of its group promised it the next epoch: had this
   * node gone first, one whose group it tipped (two or three members, as a small cluster
   * shrinks) could never lease again (the simulator, seed 3095 with replicas).
   */
  async leave (): Promise<void> {
    if (this.status !== 'leaving') this.setStatus('leaving')
    const clock = this.c.clock
    const until = clock.monotonic() + LEAVE_WAIT_MS
    while (this.membership.namedBy().length > 0 && clock.monotonic() < until) await sleep(clock, this.sweepMs)
    this.membership.leave()
  }

  stop (): void {
    this.membership.stop()
    if (this.watchTimer !== undefined) this.c.clock.clearTimeout(this.watchTimer)
    this.watchTimer = undefined
  }

  receive (from: string, message: LinkMessage): void {
    this.membership.receive(from, message)
  }

  /**
   * The lease: held while this node still joins in its first generation (it holds no
   * worker until it is `up`: held down as it joins, it has nothing to drop), and from then
   * on while a majority of its witness group echoes it.
   */
  private holds (): boolean {
    if (this.status === 'joining' && !this.ended) return true
    return this.membership.holdsLease()
  }

  private async markedDown (pausedMs: number, options: { timeoutMs: number, signal?: AbortSignal }): Promise<boolean> {
    // stood still so long that the others have forgotten its generation: it is over
    if (pausedMs + HELD_DOWN_MARGIN_MS >= this.forgetAfterMs) return true
    const clock = this.c.clock
    const deadline = clock.monotonic() + options.timeoutMs
    for (;;) {
      // a generation ended since a fence last dropped what it held: yes, whenever it ended
      if (this.unanswered) {
        this.unanswered = false
        return true
      }
      // a lease held now: no member holds this generation down (nor did: down is final for a
      // generation, and one that ended is answered above)
      if (this.membership.holdsLease()) return false
      if (clock.monotonic() >= deadline || options.signal?.aborted === true) return true
      await sleep(clock, this.sweepMs)
    }
  }

  /**
   * A node whose lease stays lost while it serves renews its generation: a witness that
   * doubted a proposed epoch and now hears it again gives it no promise to leave its
   * epoch (a doubter promises nothing), and when that witness alone decides the group's
   * majority (a list of one, named at a join when the node knew only its bootstrap), the
   * generation can neither be held down nor lease again (the simulator, seed 1008 with
   * partitions). A new generation names its witnesses afresh among the members it knows;
   * what the node held goes as when held down.
   */
  private watch (): void {
    this.watchTimer = this.c.clock.setTimeout(() => {
      const now = this.c.clock.monotonic()
      if (this.status === 'joining' || this.status === 'leaving' || this.membership.holdsLease()) {
        this.lostSince = undefined
      } else if (this.lostSince === undefined) {
        this.lostSince = now
      } else if (now - this.lostSince >= RENEW_AFTER_MS) {
        this.lostSince = undefined
        this.membership.renew()
      }
      this.watch()
    }, WATCH_MS)
  }

  private onHeldDown (): void {
    this.unanswered = this.ended = true
    this.dispatchEvent(new CustomEvent('lease:lost', { detail: { peerId: this.c.peerId } }))
  }
}

const NONE: readonly string[] = []

function poolsOf (targets: Readonly<Record<string, number>>): Record<string, PoolTarget> {
  const pools: Record<string, PoolTarget> = {}
  for (const [name, target] of Object.entries(targets)) pools[name] = { target }
  return pools
}
