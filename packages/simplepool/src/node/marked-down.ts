/**
 * The question a node back from a stall asks the others: did any of you mark me down
 * meanwhile? Its runtime asks it before any turn runs, to know whether its activations
 * may be stale (fencing). Both sides are here: asking every live member, and answering.
 */
import { MARKED_DOWN_MARGIN_MS } from '@simplepool/core'
import type { Clock, Member, TimerHandle } from '@simplepool/core'
import type { MarkedDownOptions } from '@simplepool/runtime'
import { encodeMarkedDown } from './node-protocol.js'
import type { NodeOp, NodePayload } from './node-protocol.js'

/** What asking and answering the question take from the node. */
export interface MarkedDownComponents {
  /** This node's peer id. */
  self: () => string
  /** Times how long the answers of the others are still waited for after a first yes. */
  clock: Clock
  /** How long the mesh remembers members it marked down (`forgetAfterMs`). */
  forgetAfterMs: number
  /** The members this node knows now. */
  members: () => ReadonlyArray<Readonly<Member>>
  /** Sends this node's record now: the others see it alive before they answer. */
  announceNow: () => void
  /** Whether `peerId` proved alive by a message of its own (false: unknown here, or down). */
  heardFrom: (peerId: string) => boolean
  /** How many ms ago this node marked `peerId` down, if it did lately. */
  markedDownAgo: (peerId: string) => number | undefined
  /** Sends a node operation to `peerId` and resolves with its answer. */
  call: (peerId: string, payload: NodePayload<typeof NodeOp.MarkedDown>, options: { timeoutMs: number }) => Promise<unknown>
}

/** "Did you mark me down?": asked of the others after a stall, and answered for them. */
export class MarkedDownQuestion {
  constructor (private readonly c: MarkedDownComponents) {}

  /**
   * After a stall of `pausedMs`: did any other member mark this node down meanwhile? The
   * question counts as a sign of life (see {@link answer}), so a member that answers no
   * will not mark this node down for that stall. A member that does not answer, or a
   * stall so long that the others forgot what they marked, counts as yes.
   */
  async ask (pausedMs: number, options: MarkedDownOptions): Promise<boolean> {
    const c = this.c
    // stood still so long that the others have forgotten they marked it down: it was
    if (pausedMs + MARKED_DOWN_MARGIN_MS >= c.forgetAfterMs) return true
    c.announceNow()
    const self = c.self()
    // members this node marked down are asked too: one may have come back while this node
    // stood still and marked it down in turn (each saw the other silent), with nothing yet
    // read here to say so. One that does not answer is taken for dead, as this node saw it
    // before: no copy it started outlives it
    const others = c.members().filter(m => m.peerId !== self && m.status !== 'leaving')
    const withinMs = pausedMs + MARKED_DOWN_MARGIN_MS
    // the first "yes" is the answer: a member across a cut just healed may answer only once
    // the kernel's backoff on its connection ends (up to the timeout), and what waits for
    // the fence waited that long for nothing (calls refused up to 2.5 s after a heal). After
    // a stall, the others' answers are still waited for a little (`straggleMs`): each counts
    // as heard, and the lease is looked at as the fence ends. A "no" needs every member's
    return await new Promise<boolean>((resolve) => {
      let left = others.length
      let yes = false
      let straggling: TimerHandle | undefined
      const one = (answer: boolean): void => {
        left--
        if (answer && !yes) {
          yes = true
          if (options.straggleMs <= 0) resolve(true)
          else if (left > 0) straggling = c.clock.setTimeout(() => { resolve(true) }, options.straggleMs)
        }
        if (left === 0) {
          // every answer came: the wait for stragglers has nothing left to wait for
          if (straggling !== undefined) c.clock.clearTimeout(straggling)
          resolve(yes)
        }
      }
      if (left === 0) resolve(false)
      for (const m of others) {
        c.call(m.peerId, encodeMarkedDown({ withinMs }), options).then((answer) => {
          // an answer is a message of the member's own, sent after this node's stall: it
          // counts as heard, its doubt of this node as past (the lease on a majority does
          // not look lost for records this node did not read while it stood still; a "no"
          // also restarted this node's silence there, and after a "yes" this node drops
          // what it held)
          c.heardFrom(m.peerId)
          one(answer !== false)
        }, () => { one(m.liveness !== 'down') })
      }
    })
  }

  /** This node's answer to `from`: whether it marked `from` down within the last `withinMs`, or does not know it. */
  answer (from: string, withinMs: number): boolean {
    // the question itself proves the asker alive: its silence restarts before the answer,
    // so no sweep can mark it down after a "no". Down here, or unknown: yes only if this
    // node marked it down within the stall, which it remembers for `forgetAfterMs`, longer
    // than any stall asked about. A node that never heard of the asker (it joined while
    // the asker stood still) did not mark it down: a "yes" from it would drop every
    // worker of a node nobody marked down
    this.c.heardFrom(from)
    const ago = this.c.markedDownAgo(from)
    return ago !== undefined && ago <= withinMs
  }
}
