/**
 * Replies, settled once. A request waiting on a worker (a call, a spawn, a stop) is a
 * {@link Reply}: answered by the worker's turn, by its deadline, by its caller's signal,
 * or by the node stopping, whichever comes first; the later ones find it `done` and do
 * nothing. Every settlement goes through {@link answer} or {@link refuse}.
 */
import { AbortError } from '@simplepool/core'
import type { Reply } from './activation.js'

/** Resolves `reply` with `value`, unless it was settled already. */
export function answer (reply: Reply, value: unknown): void {
  if (reply.done) return
  reply.done = true
  reply.resolve(value)
}

/** Rejects `reply` with `err`, unless it was settled already. */
export function refuse (reply: Reply, err: Error): void {
  if (reply.done) return
  reply.done = true
  reply.reject(err)
}

/**
 * A reply for a promise's `resolve` and `reject`, due at `deadline` (monotonic ms). With a
 * `signal`, an abort rejects it with `AbortError`, and the listener goes with the answer.
 * Made inside the promise's executor, so a request costs one closure, the executor's.
 */
export function newReply (deadline: number, resolve: (value: any) => void, reject: (err: Error) => void, signal?: AbortSignal): Reply {
  const reply: Reply = { resolve, reject, deadline, done: false }
  if (signal === undefined) return reply
  const onAbort = (): void => { refuse(reply, new AbortError('the call was aborted')) }
  signal.addEventListener('abort', onAbort, { once: true })
  reply.resolve = (v) => { signal.removeEventListener('abort', onAbort); resolve(v) }
  reply.reject = (e) => { signal.removeEventListener('abort', onAbort); reject(e) }
  return reply
}
