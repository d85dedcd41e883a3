/**
 * A joining node waits, before it takes work, until it knows the cluster: first until it
 * hears from some member at all (else its start fails: it never serves as a cluster of
 * one by mistake), then until it has heard from every member that may hold workers, as
 * members that may hold workers themselves tell it (at most 3 s). A node that took work
 * knowing only its bootstrap node would activate workers that others still hold, instead
 * of claiming them; and a member that stood still for a moment as this node joined sent no
 * record meanwhile, so a view that holds still does not show it (a node hears of another
 * only from that one's own records). Members still joining, as this one is, hold no
 * workers and are not waited for: a ring change brings them in as they announce `up`, as
 * it does for any node that joins later.
 */
import type { Clock } from '@simplepool/core'
import { JoinTimeoutError, SETTLE_PEERS_MAX_MS, SETTLE_POLL_MS, sleep } from '@simplepool/core'
import { nodesOfFingerprint } from '@simplepool/ring'
import { namesSelf } from '@simplepool/mesh'
import type { MembershipSnapshot } from '@simplepool/core'
import type { NodeMesh } from './node-parts.js'

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

/** What {@link hearHolders} reads and asks. */
export interface HoldersComponents {
  clock: Clock
  self: string
  /** The members of this node's view that are not down. */
  alive: () => ReadonlyArray<MembershipSnapshot['members'][number]>
  /** The nodes a member places workers on, by the fingerprints of its rings: asked of a member that knows no holders question. */
  ringsOf: (peerId: string) => Promise<Readonly<Record<string, string>>>
  /** The members a member sees `up` or `draining` and not down: those that may hold workers (a draining node is on no ring). */
  holdersOf: (peerId: string) => Promise<readonly string[]>
}

/** Members asked who may hold workers: a second, in case the first is new itself and knows little yet. */
const ASKED = 2

/**
 * Resolves once this node has heard from every member that may hold workers, as up to
 * two members that may hold workers themselves (`up` or `draining`) tell it, or
 * {@link SETTLE_PEERS_MAX_MS} after their answers. It waits as long for such a member
 * to ask: the first member a node hears may be one joining as it is (of a hundred started
 * at once), which knows of no holder yet. A member that cannot answer is a hint lost, not
 * a reason not to start; with none to ask in that time (every node starts now), nobody
 * holds workers.
 */
export async function hearHolders (c: HoldersComponents): Promise<void> {
  let started = c.clock.monotonic()
  const timeLeft = (): boolean => c.clock.monotonic() - started < SETTLE_PEERS_MAX_MS
  const askable = (): string[] => c.alive().filter(m => m.peerId !== c.self && m.liveness === 'alive' && (m.status === 'up' || m.status === 'draining')).map(m => m.peerId)
  let asked = askable()
  while (asked.length === 0 && timeLeft()) {
    await sleep(c.clock, SETTLE_POLL_MS)
    asked = askable()
  }
  const wanted = new Set<string>()
  let answered = asked.length === 0
  await Promise.all(asked.slice(0, ASKED).map(async (peer) => {
    // the holders hold every node its rings name (up and not down) and the draining ones;
    // a member of an older version knows no holders question: its rings still name who serves
    const holders = await c.holdersOf(peer).catch(async () => await c.ringsOf(peer).then(nodesOfRings)).catch(() => undefined)
    if (holders !== undefined) answered = true
    for (const p of holders ?? []) if (p !== c.self) wanted.add(p)
  }))
  // the wait for the holders named has its own time: an answer may come late. With no
  // answer at all, that time is the view's to fill as records come
  started = c.clock.monotonic()
  while (timeLeft()) {
    const heard = new Set(c.alive().map(m => m.peerId))
    if (answered && [...wanted].every(p => heard.has(p))) return
    await sleep(c.clock, SETTLE_POLL_MS)
  }
}

/** What {@link joinCluster} reads of the node and asks of its members. */
export interface JoinClusterComponents {
  clock: Clock
  /** This node's membership: its id and addresses (a bootstrap list may name the node itself) and its view. */
  mesh: Pick<NodeMesh, 'peerId' | 'addresses' | 'snapshot' | 'lease'>
  bootstrap: readonly string[]
  failures: () => readonly string[]
  /** As {@link JoinComponents}. */
  timeoutMs: number
  since: number
  ringsOf: HoldersComponents['ringsOf']
  holdersOf: HoldersComponents['holdersOf']
}

/**
 * The whole join of a node given bootstrap addresses: it hears some member (unless its
 * list names only itself: the first node of a cluster), then hears the members that may
 * hold workers. Rejects `JoinTimeoutError` as {@link hearAnyMember}.
 */
export async function joinCluster (c: JoinClusterComponents): Promise<void> {
  const self = c.mesh.peerId
  const others = c.bootstrap.filter(a => !namesSelf(a, self, c.mesh.addresses))
  const alive = (): Array<MembershipSnapshot['members'][number]> => c.mesh.snapshot().members.filter(m => m.liveness !== 'down')
  // the first node of a static list: a cluster of one until others join it
  if (others.length === 0) return
  await hearAnyMember({
    clock: c.clock,
    // a member saying goodbye is no cluster to join; one still joining is (nodes of a
    // static list started together hear only each other's `joining` at first)
    heardMember: () => alive().some(m => m.peerId !== self && m.status !== 'leaving'),
    bootstrap: others,
    failures: c.failures,
    timeoutMs: c.timeoutMs,
    since: c.since
  })
  await hearHolders({ clock: c.clock, self, alive, ringsOf: c.ringsOf, holdersOf: c.holdersOf })
  // a membership that keeps its own lease: `up` once its witnesses echo it, or it would
  // fence at once, and refuse what its first ring change sends it (the replicas the owners
  // put on it: seed 7202 of the simulator with witness membership and replicas, a witness
  // paused as it joined). Not a join's failure when they stay slow past the join's
  // deadline: the lease fences then
  const lease = c.mesh.lease
  while (lease !== undefined && !lease.ready() && c.clock.monotonic() - c.since < c.timeoutMs) await sleep(c.clock, SETTLE_POLL_MS)
}
