import { MAX_VIEW_WAITS, VIEW_WAIT_MS } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'

/** What waiting for this node's view needs of the node. */
export interface ViewWaitComponents {
  readonly clock: Clock
}

/** A message waiting here: what routes it again, and what answers it when it cannot wait any longer. */
interface Waiting {
  /** Routes the message again; `until` is when it must stop waiting for the view. */
  readonly retry: (until: number) => void
  /** Answers a call past its deadline (a cast or a barrier has none to answer). */
  readonly expire?: () => void
  readonly deadline: number
}

/** The messages for one worker waiting for this node's view, in arrival order. */
interface Queue {
  readonly until: number
  readonly waiting: Waiting[]
}

/**
 * Messages that would go straight back to the node that sent them on. That node sent a
 * message here because its view names this node as the worker's owner, and this node's
 * view names that node: the two views disagree, and the one that moved last is usually
 * the sender's (a node that stops, drains or lost the worker learns it first). Sent
 * back, the message takes another round trip and may arrive after a later message from
 * the same sender that came once this node's view caught up, and run after it.
 *
 * So it waits here, with every later message for the same worker behind it, until this
 * node's view moves (then they are routed again, in order, before anything that arrives
 * after), or at the latest {@link VIEW_WAIT_MS}: then they go back as before. A call
 * that reaches its deadline while it waits is answered `TimeoutError` by its `expire`.
 * One timer per node while anything waits.
 */
export class ViewWait {
  private readonly c: ViewWaitComponents
  /** Per `pool\nid`. */
  private queues = new Map<string, Queue>()
  private size = 0
  private timer: TimerHandle | undefined
  private timerAt = Infinity
  private closed = false

  constructor (components: ViewWaitComponents) {
    this.c = components
  }

  /** True when messages for `pool`/`id` wait here: a later one must wait behind them. */
  has (pool: string, id: string): boolean {
    return this.size > 0 && this.queues.has(`${pool}\n${id}`)
  }

  /**
   * Settles once what waits here for `pool`/`id` now went on (routed again, in order);
   * undefined when nothing waits. A send of this node's goes behind it (see `SendOrder`).
   */
  behind (pool: string, id: string): Promise<void> | undefined {
    if (!this.has(pool, id)) return undefined
    return new Promise((resolve) => { if (!this.hold(pool, id, () => { resolve() }, Infinity)) resolve() })
  }

  /**
   * Keeps a message for `pool`/`id` until the view moves, or `until` (when unset: the
   * first wait of this message, {@link VIEW_WAIT_MS} from now). False when it may not
   * wait (its time is up, or too many wait): route it now.
   */
  hold (pool: string, id: string, retry: (until: number) => void, deadline: number, expire?: () => void, until?: number): boolean {
    const key = `${pool}\n${id}`
    const now = this.c.clock.monotonic()
    let queue = this.queues.get(key)
    if (queue === undefined) {
      const end = until ?? now + VIEW_WAIT_MS
      if (end <= now || this.size >= MAX_VIEW_WAITS || this.closed) return false
      queue = { until: end, waiting: [] }
      this.queues.set(key, queue)
    }
    queue.waiting.push({ retry, expire, deadline })
    this.size++
    this.wake(Math.min(queue.until, deadline), now)
    return true
  }

  /** This node's view moved: everything waiting is routed again, in arrival order per worker. */
  viewMoved (): void {
    if (this.size > 0) this.release(() => true)
  }

  /** The node stops: what waits goes back at once, as before, and nothing waits from now on. */
  close (): void {
    this.closed = true
    if (this.timer !== undefined) this.c.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.release(() => true)
  }

  /** Routes again the queues `due` names, each message with the end of its queue's wait. */
  private release (due: (q: Queue) => boolean): void {
    const out: Queue[] = []
    for (const [key, q] of this.queues) {
      if (!due(q)) continue
      this.queues.delete(key)
      this.size -= q.waiting.length
      out.push(q)
    }
    for (const q of out) for (const w of q.waiting) w.retry(q.until)
  }

  /** Sets the one timer for `at`, unless it is set for sooner already. */
  private wake (at: number, now: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return
    if (this.timer !== undefined) this.c.clock.clearTimeout(this.timer)
    this.timerAt = at
    this.timer = this.c.clock.setTimeout(() => { this.sweep() }, Math.max(1, at - now))
  }

  /** Calls past their deadline are answered; queues past their time go back as before; the timer is set for what is left. */
  private sweep (): void {
    this.timer = undefined
    const now = this.c.clock.monotonic()
    let next = Infinity
    for (const q of this.queues.values()) {
      for (let i = q.waiting.length - 1; i >= 0; i--) {
        const w = q.waiting[i]
        if (w.deadline > now) continue
        q.waiting.splice(i, 1)
        this.size--
        w.expire?.()
      }
    }
    this.release(q => q.until <= now || q.waiting.length === 0)
    for (const q of this.queues.values()) {
      next = Math.min(next, q.until)
      for (const w of q.waiting) next = Math.min(next, w.deadline)
    }
    if (next < Infinity) this.wake(next, now)
  }
}
