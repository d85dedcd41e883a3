/**
 * The migration scenario: what moving workers costs across real node processes on
 * 127.0.0.1. First the raw rate of the handoff between two processes (workers with 1 KB
 * of state, no budget); then, at the default budget and under steady traffic from every
 * node, a 4th node joining a 3-node cluster of 300,000 workers, and the same node drained
 * again: time until the cluster is rebalanced, msgs/s and call p99 before, during, after.
 * Needs the build (`npm run bench` does it): `node --import tsx bench/migration.bench.ts`.
 */
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import { round, runAlone } from './report.js'
import { errorNames as errorNamesOf, overTime, windowOf } from './series.js'
import type { Series } from './series.js'
import type { Chart } from './svg.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link migrationBench}. */
export interface MigrationBenchOptions {
  /** Workers moved in the two-process run. Default 100,000. */
  moveWorkers?: number
  /** Workers of the join and drain runs. Default 300,000. */
  workers?: number
  /** Calls in flight per node during the join and drain runs. Default 64. */
  inFlight?: number
  quiet?: boolean
}

interface Phase { name: string, from: number, to: number }
interface PhaseFigures { name: string, seconds: number, perSecond: number, p50: number, p99: number, errors: number }

const POOL = 'counter'
/** Seconds of traffic before the change, for the steady figures. */
const BEFORE_S = 6
/** Seconds of traffic kept after the cluster is rebalanced. */
const AFTER_S = 5

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Merges every node's seconds that fall inside the phase (wall-clock ms) into its figures. */
function phaseFigures (series: Series[], phase: Phase): PhaseFigures {
  const w = windowOf(series, phase.from, phase.to)
  return { name: phase.name, seconds: w.seconds, perSecond: w.perSecond, p50: w.p50, p99: w.p99, errors: w.errors }
}

async function backlog (nodes: NodeHandle[]): Promise<number> {
  const all = await Promise.all(nodes.map(async n => await n.request<number>('migrationBacklog')))
  return all.reduce((a, b) => a + b, 0)
}

export async function localCount (node: NodeHandle, pool: string): Promise<number> {
  return (await node.request<{ value: number }>('count', { pool, local: true })).value
}

/** Two processes, no budget: how fast the handoff itself moves workers with 1 KB of state. */
async function rawRate (n: number, log: (s: string) => void): Promise<{ moved: number, ms: number, perSecond: number, lost: number }> {
  log('starting 1 node')
  const cluster = await startCluster({ nodes: 1, pools: ['blob'], poolOptions: { blobBytes: 1024 }, runtime: { migrationsPerSecond: 1e9, rebalanceDelayMs: 0 } })
  try {
    const [a] = cluster.nodes
    log(`activating ${n.toLocaleString('en-US')} workers with 1 KB of state`)
    await a.request('spawnMany', { pool: 'blob', prefix: 'b-', n }, 300_000)
    log('a 2nd node joins; its share moves')
    const b = await cluster.addNode()
    let first = 0
    let last = 0
    let onA = n
    const deadline = performance.now() + 120_000
    for (let quiet = 0; quiet < 20;) {
      if (performance.now() > deadline) throw new Error(`the handoff did not finish in 2 minutes: ${n - onA} of ${n} moved`)
      await sleep(25)
      const now = await localCount(a, 'blob')
      const t = performance.now()
      if (now < onA) {
        if (first === 0) first = t
        last = t
        onA = now
        quiet = 0
      } else if (first > 0 && await backlog([a]) === 0) {
        quiet++
      }
    }
    const onB = await localCount(b, 'blob')
    const moved = n - onA
    if (onA + onB !== n) throw new Error(`workers lost or doubled in the handoff: ${onA} + ${onB} live of ${n}`)
    return { moved, ms: last - first, perSecond: moved / ((last - first) / 1000), lost: n - onA - onB }
  } finally {
    await cluster.stop()
  }
}

/** The load generator a change runs under: a node command (`trafficSeries`, `zipfTraffic`) and its arguments. */
export interface Traffic {
  command: string
  args: Record<string, unknown>
}

export interface Change {
  phases: PhaseFigures[]
  rebalanceMs: number
  moved: number
  errorNames: Record<string, number>
  /** For the charts: the traffic, workers per node over time (by node name), and when the change began and ended. */
  series: Series[]
  counts: Array<{ at: number, byNode: Record<string, number> }>
  t0: number
  changeAt: number
  doneAt: number
}

/**
 * Traffic from `callers` throughout; `change` runs after the steady window; the phase
 * "during" lasts until every node's backlog is 0 (and the ring stopped moving).
 */
export async function underTraffic (callers: NodeHandle[], all: () => NodeHandle[], traffic: Traffic, change: () => Promise<void>, log: (s: string) => void): Promise<Change> {
  const seconds = 300
  // one long traffic run per caller, stopped (`stopTraffic`) once the phases are over
  const running = Promise.all(callers.map(async c => await c.request<Series>(traffic.command, { ...traffic.args, seconds }, (seconds + 30) * 1000)))
  const t0 = Date.now()
  // workers per node, twice a second, for the charts
  const counts: Change['counts'] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const nodes = all()
      const values = await Promise.all(nodes.map(async x => await localCount(x, traffic.args.pool as string).catch(() => NaN)))
      counts.push({ at: Date.now(), byNode: Object.fromEntries(nodes.map((x, i) => [x.name, values[i]])) })
      await sleep(500)
    }
  })()
  await sleep(BEFORE_S * 1000)
  const changeAt = Date.now()
  await change()
  await sleep(600) // the rebalance delay, and the ring settling
  const limit = Date.now() + 600_000
  while (await backlog(all()) > 0) {
    if (Date.now() > limit) throw new Error('the cluster did not rebalance in 10 minutes')
    await sleep(100)
  }
  const doneAt = Date.now()
  log(`rebalanced in ${((doneAt - changeAt) / 1000).toFixed(1)} s`)
  await sleep(AFTER_S * 1000)
  await Promise.all(callers.map(async c => await c.request('stopTraffic')))
  sampling = false
  await sampler
  const series = await running
  const errorNames = errorNamesOf(series)
  const phases = [
    phaseFigures(series, { name: 'before', from: t0 + 1000, to: changeAt }),
    phaseFigures(series, { name: 'during', from: changeAt, to: doneAt }),
    phaseFigures(series, { name: 'after', from: doneAt, to: doneAt + AFTER_S * 1000 })
  ]
  return { phases, rebalanceMs: doneAt - changeAt, moved: 0, errorNames, series, counts, t0, changeAt, doneAt }
}

/** The charts of a join or a drain: traffic and latency per second, workers per node, with the change marked. */
export function changeCharts (label: string, ch: Change): Chart[] {
  const time = overTime(ch.series, ch.t0)
  const marks = [{ x: (ch.changeAt - ch.t0) / 1000, label }, { x: (ch.doneAt - ch.t0) / 1000, label: 'rebalanced' }]
  const names = [...new Set(ch.counts.flatMap(c => Object.keys(c.byNode)))]
  return [
    { title: `${label}: traffic from the 3 original nodes`, x: 's', y: 'msgs/s', lines: [{ name: 'msgs/s', points: time.msgs }], marks },
    { title: `${label}: call latency per second`, x: 's', y: 'ms', lines: [{ name: 'p50', points: time.p50 }, { name: 'p99', points: time.p99 }], marks },
    {
      title: `${label}: workers per node`,
      x: 's',
      y: 'workers',
      lines: names.map(name => ({ name, points: ch.counts.filter(c => Number.isFinite(c.byNode[name])).map(c => [(c.at - ch.t0) / 1000, c.byNode[name]] as [number, number]) })),
      marks
    }
  ]
}

async function joinAndDrain (workers: number, inFlight: number, log: (s: string) => void): Promise<{ join: Change, drain: Change, shares: number[] }> {
  log('starting 3 nodes')
  const cluster: Cluster = await startCluster({ nodes: 3, pools: [POOL] })
  try {
    const [a, b, c] = cluster.nodes
    log(`activating ${workers.toLocaleString('en-US')} workers`)
    await a.request('spawnMany', { pool: POOL, prefix: 'w-', n: workers }, 300_000)
    let d: NodeHandle | undefined
    log('traffic; then a 4th node joins')
    const traffic: Traffic = { command: 'trafficSeries', args: { pool: POOL, prefix: 'w-', n: workers, inFlight } }
    const join = await underTraffic([a, b, c], () => cluster.running, traffic, async () => {
      d = await cluster.addNode()
    }, log)
    const shares = await Promise.all(cluster.running.map(async x => await localCount(x, POOL)))
    join.moved = shares[3]
    log('traffic; then the 4th node is drained')
    const dd = d as NodeHandle
    let held = 0
    const drain = await underTraffic([a, b, c], () => cluster.running, traffic, async () => {
      held = await localCount(dd, POOL)
      await a.request('drain', { peer: dd.peerId, timeoutMs: 600_000 }, 600_000)
    }, log)
    drain.moved = held
    return { join, drain, shares }
  } finally {
    await cluster.stop()
  }
}

/** Runs the scenario; every cluster is stopped before the next starts, also on failure. */
export async function migrationBench (opts: MigrationBenchOptions = {}): Promise<ScenarioResult> {
  const moveWorkers = opts.moveWorkers ?? 100_000
  const workers = opts.workers ?? 300_000
  const inFlight = opts.inFlight ?? 64
  const log = (line: string): void => { if (opts.quiet !== true) process.stderr.write(`migration: ${line}\n`) }

  const raw = await rawRate(moveWorkers, log)
  const { join, drain, shares } = await joinAndDrain(workers, inFlight, log)

  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO')
  rows.push({ measure: `2 nodes: handoff rate, 1 KB state (${raw.moved.toLocaleString('en-US')} moved)`, value: round(raw.perSecond), unit: 'workers/s', goal: '>= 50,000', met: yes(raw.perSecond >= 50_000) })
  figures.push({ name: 'migration.raw_per_s', value: round(raw.perSecond), unit: 'workers/s', goal: '>= 50,000' })
  for (const [label, ch] of [['join', join], ['drain', drain]] as const) {
    const before = ch.phases[0]
    rows.push({ measure: `${label}: time to rebalance (${ch.moved.toLocaleString('en-US')} workers moved)`, value: round(ch.rebalanceMs), unit: 'ms', goal: '', met: '' })
    figures.push({ name: `migration.${label}.rebalance_ms`, value: round(ch.rebalanceMs), unit: 'ms' })
    for (const p of ch.phases) {
      rows.push({ measure: `${label}: ${p.name}: msgs/s (${p.seconds} s)`, value: round(p.perSecond), unit: 'msgs/s', goal: '', met: '' })
      const goal = p.name === 'during' ? `< 5x before (${round(before.p99 * 5, 1)})` : ''
      rows.push({ measure: `${label}: ${p.name}: call p99 (p50 ${round(p.p50, 2)})`, value: round(p.p99, 2), unit: 'ms', goal, met: p.name === 'during' ? yes(p.p99 < before.p99 * 5) : '' })
      figures.push({ name: `migration.${label}.${p.name}.msgs_per_s`, value: round(p.perSecond), unit: 'msgs/s' })
      figures.push({ name: `migration.${label}.${p.name}.p99_ms`, value: round(p.p99, 3), unit: 'ms', ...(p.name === 'during' ? { goal: '< 5x before' } : {}) })
      figures.push({ name: `migration.${label}.${p.name}.errors`, value: p.errors, unit: 'calls' })
    }
  }
  const notes = [
    `Real node processes on 127.0.0.1. Handoff rate: one node with ${moveWorkers.toLocaleString('en-US')} 'blob' workers (a counter and 1 KB of bytes), a 2nd joins with the budget lifted (migrationsPerSecond 1e9, rebalanceDelayMs 0); rate = workers moved over the time from the first to the last one leaving; lost: ${raw.lost}.`,
    `Join and drain: 3 nodes, ${workers.toLocaleString('en-US')} 'counter' workers, every original node calling ids picked uniformly at random, ${inFlight} in flight each, throughout; default budget (2,000 handoffs/s per node). "during" runs from the join (or the drain call) until every node's migration backlog is 0; seconds partly outside a phase are left out of it; p50/p99 from per-second histograms of 5%-wide buckets. Shares after the join: ${shares.map(s => s.toLocaleString('en-US')).join(', ')}. Call errors: join ${JSON.stringify(join.errorNames)}, drain ${JSON.stringify(drain.errorNames)}.`
  ]
  return { scenario: 'migration', rows, figures, notes, charts: [...changeCharts('join', join), ...changeCharts('drain', drain)] }
}

await runAlone(import.meta.url, async () => await migrationBench({}))
