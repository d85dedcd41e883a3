import type { AbortOptions } from './options.js'

/** Options of a message to a worker. */
export interface SendOptions {
  /** Activate the worker if it is not live (the default); with `false`, reach only a live one or fail with `WorkerNotAliveError`. */
  spawn?: boolean
}

/** Options of a call. */
export interface RefCallOptions extends SendOptions, AbortOptions {}

/** What a ref sends through: the runtime. */
export interface RefTarget {
  call: (pool: string, id: string, msg: unknown, options?: RefCallOptions) => Promise<unknown>
  cast: (pool: string, id: string, msg: unknown, options?: SendOptions) => void
}

/**
 * A cheap handle on one worker, `(pool, id)`: anyone may hold one and send through it.
 * It resolves the owner on every send, so it stays right while the cluster changes.
 */
export class WorkerRef<M = unknown, R = unknown> {
  readonly pool: string
  readonly id: string
  private readonly target: RefTarget

  constructor (target: RefTarget, pool: string, id: string) {
    this.target = target
    this.pool = pool
    this.id = id
  }

  /**
   * Sends `msg` and resolves with the handler's return value; activates the worker if
   * needed unless `spawn: false`. Rejects with the handler's own error (same `name` and
   * `message`), `TimeoutError`, `AbortError`, `WorkerNotAliveError`, `OverloadedError`,
   * `NodeUnavailableError` or `InvalidMessageError`.
   */
  call (msg: M, options?: RefCallOptions): Promise<R> {
    // not async: the target's promise is handed on as it is, one promise per call less
    try {
      return this.target.call(this.pool, this.id, msg, options) as Promise<R>
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Sends `msg` one way. Throws at once when it cannot be queued (`OverloadedError`, a
   * local `WorkerNotAliveError` with `spawn: false`); what is lost later is counted in
   * the node's metrics.
   */
  cast (msg: M, options?: SendOptions): void {
    this.target.cast(this.pool, this.id, msg, options)
  }
}
