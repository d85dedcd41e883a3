/**
 * A one-line status for long benchmark phases: redrawn in place on a terminal, a plain line
 * every few seconds otherwise (CI logs), nothing with `quiet`.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true
  private lastLine = 0
  private drawn = false

  constructor (private readonly prefix: string, private readonly quiet: boolean) {}

  /** Shows `text` as the current status. */
  update (text: string): void {
    if (this.quiet) return
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${this.prefix}: ${text}`)
      this.drawn = true
      return
    }
    const now = Date.now()
    if (now - this.lastLine < 5_000) return
    this.lastLine = now
    process.stderr.write(`${this.prefix}: ${text}\n`)
  }

  /** Ends the status with a line that stays. */
  done (text: string): void {
    if (this.quiet) return
    process.stderr.write(`${this.tty && this.drawn ? '\r\x1b[K' : ''}${this.prefix}: ${text}\n`)
    this.drawn = false
    this.lastLine = 0
  }
}
