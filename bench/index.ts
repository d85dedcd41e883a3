/**
 * Runs the benchmark scenarios, prints a table for each, and writes every figure with the
 * machine it ran on to `bench/results/<timestamp>.json`.
 *
 * `npm run bench` (builds first), or after a build:
 * `node --import tsx bench/index.ts [--scenario transport|ring|membership|runtime (local)|remote|runtime-cluster|migration|million|scale-up|admin|durability|links|witness|scale|all] [--workers N --nodes N --duration S] [--membership gossip|witness] [--generators N] [--repeat N] [--quiet]`
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, platform, totalmem } from 'node:os'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { writeMarkdownReport } from './markdown.js'
import { formatTable, mergeRuns } from './report.js'
import type { ScenarioResult } from './report.js'
import { adminBench } from './admin.bench.js'
import { durabilityBench } from './durability.bench.js'
import { scaleBench } from './scale.bench.js'
import { defaultLinksCases, linksBench } from './links.bench.js'
import { witnessBench } from './witness.bench.js'
import { membershipBench } from './membership.bench.js'
import { migrationBench } from './migration.bench.js'
import { millionBench } from './million.bench.js'
import { scaleUpBench } from './scale-up.bench.js'
import { remoteBench } from './remote.bench.js'
import { ringBench } from './ring.bench.js'
import { runtimeClusterBench } from './runtime-cluster.bench.js'
import { runtimeBench } from './runtime.bench.js'
import { transportBench } from './transport.bench.js'

/** What a results file holds. */
export interface BenchReport {
  machine: {
    cpuModel: string
    cpus: number
    totalmem: number
    platform: string
    loadavg: number[]
    /** Share of all cores busy during the second before the first scenario: load from something else. */
    busyBeforeStart: number
  }
  node: string
  commit: string | null
  startedAt: string
  results: ScenarioResult[]
}

/** Sizes given on the command line; each scenario takes those that make sense for it. */
interface Sizes {
  quiet: boolean
  workers?: number
  nodes?: number
  duration?: number
  /** `--membership gossip|witness`: the scale scenario runs only that one. */
  membership?: 'gossip' | 'witness'
  /** `--generators N`: load generator processes of the million scenario (0: inside the nodes). */
  generators?: number
}

const SCENARIOS: Record<string, (o: Sizes) => Promise<ScenarioResult>> = {
  transport: async (o) => transportBench({ quiet: o.quiet }),
  // one node count given: every implementation at it, however long that takes
  ring: async (o) => ringBench({ quiet: o.quiet, nodes: o.nodes === undefined ? undefined : [o.nodes], allUpTo: o.nodes }),
  membership: async (o) => membershipBench({ quiet: o.quiet }),
  runtime: async (o) => runtimeBench({ quiet: o.quiet }),
  remote: async (o) => remoteBench({ quiet: o.quiet, seconds: o.duration }),
  'runtime-cluster': async (o) => runtimeClusterBench({ quiet: o.quiet, workers: o.workers, seconds: o.duration }),
  migration: async (o) => migrationBench({ quiet: o.quiet, workers: o.workers }),
  million: async (o) => millionBench({ quiet: o.quiet, workers: o.workers, nodes: o.nodes, duration: o.duration, generators: o.generators }),
  'scale-up': async (o) => scaleUpBench({ quiet: o.quiet, workers: o.workers, nodes: o.nodes }),
  admin: async (o) => adminBench({ quiet: o.quiet, workers: o.workers, duration: o.duration }),
  durability: async (o) => durabilityBench({ quiet: o.quiet, seconds: o.duration, workers: o.workers }),
  links: async (o) => linksBench({ quiet: o.quiet, cases: o.nodes === undefined ? undefined : defaultLinksCases(o.nodes) }),
  witness: async (o) => witnessBench({ quiet: o.quiet, sizes: o.nodes === undefined ? undefined : [o.nodes] }),
  scale: async (o) => scaleBench({ quiet: o.quiet, idleSeconds: o.duration, sizes: o.nodes === undefined ? undefined : [o.nodes], modelSizes: o.nodes === undefined ? undefined : [o.nodes], memberships: o.membership === undefined ? undefined : [o.membership] })
}

const root = fileURLToPath(new URL('..', import.meta.url))

function commit (): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    // not a checkout, or no git: the results still stand, just unpinned
    return null
  }
}

/**
 * How busy the cores are right now, sampled over `ms`. The load average would also count
 * the previous benchmark run for a minute after it ended; this sees only the present.
 */
async function busyShare (ms: number): Promise<number> {
  const sum = (): { idle: number, total: number } => {
    let idle = 0
    let total = 0
    for (const c of cpus()) {
      idle += c.times.idle
      total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq
    }
    return { idle, total }
  }
  const before = sum()
  await new Promise(resolve => setTimeout(resolve, ms))
  const after = sum()
  const total = after.total - before.total
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0
}

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    quiet: { type: 'boolean', default: false },
    workers: { type: 'string' },
    nodes: { type: 'string' },
    duration: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    membership: { type: 'string' },
    generators: { type: 'string' }
  }
})
/** Other names of scenarios, not run twice by `all`: `local` is the one-process runtime scenario, beside nact. */
const ALIASES: Record<string, string> = { local: 'runtime' }
const scenario = ALIASES[values.scenario ?? ''] ?? values.scenario ?? 'all'
const quiet = values.quiet === true

/** A positive whole number from the command line, or undefined when not given; anything else stops the run. */
function size (name: 'workers' | 'nodes' | 'duration' | 'repeat'): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive whole number, got ${v}\n`)
    process.exit(2)
  }
  return n
}
if (values.membership !== undefined && values.membership !== 'gossip' && values.membership !== 'witness') {
  process.stderr.write(`--membership is gossip or witness, got ${values.membership}\n`)
  process.exit(2)
}
const generators = values.generators === undefined ? undefined : Number(values.generators)
if (generators !== undefined && !(Number.isInteger(generators) && generators >= 0)) {
  process.stderr.write(`--generators must be a whole number, 0 or more, got ${values.generators ?? ''}\n`)
  process.exit(2)
}
const sizes: Sizes = { quiet, workers: size('workers'), nodes: size('nodes'), duration: size('duration'), membership: values.membership, generators }
/** Runs of each scenario; each figure's min, median and max are taken over them (and over the runs a scenario makes itself). */
const repeat = size('repeat') ?? 1
const names = scenario === 'all' ? Object.keys(SCENARIOS) : [scenario]
const unknown = names.filter(n => SCENARIOS[n] == null)
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario ${unknown.join(', ')}; expected one of ${[...Object.keys(SCENARIOS), ...Object.keys(ALIASES), 'all'].join(', ')}\n`)
  process.exit(2)
}

const started = new Date()
const cpuList = cpus()
const report: BenchReport = {
  machine: {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpus: cpuList.length,
    totalmem: totalmem(),
    platform: platform(),
    loadavg: loadavg(),
    busyBeforeStart: Math.round(await busyShare(1_000) * 1000) / 1000
  },
  node: process.version,
  commit: commit(),
  startedAt: started.toISOString(),
  results: []
}

// throughput shares the cores with whatever else runs: say so beside the numbers
const busy = report.machine.busyBeforeStart
console.log(`${report.machine.cpus} x ${report.machine.cpuModel}, node ${report.node}, cores ${Math.round(busy * 100)}% busy before start`)
if (busy > 0.15) console.log('warning: something else is using the cores; throughput figures will read low')

for (const name of names) {
  console.log(`\n== ${name} ==\n`)
  const runs: ScenarioResult[] = []
  for (let i = 0; i < repeat; i++) {
    if (repeat > 1) console.log(`run ${i + 1} of ${repeat}`)
    try {
      runs.push(await SCENARIOS[name](sizes))
    } catch (err) {
      // one broken scenario should not throw away the others' figures
      console.log(`failed: ${(err as Error).stack ?? String(err)}`)
      process.exitCode = 1
    }
  }
  if (runs.length === 0) continue
  // the last run's table and charts; every run's figures
  const last = runs[runs.length - 1]
  const result: ScenarioResult = { ...last, figures: mergeRuns(runs.map(r => r.figures)), runs: runs.length }
  report.results.push(result)
  console.log(formatTable(result.rows))
  if (result.notes != null && result.notes.length > 0) console.log(`\n${result.notes.join('\n')}`)
}

const dir = fileURLToPath(new URL('./results/', import.meta.url))
mkdirSync(dir, { recursive: true })
// colons are not allowed in file names everywhere
const base = `${dir}${started.toISOString().replace(/:/g, '-')}`
writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n')
const args = process.argv.slice(2).join(' ')
const md = writeMarkdownReport({ ...report, command: args === '' ? 'npm run bench' : `npm run bench -- ${args}` }, base)
console.log(`\nwrote ${relative(process.cwd(), `${base}.json`)} and ${relative(process.cwd(), md)}`)
