/** How the `simplepool` command prints: aligned tables, short peer ids, and JSON on request. */
import type { Options } from './client.js'

/** Rows as an aligned plain-text table. */
export function table (rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(none)'
  const cols = Object.keys(rows[0])
  const cells = rows.map(r => cols.map(c => String(r[c] ?? '')))
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map(r => r[i].length)))
  const line = (v: string[]): string => v.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd()
  return [line(cols.map(c => c.toUpperCase())), ...cells.map(line)].join('\n')
}

/** A peer id as a column shows it: its last 8 characters, enough to tell nodes apart. */
export const short = (peer: string): string => typeof peer === 'string' && peer.length > 12 ? `…${peer.slice(-8)}` : String(peer)
export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
export const num = (x: number): string => Math.round(x).toLocaleString('en-US')
export const mb = (bytes: number | null | undefined): string => typeof bytes === 'number' ? (bytes / 2 ** 20).toFixed(0) : '-'
export const ms = (x: number | null | undefined): string => typeof x !== 'number' ? '-' : x === 0 ? '0' : x.toFixed(x < 0.1 ? 3 : x < 10 ? 2 : 1)

/** Prints `json` (with `-o json`) or the text. */
export function print (o: Options, json: unknown, text: () => string): void {
  process.stdout.write(o.output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`)
}

/** Whether stdout is a terminal a screen can be redrawn on. */
export const live = (): boolean => process.stdout.isTTY === true && process.env.TERM !== 'dumb'

// plain ANSI: clear the line, clear the screen below, home, hide and show the cursor
export const ANSI = { clearLine: '\x1b[2K\r', clearDown: '\x1b[J', home: '\x1b[H', hide: '\x1b[?25l', show: '\x1b[?25h' }

/** A progress bar of `width` cells, `done` of `total`. */
export function bar (done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.min(width, Math.round(width * done / total)) : width
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`
}
