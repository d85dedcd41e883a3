import { AbortError, TimeoutError } from './errors.js'

/** Options every async API takes last. */
export interface AbortOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

/**
 * One signal that aborts on the caller's signal or after `timeoutMs`, whichever comes
 * first; the reason is an `AbortError` or a `TimeoutError`. Call `dispose()` when done so
 * no timer or listener outlives the operation.
 */
export function deadlineSignal (options: AbortOptions, defaultTimeoutMs: number, what = 'operation'): { signal: AbortSignal, dispose: () => void } {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
  const controller = new AbortController()
  const outer = options.signal
  const onAbort = (): void => { controller.abort(new AbortError(`The ${what} was aborted`)) }
  if (outer != null) {
    if (outer.aborted) onAbort()
    else outer.addEventListener('abort', onAbort, { once: true })
  }
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => { controller.abort(new TimeoutError(`The ${what} timed out after ${timeoutMs} ms`)) }, timeoutMs)
    : undefined
  timer?.unref?.()
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
  }
}
