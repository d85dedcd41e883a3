import { HandoffError, InvalidMessageError, UnknownPoolError, toWireError } from '@simplepool/core'
import { Phase } from '../activation/activation.js'
import type { Activation } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import { moveMailbox } from '../activation/mailbox.js'
import type { WorkerEvents } from '../events.js'
import type { HandoffAnswer, HandoffMessage } from '../protocol/handoff-messages.js'

/** What taking workers in needs of the node. */
export interface HandoffReceiverComponents {
  readonly events: WorkerEvents
  self: () => string
  pool: (name: string) => LocalPool | undefined
  /** A number larger than every epoch this node handed out or heard of before, and than `above`. */
  nextEpoch: (above: number) => number
  /** An epoch a worker has here now: this node's next activations must start above it. */
  observeEpoch: (epoch: number) => void
  /** Whether an epoch from another node is not past what this node's clock allows (see `Epochs.plausible`). */
  plausibleEpoch: (epoch: number) => boolean
  /** Worker `id` of `pool` is live here now: a pointer to where it spilled is wrong. */
  forgetSpill: (pool: string, id: string) => void
  /** A worker was taken in (and is ready): one this node does not own in its view goes on to its owner. */
  taken?: (local: LocalPool, act: Activation) => void
}

/**
 * The receiving side of the handoff: workers another node handed over are activated here
 * from their state (not from `load` or `init`) with an epoch above the one they had there
 * (see {@link HandoffReceiver.take} for which). An activation waiting on a claim for the worker is filled; an older copy here
 * (this node was cut off while the worker lived on elsewhere) is stale and goes unsaved;
 * a copy as new or newer refuses the handoff, so a worker never has two copies on one node.
 */
export class HandoffReceiver {
  private readonly c: HandoffReceiverComponents
  /**
   * Workers handed here lately, per pool, with the epoch they had on the sender, in two
   * generations (this one and the last): a handoff sent again because its answer was lost
   * is answered from here rather than taken twice.
   */
  private taken = new Map<string, { now: Map<string, number>, before: Map<string, number> }>()

  constructor (components: HandoffReceiverComponents) {
    this.c = components
  }

  /** A handoff message from `from`: per worker, its new epoch here or the error that refused it. */
  receive (m: HandoffMessage, from: string): HandoffAnswer {
    const local = this.c.pool(m.pool)
    if (local === undefined) throw new UnknownPoolError(`node ${this.c.self()} does not run pool ${m.pool}`, { pool: m.pool })
    return m.workers.map((w) => {
      // one worker refused (already live here, a bad id) does not fail the others
      if (w instanceof Error) return toWireError(w)
      try {
        return this.take(local, w.id, w.snapshot, from, w.epoch, m.again === true).epoch
      } catch (err) {
        return toWireError(err)
      }
    })
  }

  /**
   * Takes in worker `id`, handed over by `from` where it had `previousEpoch`; see the class.
   * `again`: the message is a resend (the first went unanswered).
   */
  take (local: LocalPool, id: string, snapshot: unknown, from: string, previousEpoch: number, again = false): Activation {
    if (!this.c.plausibleEpoch(previousEpoch)) throw new InvalidMessageError(`${local.name}/${id} came with epoch ${previousEpoch}, more than a day past ${local.self}'s clock: not taken`, { pool: local.name, id })
    let act = local.activations.get(id)
    const lately = act === undefined ? this.takenLately(local.name, id) : undefined
    if (lately === previousEpoch) {
      // the same handoff again (its answer was lost): it came already, and what it became
      // here may have moved on since; taking the old state again would undo that
      throw new HandoffError(`${local.name}/${id} was handed here already`, { pool: local.name, id, epoch: previousEpoch + 1, again: true })
    }
    const claiming = act !== undefined && act.phase === Phase.Activating && act.ext?.claiming === true
    if (again && (act === undefined || claiming)) {
      // A resend this node does not remember: either the first never came, or it came
      // longer ago than this node remembers (a resend held up by a cut or a stall, seed
      // 14255), and what this node made of it since (turns written to the store, then
      // dropped when it was marked down) is newer than this state. Not knowing which, it
      // takes nothing: the sender settles the worker as if unanswered.
      throw new HandoffError(`${local.name}/${id} was handed again, and ${local.self} does not remember taking it: not taken, it may be stale`, { pool: local.name, id, forgotten: true })
    }
    if (act !== undefined && !claiming) {
      // fencing: the newer epoch wins. A copy here that is older than the one handed over
      // is stale: it goes, unsaved, and what waited in its mailbox runs on the copy that came in
      if (act.epoch >= previousEpoch) {
        throw new HandoffError(`${local.name}/${id} is already live on ${local.self} with epoch ${act.epoch}`, { pool: local.name, id, epoch: act.epoch })
      }
      if (act.phase !== Phase.Ready && act.phase !== Phase.Activating) {
        throw new HandoffError(`${local.name}/${id} has an older copy on ${local.self} that is not between turns; try again`, { pool: local.name, id, retry: true })
      }
    }
    // restored before anything is dropped: a snapshot that does not restore changes nothing here
    const state = local.def.restore !== undefined ? local.def.restore(snapshot) : snapshot
    let stale: Activation | undefined
    if (act !== undefined && !claiming) {
      local.depart(act, 'stale')
      stale = act
      act = undefined
    }
    // A pool with `load` keeps the sender's epoch plus one, not a fresh one from the clock:
    // its copies rank by when their state last came from the store, and each move adds one,
    // so the store's epoch-conditional writes (and a `load` that claims the row for its
    // epoch) fence a copy handed late (a handoff held up by a cut) against one loaded from
    // the store meanwhile, which a fresh epoch outranked (seed 654); `EPOCHS_PER_MS` leaves
    // room for 1,024 moves a millisecond of age. A pool without a store has no such truth
    // to rank by: its copy takes a fresh epoch, so a copy with its memory outranks one
    // started from `init` beside it before it moved (seed 465)
    let newer: number
    if (local.def.load !== undefined) {
      newer = previousEpoch + 1
      this.c.observeEpoch(newer)
    } else {
      newer = this.c.nextEpoch(previousEpoch)
    }
    if (stale !== undefined && this.c.events.has('worker:conflict')) {
      this.c.events.emit('worker:conflict', { pool: local.name, id, node: local.self, epoch: stale.epoch, newerEpoch: newer, keptOn: local.self })
    }
    this.c.forgetSpill(local.name, id)
    // the epoch above the handed copy's, not the claim's: the claim may have been sent
    // before a stall, and what is taken in now is not stale
    const epoch = newer
    if (act === undefined) {
      act = local.install(id, epoch)
    } else {
      act.epoch = epoch
      act.extra().claiming = false
    }
    local.stats.counters.migratedIn++
    let taken = this.taken.get(local.name)
    if (taken === undefined) {
      taken = { now: new Map(), before: new Map() }
      this.taken.set(local.name, taken)
    }
    taken.now.set(id, previousEpoch)
    if (this.c.events.has('worker:migrate')) this.c.events.emit('worker:migrate', { pool: local.name, id, node: local.self, epoch: act.epoch, from, to: local.self })
    if (stale !== undefined) moveMailbox(stale, act, true)
    local.ready(act, state)
    this.c.taken?.(local, act)
    return act
  }

  /** Forgets handoffs older than one generation; called every `HANDED_IN_AGE_SAMPLES` seconds. */
  age (): void {
    for (const t of this.taken.values()) {
      if (t.now.size === 0 && t.before.size === 0) continue
      t.before = t.now
      t.now = new Map()
    }
  }

  /** The epoch a worker had on the node that handed it here lately, if it was. */
  private takenLately (pool: string, id: string): number | undefined {
    const t = this.taken.get(pool)
    return t?.now.get(id) ?? t?.before.get(id)
  }
}
