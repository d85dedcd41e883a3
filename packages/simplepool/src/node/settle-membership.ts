/**
 * A joining node waits, before it takes work, until it knows the cluster: first until it
 * hears from some member at all (else its start fails: it never serves as a cluster of
 * one by mistake), then until it has heard from every member another member places
 * workers on (at most 3 s). A node that took work knowing only its bootstrap node would
 * activate workers that others still hold, instead of claiming them; and a member that
 * stood still for a moment as this node joined sent no record meanwhile, so a view that
 * holds still does not show it (a node hears of another only from that one's own records).
 * Members still joining, as this one is, hold no workers and need not be heard first. (A
 * wait for the member count to hold still, as there was, never ended while tens of nodes
 * joined at once, and held each join for its whole 5 s.)
 */
import type { Clock } from '@simplepool/core'
import { JoinTimeoutError, SETTLE_PEERS_MAX_MS, SETTLE_POLL_MS, sleep } from '@simplepool/core'
import { nodesOfFingerprint } from '@simplepool/ring'
import { namesSelf } from '@simplepool/mesh'
import type { MembershipSnapshot } from '@simplepool/core'

/** What {@link hearAnyMember} reads. */
export interface JoinComponents {
  clock: Clock
  /** True once this node has heard from another member, not marked down. */
  heardMember: () => boolean
  /** The bootstrap addresses it dials (not its own). */
  bootstrap: readonly string[]
  /** What dialling them met so far, one line per address and kind of failure (`ClusterKeyError: ...`). */
  failures: () => readonly string[]
  /** How long the join may take, from `since` (monotonic ms: when the start began, its dials included). */
  timeoutMs: number
  since: number
}

/**
 * Resolves once this node has heard from a member of the cluster it joins; rejects with
 * `JoinTimeoutError` once `timeoutMs` passed since `since` without one. Until then the
 * node is `joining`, on no ring: it serves nothing. A node cut off from every member as
 * it starts would be a cluster of one, and start afresh workers the cluster holds (seed
 * 15350 of the simulator); so would one with a wrong address or cluster key. Akka keeps
 * a node out of the cluster until a seed node answered it, for the same reason.
 */
export async function hearAnyMember (c: JoinComponents): Promise<void> {
  while (!c.heardMember()) {
    if (c.clock.monotonic() - c.since >= c.timeoutMs) {
      const failures = c.failures()
      throw new JoinTimeoutError(`heard from no member of the cluster within ${c.timeoutMs} ms through ${c.bootstrap.join(', ')}` +
        (failures.length > 0 ? `; dialling met ${failures.join('; ')}` : '; no dial failed, and no member\'s record came') +
        '. A node that starts a new cluster takes no bootstrap addresses', { bootstrap: c.bootstrap, failures })
    }
    await sleep(c.clock, SETTLE_POLL_MS)
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

/** What {@link joinCluster} reads of the node and asks of its members. */
export interface JoinClusterComponents {
  clock: Clock
  self: string
  /** This node's own addresses: a bootstrap list may name the node itself. */
  addresses: readonly string[]
  bootstrap: readonly string[]
  snapshot: () => MembershipSnapshot
  failures: () => readonly string[]
  /** As {@link JoinComponents}. */
  timeoutMs: number
  since: number
  /** The nodes a member places workers on, by the fingerprints of its rings. */
  ringsOf: (peerId: string) => Promise<Readonly<Record<string, string>>>
}

/**
 * The whole join of a node given bootstrap addresses: it hears some member (unless its
 * list names only itself: the first node of a cluster), then hears the members others
 * place workers on. Rejects `JoinTimeoutError` as {@link hearAnyMember}.
 */
export async function joinCluster (c: JoinClusterComponents): Promise<void> {
  const others = c.bootstrap.filter(a => !namesSelf(a, c.self, c.addresses))
  const alive = (): Array<MembershipSnapshot['members'][number]> => c.snapshot().members.filter(m => m.liveness !== 'down')
  // the first node of a static list: a cluster of one until others join it
  if (others.length === 0) return
  await hearAnyMember({
    clock: c.clock,
    // a member saying goodbye is no cluster to join; one still joining is (nodes of a
    // static list started together hear only each other's `joining` at first)
    heardMember: () => alive().some(m => m.peerId !== c.self && m.status !== 'leaving'),
    bootstrap: others,
    failures: c.failures,
    timeoutMs: c.timeoutMs,
    since: c.since
  })
  await hearPeersMembers({
    clock: c.clock,
    heard: () => new Set(alive().map(m => m.peerId)),
    askMembers: async () => {
      // any member that serves: its rings name whom the cluster places workers on
      const peer = alive().find(m => m.peerId !== c.self && m.status === 'up' && m.liveness === 'alive')
      return peer === undefined ? [] : nodesOfRings(await c.ringsOf(peer.peerId))
    }
  })
}
