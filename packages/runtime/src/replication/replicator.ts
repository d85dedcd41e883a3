import { InvalidMessageError, NodeUnavailableError, REPLICA_LINGER_MS, REPLICA_TIMEOUT_MS, REPLICA_WALK_PER_TURN, StaleWriteError, deferOf } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import { decode, encode } from 'cbor-x'
import { Phase } from '../activation/activation.js'
import type { Activation } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import type { Epochs } from '../fencing/epochs.js'
import type { PoolComponents } from '../activation/pool-components.js'
import { decodeReplicaGetAnswer, encodeReplicaDrop, encodeReplicaGet } from '../protocol/replica-messages.js'
import type { ReplicaDropMessage, ReplicaGetAnswer, ReplicaGetMessage, ReplicaPutAnswer, ReplicaPutMessage } from '../protocol/replica-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'
import { dropUnsaved } from '../activation/write-through.js'
import { chainOf, successorsIn } from './chain.js'
import { ReplicaOutbox } from './replica-outbox.js'
import { ReplicaStarts } from './replica-starts.js'
import { ReplicaStore } from './replica-store.js'
import type { Replica } from './replica-store.js'

/** What replication needs of the node. */
export interface ReplicatorComponents {
  readonly clock: Clock
  readonly logger: Logger
  readonly transport: RuntimeTransport
  self: () => string
  placement: () => Placement | undefined
  pool: (name: string) => LocalPool | undefined
  pools: () => Iterable<LocalPool>
  /** True when this node's view marked the peer down (or knows it not). */
  down: (peer: string) => boolean
  /** True while the ring of `pool` moved lately (the claim window): replicas may be off their chain. */
  ringMovedLately: (pool: string, id: string) => boolean
  /** True while the node runs: it starts workers from replicas only then. */
  running: () => boolean
  /** This node's epochs: raised past one heard of (a replica's), so that a copy started here from it outranks it; a replica past what the clock allows (`plausible`) is not kept. */
  epochs: Pick<Epochs, 'observe' | 'plausible'>
  /** Replicas and live workers looked at per turn after a ring change. @default REPLICA_WALK_PER_TURN */
  walkPerTurn?: number
}

/**
 * Replicas of workers' state on the nodes that follow their owner on the pool's ring
 * (`PoolDefinition.replicas`). The owner side: after each turn that ran, the state goes
 * to the successors (`afterTurn`; with `replication: 'sync'` the turn's reply waits for
 * their acknowledgements); a worker passivated or stopped has its replicas dropped; a
 * new ring sends each live worker's state to successors it did not have. The holder
 * side: replicas kept as bytes in a {@link ReplicaStore}, dropped once this node is no
 * successor of the worker's owner, and taken (`take`) by an activation here when this
 * node owns the worker now (its owner is gone): the worker comes back with the state of
 * its last replicated turn, no `init` (see `loadThenInit` for a pool with a store).
 *
 * A successor that holds a newer copy (a live activation or a replica with a higher
 * epoch) refuses a put with that epoch: the owner's copy is stale (it was marked down
 * and the successor took over), and the turn fails with `StaleWriteError`, which drops it.
 */
export class Replicator {
  readonly store = new ReplicaStore()
  /** Replicas a successor did not acknowledge (down, cut off, too slow): each failed its turn's call, or went to the next successor. */
  missed = 0
  private readonly c: ReplicatorComponents
  private readonly outbox: ReplicaOutbox
  /** Per pool, the replicas kept here that are no successor's any more, and since when (see REPLICA_LINGER_MS). */
  private readonly out = new Map<string, Map<string, number>>()
  /**
   * Per pool, the replicas this node keeps of workers it owns but does not run, and the
   * node that sent each: a node handing the worker over (it drains, say) replicates to its
   * new owner until the handoff lands. Should that node be lost first, the owner starts
   * the worker from its replica (see {@link senderLost}); no ring change would tell it to.
   */
  private readonly awaiting = new Map<string, Map<string, string>>()
  /** Workers to start from their replicas here (their owner is gone), a few at a time. */
  private readonly starts: ReplicaStarts
  /** Workers whose state a successor did not acknowledge as they followed the ring: sent again on the next sweep. */
  private readonly refollow = new Map<Activation, LocalPool>()
  /** The walk of the latest ring change, while it goes on (see {@link ringChanged}), and whether its next go is due. */
  private walk: Generator<void> | undefined
  private walking = false
  /** Workers this node owns now that the walk found replicas of, started as each go ends. */
  private readonly promote: Array<[LocalPool, string]> = []

  constructor (components: ReplicatorComponents) {
    this.c = components
    this.outbox = new ReplicaOutbox(components.transport, () => { this.missed++ })
    this.starts = new ReplicaStarts({ ...components, due: (pool, id) => this.store.has(pool, id) && this.ownsHere(pool, id) })
  }

  /** Replicas this node keeps for workers owned elsewhere, their bytes of state, and puts its successors missed. */
  get figures (): { replicas: number, bytes: number, missed: number } {
    return { ...this.store.figures, missed: this.missed }
  }

  /** Whether this node owns `pool`/`id` on its ring (the head of its chain, without the successors' lookups). */
  private ownsHere (pool: string, id: string): boolean {
    return this.c.placement()?.ring(pool)?.ownerOf(id) === this.c.self()
  }

  /** The worker's owner and the `n` nodes after it on this node's ring (see {@link chainOf}). */
  chain (pool: string, id: string, n: number): string[] {
    return chainOf(this.c.placement(), pool, id, n)
  }

  /** Where this node sends `pool`/`id`'s replicas (see {@link successorsIn}). */
  successors (pool: string, id: string, n: number): string[] {
    return successorsIn(this.chain(pool, id, n), this.c.self(), n)
  }

  /**
   * After a turn of `act` that ran: its state goes to its successors, and this settles
   * once each acknowledged it. A successor that holds a newer copy rejects it with
   * `StaleWriteError` (this copy is stale). One that cannot be reached fails the turn's
   * call with `NodeUnavailableError`, unless this node's view has marked it down (or the
   * ring moved): then the state goes to the successors of the view as it is now, once
   * more. A reply is never released on a replica not acknowledged: a successor that did
   * not take it may be the node that starts the worker from its replica.
   */
  async afterTurn (local: LocalPool, act: Activation): Promise<void> {
    const n = local.def.replicas ?? 0
    if (n <= 0) return
    const track = act.replica()
    const item = { id: act.id, epoch: act.epoch, seq: ++track.seq, bytes: this.bytesOf(local, act) }
    const acked = new Set<string>()
    for (let attempt = 0; ; attempt++) {
      const placed = this.c.placement()
      const to = this.successors(local.name, act.id, n)
      track.to = to
      const pending = to.filter(peer => !acked.has(peer))
      if (pending.length === 0) return
      const answers = pending.length === 1
        ? [await this.outbox.put(pending[0], local.name, item)]
        : await Promise.all(pending.map(async (peer) => await this.outbox.put(peer, local.name, item)))
      let unreached: [string, Error] | undefined
      for (let i = 0; i < answers.length; i++) {
        const a = answers[i]
        if (a === true) acked.add(pending[i])
        else if (typeof a === 'number') {
          if (a > act.epoch) {
            // the next copy started here must outrank the one that refused this
            this.c.epochs.observe(a)
            throw new StaleWriteError(`${local.name}/${act.id}: node ${pending[i]} holds a newer copy (epoch ${a} above ${act.epoch}); this one is stale`, { pool: local.name, id: act.id, epoch: act.epoch, stored: a })
          }
          unreached ??= [pending[i], new InvalidMessageError(`node ${pending[i]} refused a replica put for epoch ${a}, not above this copy's ${act.epoch}`)]
        } else unreached ??= [pending[i], a]
      }
      const had = track.heldBy ?? []
      track.heldBy = [...had, ...[...acked].filter(p => !had.includes(p))]
      // all acknowledged: if the ring moved while they answered (a worker mid-turn does not
      // follow it), the successors are looked at once more (seed 3079)
      if (unreached === undefined) {
        if (this.c.placement() === placed) return
        continue
      }
      const [peer, err] = unreached
      const moved = !this.successors(local.name, act.id, n).includes(peer) || this.c.down(peer)
      if (!moved || attempt >= 2) {
        // those that did not acknowledge it do not hold this state, the one named or any
        // other (seed 9008 with --replicas 2 --partitions: two successors cut off at once,
        // and the second was never sent it again): the next sweep sends it there again (an
        // idle worker sends nothing else)
        track.to = track.to?.filter(p => acked.has(p)) ?? null
        this.refollow.set(act, local)
        throw new NodeUnavailableError(`the replica of ${local.name}/${act.id} on node ${peer} was not acknowledged (${err.message}); the call's effect may be kept or not: retry`, { node: peer, pool: local.name, id: act.id })
      }
    }
  }

  /** `act` left this node for good (passivated, stopped): its successors drop its replicas. */
  dropReplicas (local: LocalPool, act: Activation): void {
    const to = act.rep?.to
    if (to != null && to.length > 0) this.castDrop(local.name, act, to)
  }

  /**
   * A new ring: replicas this node is no successor of any more are passed on and linger
   * (see {@link passOn}); those of workers it owns now start (unless their sender still
   * runs them: see {@link senderLost}); each live worker of a replicated
   * pool whose successors changed sends them its state, and tells those left out. Walked
   * `REPLICA_WALK_PER_TURN` at a time, one go per turn of the event loop (the first at
   * once), each by the ring as it is then; a newer ring starts the walk again.
   */
  ringChanged (): void {
    this.walk = this.walkRing()
    this.step()
  }

  private step (): void {
    const walk = this.walk
    if (walk === undefined) return
    let done = false
    for (let i = 0, n = this.c.walkPerTurn ?? REPLICA_WALK_PER_TURN; i < n && !done; i++) done = walk.next().done === true
    if (done && this.walk === walk) this.walk = undefined
    this.startPromoted()
    if (this.walk !== undefined && !this.walking) {
      this.walking = true
      deferOf(this.c.clock)(() => { this.walking = false; this.step() })
    }
  }

  /**
   * This node owns workers it kept replicas of: their owner is gone or leaving. Started
   * now, they claim from the nodes that held them first (a handoff under way wins), then
   * take the replica; then their state goes to their successors of this ring.
   */
  private startPromoted (): void {
    const promote = this.promote.splice(0)
    if (promote.length > 0 && this.c.running()) this.start(promote)
  }

  /** The walk of {@link ringChanged}: yields before each replica and live worker it looks at. */
  private * walkRing (): Generator<void> {
    const self = this.c.self()
    const now = this.c.clock.monotonic()
    for (const pool of [...this.store.poolNames()]) {
      for (const id of [...this.store.idsOf(pool)]) {
        yield
        // dropped or taken since the walk began
        const r = this.store.get(pool, id)
        if (r === undefined) continue
        const local = this.c.pool(pool)
        const n = local?.def.replicas ?? 0
        const chain = n > 0 ? this.chain(pool, id, n) : []
        if (local === undefined || n <= 0) this.drop(pool, id)
        else if (chain.includes(self)) {
          forget(this.out, pool, id)
          // owned here now, unless a node that runs it (handing it over, or holding it spilled)
          // sends its puts and is not down: that node hands it over, or keeps it (see senderLost)
          const sender = this.awaiting.get(pool)?.get(id)
          if (chain[0] === self && (sender === undefined || this.c.down(sender))) this.promote.push([local, id])
        } else this.passOn(pool, id, r, chain, now)
      }
    }
    this.startPromoted()
    for (const local of [...this.c.pools()]) {
      if ((local.def.replicas ?? 0) <= 0) continue
      for (const act of [...local.activations.values()]) {
        yield
        // one mid-turn holds half a turn's state: it replicates as its turn ends, and follows the
        // ring at the first sweep after (a turn that changes nothing puts nothing: seed 7202 with
        // witness membership and replicas, a slow turn across a join as the traffic ended)
        try {
          this.followOrLater(local, act)
        } catch (err) {
          // its state did not encode (a `snapshot` that throws): its next turn fails the same way
          this.c.logger.warn(`${local.name}/${act.id} did not follow the ring: ${(err as Error).message}`)
        }
      }
    }
    this.senderLost()
  }

  /**
   * Sends `act`'s state to successors that do not have it yet (a new ring, a worker taken
   * in by handoff or started from a replica). Those left out are told to drop theirs once
   * every new one acknowledged it: until then theirs may be the only replica. A put not
   * acknowledged is tried again on the next sweep (an idle worker sends nothing else).
   */
  follow (local: LocalPool, act: Activation, n = local.def.replicas ?? 0): void {
    if (n <= 0) return
    const to = this.successors(local.name, act.id, n)
    const track = act.replica()
    const before = track.to ?? []
    const held = track.heldBy ?? []
    // new successors, and any named that has not acknowledged it yet (a turn's put to it may
    // be in flight while the walk reaches it): those left out drop theirs only once these hold it
    const added = to.filter(p => !before.includes(p) || !held.includes(p))
    // left out: those it went to, and those that acknowledged it (one a put failed since is not in `to`)
    const left = [...new Set([...before, ...held])].filter(p => !to.includes(p))
    // those it was sent to, that hold it, and are still successors; the others join as they
    // acknowledge it (one that does not is not counted as holding it: the sweep sends it again, seed 7040)
    track.to = to.filter(p => !added.includes(p))
    if (added.length === 0) {
      if (left.length > 0) this.castDrop(local.name, act, left, track.seq)
      return
    }
    const item = { id: act.id, epoch: act.epoch, seq: ++track.seq, bytes: this.bytesOf(local, act) }
    void Promise.all(added.map(async (peer) => await this.outbox.put(peer, local.name, item))).then((outcomes) => {
      const newer = outcomes.find((o): o is number => typeof o === 'number' && o > item.epoch)
      if (newer !== undefined) {
        // a newer copy of it lives on: this one is stale, and goes unsaved
        this.c.epochs.observe(newer)
        if (act.epoch === item.epoch) dropUnsaved(local, act, new StaleWriteError(`${local.name}/${act.id}: a successor holds a newer copy (epoch ${newer} above ${item.epoch}); this one is stale`, { pool: local.name, id: act.id, epoch: item.epoch, stored: newer }))
        return
      }
      if (act.epoch !== item.epoch || act.phase === Phase.Dead) return
      // those that took it and are still its successors hold it now
      const now = this.successors(local.name, act.id, n)
      const took = added.filter((p, i) => outcomes[i] === true && now.includes(p))
      const had = track.to ?? []
      track.to = [...had, ...took.filter(p => !had.includes(p))]
      track.heldBy = [...(track.heldBy ?? []).filter(p => !took.includes(p)), ...took]
      if (took.length < added.length) {
        this.refollow.set(act, local)
        return
      }
      // every new one holds it: those left out drop theirs, but not those the ring named
      // again meanwhile (a put since has a higher count, kept all the same)
      const gone = left.filter(p => !track.to?.includes(p))
      if (gone.length > 0) this.castDrop(local.name, act, gone, item.seq)
    })
  }

  /** Tells `to` to drop `act`'s replica, unless one put after its `seq`-th (a ring that named them again) reached them. */
  private castDrop (pool: string, act: Activation, to: readonly string[], seq = act.rep?.seq ?? 0): void {
    const track = act.rep
    if (track?.heldBy != null) track.heldBy = track.heldBy.filter(p => !to.includes(p))
    const payload = encodeReplicaDrop(pool, [{ id: act.id, epoch: act.epoch, seq }])
    for (const peer of to) this.outbox.drop(peer, payload)
  }

  /**
   * The freshest replica of `pool`/`id` (highest epoch, then put count): the one kept
   * here, or, while the ring moved lately, one a node of the worker's chain on this ring
   * keeps (views move one node at a time: the replica may be on a successor of the owner
   * this node just took over from, not here). Undefined when none has one: the worker is
   * new, or every copy of it was lost.
   */
  async take (local: LocalPool, id: string): Promise<{ state: unknown, epoch: number } | undefined> {
    const n = local.def.replicas ?? 0
    // with the ring still for a while, the replicas are where this ring puts them, and a worker with none here is new (or passivated: its replicas went): nobody is asked
    const asked = this.c.ringMovedLately(local.name, id) ? this.chain(local.name, id, n).filter(peer => peer !== this.c.self()) : []
    const payload = encodeReplicaGet(local.name, id)
    // an answer that does not come, or does not decode, is no replica: the others may hold one
    const answers = await Promise.all(asked.map(async (peer) => await this.c.transport.call(peer, payload, { timeoutMs: REPLICA_TIMEOUT_MS })
      .then(decodeReplicaGetAnswer).catch(() => null)))
    let best: Replica | undefined = this.store.get(local.name, id)
    // one more than a day past this node's clock is no replica to start from (see Epochs.plausible)
    for (const a of answers) {
      if (a !== null && this.c.epochs.plausible(a[0]) && (best === undefined || a[0] > best.epoch || (a[0] === best.epoch && a[1] > best.seq))) best = { epoch: a[0], seq: a[1], bytes: a[2] }
    }
    if (best === undefined) return undefined
    this.c.epochs.observe(best.epoch)
    // the one kept here stays until the activation is ready (see poolHooks' replicaReady):
    // a start that fails (its load, its restore) finds it again next time
    return { state: this.stateOf(local, best.bytes), epoch: best.epoch }
  }

  private stateOf (local: LocalPool | undefined, bytes: Uint8Array): unknown {
    const portable = decode(bytes)
    return local?.def.restore !== undefined ? local.def.restore(portable) : portable
  }

  /** The replica of `pool`/`id` kept here, decoded, left in place. */
  peek (pool: string, id: string): { epoch: number, state: unknown } | undefined {
    const r = this.store.get(pool, id)
    return r === undefined ? undefined : { epoch: r.epoch, state: this.stateOf(this.c.pool(pool), r.bytes) }
  }

  /**
   * The nodes that acknowledged a replica of `pool`/`id`, live here, and were not told to
   * drop it since (successors of this ring or one before, which keep it a while, see
   * REPLICA_LINGER_MS); undefined when it is not live here. Every acknowledged turn of it
   * is on each of its successors of that moment: a loss of this node loses none of them
   * while one of these holds it. For checks and tools.
   */
  holders (pool: string, id: string): readonly string[] | undefined {
    const act = this.c.pool(pool)?.activations.get(id)
    return act === undefined || act.phase === Phase.Dead ? undefined : act.rep?.heldBy ?? []
  }

  /** A node that starts the worker asks for the replica kept here, if any. */
  onGet (m: ReplicaGetMessage): ReplicaGetAnswer {
    const r = this.store.get(m.pool, m.id)
    return r === undefined ? null : [r.epoch, r.seq, r.bytes]
  }

  /** A worker between turns follows the ring now; one mid-turn or activating, at the next sweep. */
  private followOrLater (local: LocalPool, act: Activation): void {
    if (act.phase === Phase.Ready) this.follow(local, act)
    else if (act.phase === Phase.Busy || act.phase === Phase.Activating) this.refollow.set(act, local)
  }

  /** Every second: sends again the puts a successor did not acknowledge as a worker followed the ring, and drops the replicas that lingered past REPLICA_LINGER_MS since this node stopped being their successor. */
  sweep (): void {
    this.outbox.retry()
    const retry = [...this.refollow]
    this.refollow.clear()
    for (const [act, local] of retry) this.followOrLater(local, act)
    const now = this.c.clock.monotonic()
    for (const [pool, since] of this.out) {
      for (const [id, at] of since) if (now - at >= REPLICA_LINGER_MS) this.drop(pool, id)
    }
  }

  private drop (pool: string, id: string): void {
    this.store.drop(pool, id)
    forget(this.out, pool, id)
    forget(this.awaiting, pool, id)
  }

  /** A put from `from`, the node that runs these workers: each kept unless a newer copy is known here. */
  onPut (m: ReplicaPutMessage, from: string): ReplicaPutAnswer {
    const local = this.c.pool(m.pool)
    const n = local?.def.replicas ?? 0
    return m.items.map((item) => {
      // a pool this node does not replicate: no successor of anyone's here
      if (item instanceof Error || local === undefined || n <= 0 || !this.c.epochs.plausible(item.epoch)) return -1
      // a copy live here outranks an older owner's, and so does one starting from its replica
      // or its store (a put kept now would be lost: it reads no more of it); one claiming
      // from that owner does not: it is no copy yet, and the replica is what it may start from
      const live = local.activations.get(item.id)
      const copy = live !== undefined && live.phase !== Phase.Dead && (live.phase !== Phase.Activating || live.ext?.claiming !== true)
      const answer = this.store.put(m.pool, item, copy ? live.epoch : undefined)
      if (answer === true) {
        this.c.epochs.observe(item.epoch)
        if (!copy && this.ownsHere(m.pool, item.id)) {
          let senders = this.awaiting.get(m.pool)
          if (senders === undefined) this.awaiting.set(m.pool, senders = new Map())
          senders.set(item.id, from)
        }
      }
      return answer
    })
  }

  /**
   * A replica this node is no successor of: it goes to the nodes of its chain, in case its
   * owner cannot send them its state (it stands still, or is cut off); the owner too, which
   * may be a new one that has to start it from there (seed 62 with --replicas 1); each
   * keeps the newer. This node keeps its own for REPLICA_LINGER_MS (see sweep), and passes
   * it on again on each ring change meanwhile: a chain left with no node (its owner lost,
   * its successor left the pool) may get one back (seed 3216).
   */
  private passOn (pool: string, id: string, r: Replica, chain: readonly string[], now: number): void {
    for (const peer of chain) this.outbox.send(peer, pool, { id, epoch: r.epoch, seq: r.seq, bytes: r.bytes })
    let since = this.out.get(pool)
    if (since === undefined) this.out.set(pool, since = new Map())
    if (!since.has(id)) since.set(id, now)
  }

  /**
   * A copy the fence drops unsaved (this node was marked down) stays as a replica here, at
   * its epoch, one put past its last: should its successors, which may lag it, be lost too
   * (seed 3073 with --replicas 1: the owner and its only successor stood still one after
   * the other, and the worker started again from nothing), it starts from here; a newer
   * copy outranks it wherever they meet. Kept as the replicas this node is no successor of
   * are, when it is none. A turn under way is not kept: its state may be half made. (The
   * fence keeps only copies from before the stall: see `Fence`.)
   */
  keepFenced (local: LocalPool, act: Activation): void {
    const n = local.def.replicas ?? 0
    if (n <= 0 || act.phase !== Phase.Ready) return
    const item = { id: act.id, epoch: act.epoch, seq: ++act.replica().seq, bytes: this.bytesOf(local, act) }
    if (this.store.put(local.name, item, undefined) !== true) return
    const chain = this.chain(local.name, act.id, n)
    if (!chain.includes(this.c.self())) this.passOn(local.name, act.id, item, chain, this.c.clock.monotonic())
  }

  /**
   * The view moved: workers this node owns, and keeps a replica of, whose sender it now
   * marked down start here from that replica (claiming first, as any start on a moved
   * ring does). The sender was handing them over (seed 1217 with --replicas 1: a draining
   * node killed before its handoff landed, on a ring its death did not change).
   */
  senderLost (): void {
    if (this.awaiting.size === 0 || !this.c.running()) return
    const start: Array<[LocalPool, string]> = []
    for (const [pool, senders] of [...this.awaiting]) {
      const local = this.c.pool(pool)
      for (const [id, from] of [...senders]) {
        if (local === undefined || (local.def.replicas ?? 0) <= 0 || !this.ownsHere(pool, id)) forget(this.awaiting, pool, id)
        else if (this.c.down(from)) start.push([local, id])
      }
    }
    this.start(start)
  }

  /** Starts these workers from their replicas, paced (see {@link ReplicaStarts}). */
  private start (workers: ReadonlyArray<[LocalPool, string]>): void {
    for (const w of workers) forget(this.awaiting, w[0].name, w[1])
    this.starts.add(workers)
  }

  /** A drop from the owner: its replicas go, unless newer ones were put since. */
  onDrop (m: ReplicaDropMessage): void {
    for (const item of m.items) if (this.store.drop(m.pool, item.id, item.epoch, item.seq)) this.drop(m.pool, item.id)
  }

  /** What the pools need of replication (see `PoolComponents`). */
  poolHooks (): Pick<PoolComponents, 'replicate' | 'takeReplica' | 'replicaReady' | 'dropReplicas'> {
    const local = (name: string): LocalPool => this.c.pool(name) as LocalPool
    return {
      replicate: async (pool, act) => { await this.afterTurn(local(pool), act) },
      takeReplica: async (pool, id) => await this.take(local(pool), id),
      replicaReady: (pool, act) => {
        this.drop(pool, act.id)
        this.follow(local(pool), act)
      },
      dropReplicas: (pool, act) => { this.dropReplicas(local(pool), act) }
    }
  }

  private bytesOf (local: LocalPool, act: Activation): Uint8Array {
    return encode(local.def.snapshot !== undefined ? local.def.snapshot(act.state) : act.state)
  }
}

/** Deletes `id` from `pool`'s map in `maps`, and the map once empty. */
function forget<T> (maps: Map<string, Map<string, T>>, pool: string, id: string): void {
  const of = maps.get(pool)
  if (of?.delete(id) === true && of.size === 0) maps.delete(pool)
}
