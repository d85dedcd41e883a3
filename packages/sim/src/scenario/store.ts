/**
 * The database of the simulated cluster: one value per key with the epoch of the
 * activation that wrote it, and writes made conditional on that epoch (what a user does
 * with a conditional update): a write with an older epoch than the stored one is refused,
 * so a stale copy can never overwrite what a newer one wrote.
 */
export class SimStore {
  private readonly rows = new Map<string, { value: number | undefined, epoch: number }>()
  /** Writes refused for a stale epoch. */
  refused = 0
  /** Told of every write, for a trace. */
  onWrite?: (key: string, value: number, epoch: number, ok: boolean) => void

  read (key: string): number | undefined {
    return this.rows.get(key)?.value
  }

  /** Writes `value` unless a newer epoch wrote `key`; false when refused. */
  write (key: string, value: number, epoch: number): boolean {
    const row = this.rows.get(key)
    const ok = row === undefined || epoch >= row.epoch
    this.onWrite?.(key, value, epoch, ok)
    if (!ok) {
      this.refused++
      return false
    }
    this.rows.set(key, { value, epoch })
    return true
  }

  /**
   * Raises `key`'s epoch to `epoch` without writing a value: an activation claims its
   * worker's row as it loads, so that a copy with an older epoch, still taking turns while
   * the views disagree, can no longer write (it could while the newer copy had only read).
   * False, and nothing changed, when a newer epoch holds the row.
   */
  fence (key: string, epoch: number): boolean {
    const row = this.rows.get(key)
    if (row !== undefined && epoch < row.epoch) {
      this.refused++
      return false
    }
    this.rows.set(key, { value: row?.value, epoch })
    return true
  }

  keys (): string[] {
    return [...this.rows.keys()]
  }
}
