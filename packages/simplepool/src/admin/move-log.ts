/**
 * The last moves of workers onto this node, for the worker inspector's "history of moves".
 * One bounded ring buffer per node, not a record per worker: a million idle workers cost
 * nothing, and a worker's history is what the nodes it went through still remember.
 */
import { MOVE_LOG_KEEP } from '@simplepool/core'

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

/** The last {@link MOVE_LOG_KEEP} moves onto this node, in a ring buffer. */
export class MoveLog {
  private readonly moves: Array<WorkerMove | undefined> = new Array(MOVE_LOG_KEEP)
  private next = 0

  add (move: WorkerMove): void {
    this.moves[this.next] = move
    this.next = (this.next + 1) % MOVE_LOG_KEEP
  }

  /** The kept moves of one worker, oldest first. */
  of (pool: string, id: string): WorkerMove[] {
    const found: WorkerMove[] = []
    for (let k = 0; k < MOVE_LOG_KEEP; k++) {
      const m = this.moves[(this.next + k) % MOVE_LOG_KEEP]
      if (m !== undefined && m.id === id && m.pool === pool) found.push(m)
    }
    return found
  }
}
