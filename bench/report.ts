/**
 * What a benchmark scenario returns: a table to print and figures to write as JSON.
 */
import type { Chart } from './svg.js'

/** One measured figure with its unit. */
export interface Figure {
  name: string
  value: number
  unit: string
  /** What the figure is compared with, when it has a goal. */
  goal?: string
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  scenario: string
  /** Rows of a table, all with the same keys, printed as columns. */
  rows: Array<Record<string, string | number>>
  figures: Figure[]
  notes?: string[]
  /** Figures over time, drawn as SVG charts in the Markdown report. */
  charts?: Chart[]
}

/** Formats rows as an aligned plain-text table. */
export function formatTable (rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '(no rows)'
  const cols = Object.keys(rows[0])
  const cells = rows.map(r => cols.map(c => formatCell(r[c])))
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map(r => r[i].length)))
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i])).join('  ')
  return [line(cols), line(widths.map(w => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

function formatCell (v: string | number | undefined): string {
  if (v === undefined) return ''
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v.toLocaleString('en-US')
    return v.toLocaleString('en-US', { maximumFractionDigits: 3 })
  }
  return v
}

/** The middle value (the upper of the two middles for an even count); NaN for none. */
export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]
}

/** `x` rounded to `digits` decimals. */
export function round (x: number, digits = 0): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
