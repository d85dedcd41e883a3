/**
 * What happens to a mailbox whose activation ends: its messages are answered with an
 * error, follow the worker elsewhere, or move to the activation after it. A mailbox is
 * the activation's flat array of (slot, message) pairs read from `head` (see
 * {@link Activation}).
 */
import { BARRIER, TICK, replyIn } from './activation.js'
import type { Activation, Reply, Slot } from './activation.js'
import { answer } from './replies.js'

/** Answers every request left in `act`'s mailbox with `err` and empties it. Returns how many casts were in it (lost). */
export function failMailbox (act: Activation, err: Error): number {
  const q = act.queue
  act.queue = null
  if (q === null) return 0
  let casts = 0
  for (let i = act.head; i < q.length; i += 2) {
    const slot = q[i] as Slot
    if (slot === null) {
      casts++
      continue
    }
    const reply = replyIn(slot, q[i + 1])
    if (reply !== null && !reply.done) {
      reply.done = true
      reply.reject(err)
    }
  }
  return casts
}

/** Gives what waits in a departed activation's mailbox to `forward`, in order (ticks and settled requests left out), and empties it. */
export function forwardMailbox (act: Activation, forward: (slot: Slot, msg: unknown) => void): void {
  const q = act.queue
  const head = act.head
  act.queue = null
  act.head = 0
  if (act.ext !== null) act.ext.ahead = 0
  if (q === null) return
  for (let i = head; i < q.length; i += 2) {
    const slot = q[i] as Slot
    if (slot === TICK) continue
    const reply = replyIn(slot, q[i + 1])
    if (reply !== null && reply.done) continue
    forward(slot, q[i + 1])
  }
}

/** Moves what waits in `from`'s mailbox to the end of `to`'s, in order; ticks too unless `dropTicks`. */
export function moveMailbox (from: Activation, to: Activation, dropTicks: boolean): void {
  const q = from.queue
  from.queue = null
  if (q === null) return
  for (let i = from.head; i < q.length; i += 2) {
    if (dropTicks && q[i] === TICK) continue
    to.push(q[i] as Slot, q[i + 1])
  }
}

/**
 * True when the mailbox holds a cast, or a call, stop or spawn that still waits for its
 * answer; a sender's barrier too unless `barriers` is false.
 */
export function hasWaiting (act: Activation, barriers = true): boolean {
  const q = act.queue
  if (q === null) return false
  for (let i = act.head; i < q.length; i += 2) {
    const slot = q[i] as Slot
    if (slot === null) return true
    if (slot === BARRIER && !barriers) continue
    const reply = replyIn(slot, q[i + 1])
    if (reply !== null && !reply.done) return true
  }
  return false
}

/** Answers the senders' barriers in a mailbox nothing else waits in: what came before them ran. */
export function passBarriers (act: Activation): void {
  const q = act.queue
  if (q === null) return
  for (let i = act.head; i < q.length; i += 2) {
    if (q[i] === BARRIER) answer(q[i + 1] as Reply, true)
  }
}
