/**
 * A joining node waits, before it takes work, until it knows the cluster: until no new
 * member has appeared for two heartbeats (at most 5 s), and then until it has heard from
 * every member another member places workers on (at most 3 s more). A node that took
 * work knowing only its bootstrap node would activate workers that others still hold,
 * instead of claiming them; and a member that stood still for a moment as this node
 * joined sent no record meanwhile, so the quiet alone does not show it (a node hears of
 * another only from that one's own records).
 */
import type { Clock } from '@simplepool/core'
import { SETTLE_MAX_MS, SETTLE_PEERS_MAX_MS, SETTLE_POLL_MS, SETTLE_QUIET_MS, sleep } from '@simplepool/core'
import { nodesOfFingerprint } from '@simplepool/ring'

/** What the wait reads: the clock it polls on, and how many members the view has now. */
export interface SettleComponents {
  clock: Clock
  memberCount: () => number
}

/** Resolves once the member count has held still for {@link SETTLE_QUIET_MS} with another member in view, or after {@link SETTLE_MAX_MS}. */
export async function settleMembership (c: SettleComponents): Promise<void> {
  const { clock } = c
  const started = clock.monotonic()
  let members = c.memberCount()
  let changedAt = started
  while (clock.monotonic() - started < SETTLE_MAX_MS) {
    await sleep(clock, SETTLE_POLL_MS)
    const now = c.memberCount()
    if (now !== members) {
      members = now
      changedAt = clock.monotonic()
    } else if (members > 1 && clock.monotonic() - changedAt >= SETTLE_QUIET_MS) {
      return
    }
  }
}

/** The nodes named by ring fingerprints, by pool (see `RingsView`): each once. */
export function nodesOfRings (rings: Readonly<Record<string, string>>): string[] {
  return [...new Set(Object.values(rings).flatMap(nodesOfFingerprint))]
}

/** What {@link hearPeersMembers} reads and asks. */
export interface PeersMembersComponents {
  clock: Clock
  /** Members this node has heard from and believes alive or suspect. */
  heard: () => ReadonlySet<string>
  /** The members another member places workers on (its rings' nodes); rejects when it cannot tell. */
  askMembers: () => Promise<readonly string[]>
}

/**
 * Resolves once this node has heard from every member another one places workers on, or
 * after {@link SETTLE_PEERS_MAX_MS}; at once when it cannot ask (the answer is a hint, not
 * a condition to start).
 */
export async function hearPeersMembers (c: PeersMembersComponents): Promise<void> {
  const started = c.clock.monotonic()
  let wanted: readonly string[]
  try {
    wanted = await c.askMembers()
  } catch {
    return
  }
  while (c.clock.monotonic() - started < SETTLE_PEERS_MAX_MS) {
    const heard = c.heard()
    if (wanted.every(peer => heard.has(peer))) return
    await sleep(c.clock, SETTLE_POLL_MS)
  }
}
