/**
 * What a benchmark scenario returns: a table to print and figures to write as JSON.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Chart } from './svg.js'

/** One measured figure with its unit. */
export interface Figure {
  name: string
  /** The median of `runs` when the figure was measured more than once. */
  value: number
  unit: string
  /** What the figure is compared with, when it has a goal. */
  goal?: string
  /** Every measurement of it, in order, when it was measured more than once. */
  runs?: number[]
  /** The least and the greatest of `runs` (the results file fills them in for every figure). */
  min?: number
  max?: number
}

/** A figure measured `runs.length` times: the median as its value, with min, max and every run. */
export function repeated (name: string, runs: number[], unit: string, digits = 0, goal?: string): Figure {
  const r = runs.map(x => round(x, digits))
  return { name, value: median(r), unit, ...(goal !== undefined ? { goal } : {}), runs: r, min: Math.min(...r), max: Math.max(...r) }
}

/**
 * The figures of several runs of one scenario as one list: each name's values across the
 * runs (and the runs inside each) become its `runs`, its value their median, with min and
 * max; a figure measured once gets min = max = value, so every figure in a results file
 * reads the same way.
 */
export function mergeRuns (results: Figure[][]): Figure[] {
  const byName = new Map<string, Figure & { runs: number[] }>()
  for (const figures of results) {
    for (const f of figures) {
      const values = f.runs ?? [f.value]
      const seen = byName.get(f.name)
      if (seen === undefined) byName.set(f.name, { ...f, runs: [...values] })
      else seen.runs.push(...values)
    }
  }
  return [...byName.values()].map(f => {
    const finite = f.runs.filter(Number.isFinite)
    return { ...f, value: finite.length === 0 ? f.value : median(finite), min: finite.length === 0 ? f.value : Math.min(...finite), max: finite.length === 0 ? f.value : Math.max(...finite) }
  })
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
  /** How many times the harness ran the scenario (`--repeat`); the rows, notes and charts are the last run's. */
  runs?: number
}

/** Every column of `rows`, in the order they first appear: rows of one scenario may differ (the scale scenario's model rows). */
export function columnsOf (rows: Array<Record<string, string | number>>): string[] {
  return [...new Set(rows.flatMap(r => Object.keys(r)))]
}

/** Formats rows as an aligned plain-text table. */
export function formatTable (rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '(no rows)'
  const cols = columnsOf(rows)
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

/**
 * Runs `scenario` and prints its table and notes when the module at `moduleUrl` is the
 * program itself (`node --import tsx bench/<name>.bench.ts`), not imported by the harness.
 */
export async function runAlone (moduleUrl: string, scenario: () => Promise<ScenarioResult>): Promise<void> {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return
  const result = await scenario()
  console.log(formatTable(result.rows))
  for (const note of result.notes ?? []) console.log(note)
}
