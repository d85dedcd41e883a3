import type { RosterMessage } from './roster-messages.js'

/**
 * What witnesses say on their links (see docs/design/membership-v2.md). A link carries a
 * beat each way every `beatMs`; news (a doubt, a death, a refutation) floods over the
 * links and rides the next beats too, so a message lost on one link is not news lost.
 * Over libp2p a link is one stream of a Noise connection, which proves who sent a beat;
 * news that is passed on carries its author (`from`), and is to be signed by it before
 * these messages leave the model.
 */

/** News about one member, passed on by every node that has not seen it before. */
export type WitnessUpdate =
  /** Witness `from` heard nothing from `peer` (at `gen`) for the doubt deadline, in the member's epoch `seq`, whose witnesses are `witnesses`. */
  | { k: 'doubt', peer: string, gen: number, seq: number, from: string, witnesses: readonly string[] }
  /** `from` dialled `peer` again after its connection closed and was refused: the process is gone. */
  | { k: 'dead', peer: string, gen: number, from: string }
  /**
   * `peer` entered epoch `seq`, with `witnesses`: a majority of its group promised it no
   * doubt of an older epoch, so the doubts of older epochs can never hold it down and are
   * dropped. `near`: told to the member's links alone, which pass it on no further (no
   * doubt of it was known to void).
   */
  | { k: 'alive', peer: string, gen: number, seq: number, witnesses: readonly string[], near?: true }

/**
 * One beat: this side's beat number, the last number it had from the other side, whether
 * it misses that side, this side's epoch and the epoch it proposes, its promise for the
 * other side's proposal, and news.
 */
export interface WitnessBeat {
  t: 'beat'
  seq: number
  /** The other side's latest beat number received here; -1 before any, and while this side doubts it or holds it down (no echo counts then). */
  echo: number
  /** The sender has not heard the receiver for `missMs`: answer at once (a beat of its own). */
  miss: boolean
  /** The sender's generation: a beat sent before the sender came back as a new one says nothing of the new one's epochs. */
  gen: number
  /** The sender's epoch (see {@link WitnessUpdate} `alive`). */
  epoch: number
  /** The sender's witness list of that epoch, when the receiver asked for it (`needList`). */
  witnesses?: readonly string[]
  /** The sender lacks the receiver's witness list of its epoch (it missed the entry's news). */
  needList?: true
  /**
   * The sender means to name the receiver among its witnesses and has not proposed it yet:
   * it proposes once a majority of the group it wants echoes it, so the receiver links
   * back and beats it, though no epoch it knows of names it.
   */
  want?: true
  /**
   * The epoch the sender proposes to enter (doubted in its own, or naming other
   * witnesses), and its witness list: each witness that does not doubt it promises no
   * doubt below it (`ack`).
   */
  propose?: { epoch: number, witnesses: readonly string[] }
  /** The receiver's proposed epoch this side promised: no doubt of it from here below that epoch. */
  ack?: number
  /** The receiver's generation the promise is for (a promise to an earlier one is none to this one). */
  ackGen?: number
  updates: WitnessUpdate[]
}

/** News sent as it is learnt, between beats. */
export interface WitnessNews {
  t: 'news'
  updates: WitnessUpdate[]
}

/** Anything sent on a witness link. */
export type WitnessMessage = WitnessBeat | WitnessNews

/** The key under which a node remembers an update it has passed on: the same news arriving again is dropped. */
export function updateKey (u: WitnessUpdate): string {
  switch (u.k) {
    case 'doubt': return `d|${u.peer}|${u.gen}|${u.seq}|${u.from}`
    case 'dead': return `x|${u.peer}|${u.gen}`
    case 'alive': return `a|${u.peer}|${u.gen}|${u.seq}${u.near === true ? '|n' : ''}`
  }
}

/** Anything sent on a witness link: the detector's beats and news, and the roster's records (see `Roster`). */
export type LinkMessage = WitnessMessage | RosterMessage

/** True for the roster's messages (the rest are the detector's). */
export function isRosterMessage (m: LinkMessage): m is RosterMessage {
  return m.t === 'records' || m.t === 'digest' || m.t === 'pull'
}
