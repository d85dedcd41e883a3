/** Small helpers for values a user's handler returns or throws. */

/** True for anything with a `then` method: a handler's async result. */
export function isThenable (v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
}

/** What a handler threw, as an `Error` (a thrown string or value is wrapped). */
export function asError (err: unknown): Error {
  if (err instanceof Error) return err
  return new Error(typeof err === 'string' ? err : `non-error thrown: ${String(err)}`)
}

/** Resolves with `p`, or as soon as `signal` aborts. */
export async function abortable (p: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) {
    await p
    return
  }
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const done = (): void => { signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
    p.then(done, done)
  })
}
