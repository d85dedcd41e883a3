/**
 * The Markdown report written beside each results file: the machine, then per scenario
 * its table, notes and charts (SVG files next to the report).
 */
import { writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { columnsOf } from './report.js'
import type { ScenarioResult } from './report.js'
import { lineChart } from './svg.js'

/** What the report needs of a run (a subset of the results file). */
export interface RunInfo {
  machine: { cpuModel: string, cpus: number, totalmem: number, platform: string, busyBeforeStart: number }
  node: string
  commit: string | null
  startedAt: string
  command: string
  results: ScenarioResult[]
}

function cell (v: string | number | undefined): string {
  if (v === undefined) return ''
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 })
  return v.replace(/\|/g, '\\|')
}

function table (rows: ScenarioResult['rows']): string {
  if (rows.length === 0) return '(no rows)'
  const cols = columnsOf(rows)
  return [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map(r => `| ${cols.map(c => cell(r[c])).join(' | ')} |`)
  ].join('\n')
}

/** Every figure of a scenario with its median, min and max over the runs, folded away under the table. */
function figuresTable (r: ScenarioResult): string[] {
  if (r.figures.length === 0) return []
  const rows = r.figures.map(f => {
    const runs = f.runs ?? [f.value]
    return {
      figure: f.name,
      median: f.value,
      min: f.min ?? f.value,
      max: f.max ?? f.value,
      runs: runs.length <= 6 ? runs.map(x => cell(x)).join(', ') : `${runs.length} runs`,
      unit: f.unit,
      goal: f.goal ?? ''
    }
  })
  const times = r.runs !== undefined && r.runs > 1 ? `; the scenario ran ${r.runs} times (\`--repeat\`), the table above is its last run` : ''
  return ['', `<details><summary>Every figure of ${r.scenario}: median, min and max over its runs${times}</summary>`, '', table(rows), '', '</details>']
}

/** Writes `<base>.md` and its charts as `<base>-<scenario>-<n>.svg`; returns the report's path. */
export function writeMarkdownReport (run: RunInfo, base: string): string {
  const m = run.machine
  const out: string[] = [
    `# SimplePool benchmarks, ${run.startedAt}`,
    '',
    `${m.cpus} × ${m.cpuModel}, ${Math.round(m.totalmem / 2 ** 30)} GiB, ${m.platform}; Node.js ${run.node}; commit ${run.commit ?? 'unknown'}; cores ${Math.round(m.busyBeforeStart * 100)}% busy before the start.`,
    '',
    `Command: \`${run.command}\``,
    '',
    'A ratio beside a peer (nact, moleculer, a raw socket) compares figures measured in this same run on this machine; both figures are printed, and a ratio between figures of different runs or machines is not valid.'
  ]
  for (const r of run.results) {
    out.push('', `## ${r.scenario}`, '', table(r.rows))
    for (const n of r.notes ?? []) out.push('', n)
    for (const [i, chart] of (r.charts ?? []).entries()) {
      const file = `${base}-${r.scenario}-${i + 1}.svg`
      writeFileSync(file, lineChart(chart))
      out.push('', `![${chart.title}](${basename(file)})`)
    }
    out.push(...figuresTable(r))
  }
  const path = `${base}.md`
  writeFileSync(path, out.join('\n') + '\n')
  return path
}
