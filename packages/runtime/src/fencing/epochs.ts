import { EPOCH_AHEAD_MAX_MS, EPOCHS_PER_MS } from '@simplepool/core'
import type { Clock } from '@simplepool/core'

/**
 * This node's epochs: every activation from `load` or `init` gets one larger than any this
 * node handed out or heard of before. They follow wall time across nodes, `EPOCHS_PER_MS`
 * per millisecond, so a node that restarts (or a new owner) starts above what any node
 * handed out a moment before, as long as clocks agree to within that moment; and every
 * epoch this node hears of in a handoff raises its own, so a node whose clock is behind
 * still starts above a copy it knew of (a worker handed to a node that was then lost, and
 * started here again). A worker of a pool with `load` handed over keeps its epoch plus one
 * (see the receiver): such a copy ranks by when its state last came from the store, then by
 * its moves since; one of a pool without gets a fresh one. A copy with a smaller epoch than
 * another is stale (fencing).
 */
export class Epochs {
  private readonly clock: Clock
  private lastEpoch = 0

  constructor (clock: Clock) {
    this.clock = clock
  }

  /** The largest epoch handed out so far. */
  get last (): number {
    return this.lastEpoch
  }

  /** A new epoch, larger than every one before and than `above`. */
  next (above = 0): number {
    // whole milliseconds: an epoch crosses the wire as an integer, whatever clock is given
    const e = Math.max(Math.floor(this.clock.now()) * EPOCHS_PER_MS, this.lastEpoch + 1, above + 1)
    this.lastEpoch = e
    return e
  }

  /** An epoch another node handed out: every later one here is larger. One not {@link plausible} is ignored. */
  observe (epoch: number): void {
    if (epoch > this.lastEpoch && this.plausible(epoch)) this.lastEpoch = epoch
  }

  /** Whether `epoch` is a safe integer no more than `EPOCH_AHEAD_MAX_MS` ahead of this node's clock. */
  plausible (epoch: number): boolean {
    return Number.isSafeInteger(epoch) && epoch <= (Math.floor(this.clock.now()) + EPOCH_AHEAD_MAX_MS) * EPOCHS_PER_MS
  }
}
