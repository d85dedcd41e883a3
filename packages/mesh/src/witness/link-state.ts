import type { MemberNews } from './member-news.js'
import type { WitnessMessage } from './witness-messages.js'

/** One link, as this side keeps it. */
export interface Link {
  /** When anything last came from the peer (monotonic); -Infinity before anything did. */
  lastHeard: number
  /** The peer's latest beat number; -1 before one. */
  theirBeat: number
  /** Until when the peer's echo says it hears this node (monotonic). */
  echoedUntil: number
  /** When this side last sent it a beat (monotonic). */
  lastSent: number
  /** When this side last doubted it (monotonic): a doubt is raised again only a doubt deadline later. */
  lastDoubt: number
  /** The peer's epochs in which this side doubted it. Until the peer enters a later one than each, this side gives it no echo and no promise. */
  doubted: Set<number>
  /** The highest of the peer's proposed epochs this side promised (no doubt from here below it); -1 if none. */
  promised: number
  /** The peer lacks this node's witness list of its epoch (its last beat said so): the next beat carries it. */
  wantsList: boolean
  closed: boolean
  /** The peer's last beat said it means to name this node (`WitnessBeat.want`): the link is needed though no epoch names this node yet. */
  wanted: boolean
  /** Since when neither side has needed the link (monotonic), as far as this side knows. */
  unneeded?: number
  /** When this side made the link (monotonic). */
  since: number
}

/**
 * A link never heard counts as silent from this long after it was made (then the doubt
 * deadline runs): a peer that stood still before its first beat arrived (a member hung
 * as it joined) would otherwise never be doubted here, and if this witness's doubt is
 * needed for a majority of its group, never held down. Longer than the doubt deadline,
 * since the first connection of a link may wait behind many handshakes as a cluster starts.
 */
export const UNHEARD_GRACE_MS = 8_000

/** When a link's silence began, as its doubt deadline reads it (see {@link UNHEARD_GRACE_MS}). */
export function quietSince (link: Link): number {
  return link.lastHeard > -Infinity ? link.lastHeard : link.since + UNHEARD_GRACE_MS
}

/** A link as it starts at `now`: nothing heard, nothing sent, no doubt, no promise. */
export function newLink (now: number): Link {
  return { since: now, lastHeard: -Infinity, theirBeat: -1, echoedUntil: -Infinity, lastSent: -Infinity, lastDoubt: -Infinity, doubted: new Set(), promised: -1, wantsList: false, closed: false, wanted: false }
}

/**
 * Whether either side needs the link between `self` and `peer`, as far as `self` knows:
 * one of `lists` (its epoch's, those it proposed since, the one it means to name) names
 * the peer, or the peer names `self` in an epoch from its current one on (`news`).
 */
export function needsLink (self: string, peer: string, lists: ReadonlyArray<readonly string[]>, news: MemberNews | undefined): boolean {
  return lists.some(l => l.includes(peer)) || (news?.epochsNaming(self).length ?? 0) > 0
}

/**
 * Whether a message from a peer with no link here calls for one: either side needs it, the
 * peer is in an epoch unknown here (it may name `self` there), or it means to name `self`
 * (without an echo from here it would never propose that list). Otherwise it beats only
 * until it drops its own side: opening it again would have the two drop and reopen it in
 * turn for ever.
 */
export function callsForLink (self: string, peer: string, lists: ReadonlyArray<readonly string[]>, news: MemberNews | undefined, m: WitnessMessage): boolean {
  if (news === undefined || needsLink(self, peer, lists, news)) return true
  return m.t === 'beat' && (m.epoch > news.seq || m.propose !== undefined || m.want === true)
}
