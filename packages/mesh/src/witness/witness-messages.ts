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
  /** Witness `from` heard nothing from `peer` (at `gen`, `seq`) for the doubt deadline. */
  | { k: 'doubt', peer: string, gen: number, seq: number, from: string }
  /** `from` dialled `peer` again after its connection closed and was refused: the process is gone. */
  | { k: 'dead', peer: string, gen: number, from: string }
  /** `peer` is alive at `seq`: every doubt of an older `seq` is void (a member refutes a doubt of itself so). */
  | { k: 'alive', peer: string, gen: number, seq: number }

/** One beat: this side's beat number, the last number it had from the other side, whether it misses that side, and news. */
export interface WitnessBeat {
  t: 'beat'
  seq: number
  /** The other side's latest beat number received here; -1 before any. */
  echo: number
  /** The sender has not heard the receiver for `missMs`: answer at once (a beat of its own). */
  miss: boolean
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
    case 'alive': return `a|${u.peer}|${u.gen}|${u.seq}`
  }
}
