import { isMajority } from '@simplepool/core'
import type { WitnessUpdate } from './witness-messages.js'

/**
 * What one node knows of one member beyond the member list: the latest epoch it knows the
 * member entered, the witness list of that epoch and of later ones it heard of (proposed,
 * or named by a doubt), the doubts of each of those epochs, and whether the member is
 * known dead. Doubts and lists of an epoch older than the latest entered are dropped: a
 * majority of the member's group promised no doubt below it, so they can never hold it
 * down (see `WitnessDetector`).
 */
export class MemberNews {
  /** The latest epoch the member is known to have entered. */
  seq = 0
  private readonly lists = new Map<number, readonly string[]>()
  readonly doubts = new Map<number, Set<string>>()
  /** A redial of it was refused: its process is gone. */
  dead = false

  constructor (first: readonly string[] | undefined) {
    if (first !== undefined) this.lists.set(0, first)
  }

  /** The member entered `seq` (with `witnesses`, when known): older doubts and lists go. */
  enter (seq: number, witnesses?: readonly string[]): void {
    if (witnesses !== undefined && seq >= this.seq) this.lists.set(seq, witnesses)
    if (seq <= this.seq) return
    this.seq = seq
    for (const e of this.doubts.keys()) if (e < seq) this.doubts.delete(e)
    for (const e of this.lists.keys()) if (e < seq) this.lists.delete(e)
  }

  /** The witness list of epoch `seq`, when known (from the epoch's entry, its proposal, or a doubt of it); kept for the current epoch and later ones. */
  listOf (seq: number): readonly string[] | undefined {
    return this.lists.get(seq)
  }

  /** Learns the list of a later epoch than the current (a proposal, or a doubt naming it). */
  heardOf (seq: number, witnesses: readonly string[]): void {
    if (seq >= this.seq && !this.lists.has(seq)) this.lists.set(seq, witnesses)
  }

  /** The latest epoch whose list is known (the current one, or one proposed or doubted since). */
  latest (): number {
    let latest = this.seq
    for (const e of this.lists.keys()) if (e > latest) latest = e
    return latest
  }

  /** Epochs from the current one on whose list names `peer`, highest first. */
  epochsNaming (peer: string): number[] {
    const out: number[] = []
    for (const [e, list] of this.lists) if (e >= this.seq && list.includes(peer)) out.push(e)
    return out.sort((a, b) => b - a)
  }

  /** A doubt by `from` in epoch `seq` (ignored if older than the current). */
  doubt (seq: number, from: string, witnesses: readonly string[]): void {
    if (seq < this.seq) return
    this.heardOf(seq, witnesses)
    let set = this.doubts.get(seq)
    if (set === undefined) this.doubts.set(seq, set = new Set())
    set.add(from)
  }

  /**
   * All of it as news of `peer` at generation `gen`, told by `self` to a node that joins: what flooded
   * before it joined reaches it no other way (a member held down would be `alive` there).
   */
  updates (peer: string, gen: number, self: string): WitnessUpdate[] {
    const out: WitnessUpdate[] = []
    if (this.dead) out.push({ k: 'dead', peer, gen, from: self })
    const entered = this.lists.get(this.seq)
    if (this.seq > 0 && entered !== undefined) out.push({ k: 'alive', peer, gen, seq: this.seq, witnesses: entered })
    for (const [seq, doubters] of this.doubts) {
      const witnesses = this.lists.get(seq)
      if (witnesses !== undefined) for (const from of doubters) out.push({ k: 'doubt', peer, gen, seq, from, witnesses })
    }
    return out
  }

  /**
   * The down rule: in some epoch whose list is known, the witnesses that doubt `member` in
   * it leave it no majority of its group (itself and that list). A tie goes to the half
   * with the smallest peer id (see {@link groupOf}). A witness does not count as a doubter
   * for being dead (only a doubt it raised counts): it may have promised a later epoch
   * before it died, and a node that missed that epoch would count it against the one it
   * knows (the membership model with joins and leaves found that); a member replaces a
   * dead witness by an epoch naming another.
   */
  isDown (member: string): boolean {
    for (const [e, doubters] of this.doubts) {
      const list = this.lists.get(e)
      if (list === undefined) continue
      if (!isMajority(groupOf(member, list), m => m.peerId === member || !doubters.has(m.peerId))) return true
    }
    return false
  }
}

/**
 * A member and a witness list, as the majority rule reads them. A tie goes to the half
 * with the smallest peer id, not the oldest member's: a witness that comes back as a new
 * generation would change the oldest while the doubts and echoes of the epoch still count,
 * and the lease and the down rule must read one order (found by the membership model with
 * flapping links, seed 5).
 */
export function groupOf (member: string, witnesses: readonly string[]): Array<{ peerId: string, incarnation: number }> {
  return [{ peerId: member, incarnation: 0 }, ...witnesses.map(w => ({ peerId: w, incarnation: 0 }))]
}

/** Whether two witness lists name the same members, in any order. */
export function sameList (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every(x => b.includes(x))
}
