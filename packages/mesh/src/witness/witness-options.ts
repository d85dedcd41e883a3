import type { Clock } from '@simplepool/core'
import type { WitnessMessage } from './witness-messages.js'

/** The timing of a witness detector, in ms, and how many witnesses a member has. */
export interface WitnessOptions {
  /** Witnesses per member (K). */
  witnesses: number
  /** A beat each way on every link this often. */
  beatMs: number
  /** Silent this long, a link's peer is suspect here, and beats go to it four times as often, each asking for an answer at once. */
  missMs: number
  /** Silent this long, a witness floods a doubt of the member it watches. */
  doubtMs: number
  /**
   * How long a witness's echo of a beat counts toward the sender's lease, from the beat's
   * sending. Below `doubtMs`: a witness doubts only `doubtMs` after it last heard the
   * member, which is after that member sent it, so the member stopped counting that
   * witness before its doubt can exist.
   */
  leaseMs: number
  /** How often deadlines are looked at; a gap of `missMs` between looks is this node's own stall. */
  sweepMs: number
  /** How many later beats on each link carry a piece of news again, against loss. */
  piggyback: number
  /** How long news already passed on is remembered (and dropped when it comes again). */
  forgetMs: number
}

export const WITNESS_DEFAULTS: WitnessOptions = {
  // 6, not 8: a hundred nodes started at once on two cores held their leases after 10.8 s
  // with 6, 18-30 s with 8 (each link's connection costs both ends their handshakes; the
  // witness scenario), and the membership model at 100 nodes, with 20% of messages lost
  // and pauses, raised no false down with either (27 messages a node a second against 37)
  witnesses: 6,
  beatMs: 500,
  missMs: 1_000,
  doubtMs: 2_000,
  leaseMs: 1_500,
  sweepMs: 100,
  piggyback: 2,
  forgetMs: 60_000
}

/** This node's verdict on a member. */
export type WitnessLiveness = 'alive' | 'suspect' | 'down'

/**
 * A member as it joined: its generation (its membership's start) and the witnesses it
 * named then (its epoch 0). A member names others in later epochs (see the detector).
 */
export interface WitnessedMember {
  gen: number
  witnesses: readonly string[]
}

/** What a detector is given. */
export interface WitnessComponents {
  readonly self: string
  readonly clock: Clock
  /** Every member known, as it joined. */
  readonly members: ReadonlyMap<string, WitnessedMember>
  /** The peers to beat from the start (by default: this node's witnesses, and the members that named it). */
  readonly links?: readonly string[]
  send: (peer: string, message: WitnessMessage) => void
  /** This node's verdict on `peer` changed. */
  changed?: (peer: string, liveness: WitnessLiveness) => void
  /** A link this node keeps from now on (a witness named, a member that names it): the owner may greet the peer. */
  linked?: (peer: string) => void
  /** A link this node needs no more (no epoch of either side names the other): the owner may close it. */
  unlinked?: (peer: string) => void
  /** This node learnt that doubts hold it down: others may take over its work, so it must stop serving what it holds, and come back as a new generation. */
  heldDown?: () => void
}
