/**
 * The last moves of workers onto this node, for the worker inspector's "history of moves".
 * One bounded ring buffer per node, not a record per worker: a million idle workers cost
 * nothing, and a worker's history is what the nodes it went through still remember.
 */

/** One worker arriving here from another node. */
export interface WorkerMove {
  at: number
  pool: string
  id: string
  from: string
  to: string
  /** Its epoch here. */
  epoch: number
}

/** Moves kept per node: at the default budget of 2,000 handoffs a second, the last few seconds of a rebalance, and hours of a quiet cluster. */
const KEEP = 8_192

/** The last {@link KEEP} moves onto this node, in a ring buffer. */
export class MoveLog {
  private readonly moves: Array<WorkerMove | undefined> = new Array(KEEP)
  private next = 0

  add (move: WorkerMove): void {
    this.moves[this.next] = move
    this.next = (this.next + 1) % KEEP
  }

  /** The kept moves of one worker, oldest first. */
  of (pool: string, id: string): WorkerMove[] {
    const found: WorkerMove[] = []
    for (let k = 0; k < KEEP; k++) {
      const m = this.moves[(this.next + k) % KEEP]
      if (m !== undefined && m.id === id && m.pool === pool) found.push(m)
    }
    return found
  }
}
