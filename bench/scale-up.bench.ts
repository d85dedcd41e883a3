/**
 * The scale-up scenario: 3 node processes hold 1,000,000 rooms (as in million) under Zipf
 * traffic from every node; a 4th node joins. Time until the cluster is rebalanced (every
 * node's migration backlog 0), msgs/s and call p99 before, during and after. Needs the
 * build (`npm run bench` does it): `node --import tsx bench/scale-up.bench.ts`.
 */
import { startCluster } from '@simplepool/testing'
import { changeCharts, localCount, underTraffic } from './migration.bench.js'
import type { Change } from './migration.bench.js'
import { POOL, PREFIX, activateRooms } from './million.bench.js'
import { Progress } from './progress.js'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link scaleUpBench}. */
export interface ScaleUpBenchOptions {
  /** Rooms. @default 1,000,000 */
  workers?: number
  /** Nodes before the join. @default 3 */
  nodes?: number
  quiet?: boolean
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

/** Runs the scenario; the cluster is stopped at the end, also on failure. */
export async function scaleUpBench (opts: ScaleUpBenchOptions = {}): Promise<ScenarioResult> {
  const workers = opts.workers ?? 1_000_000
  const nodeCount = opts.nodes ?? 3
  const progress = new Progress('scale-up', opts.quiet === true)
  progress.done(`starting ${nodeCount} nodes`)
  // every node's target is the same: after the join each should hold 1/(n+1) of the rooms
  const cluster = await startCluster({ nodes: nodeCount, pools: [POOL], targets: { [POOL]: Math.ceil(workers / nodeCount) }, startTimeoutMs: 30_000 })
  try {
    const callers = [...cluster.nodes]
    await activateRooms(callers, workers, progress)
    const traffic = { command: 'zipfTraffic', args: { pool: POOL, prefix: PREFIX, n: workers, inFlight: 128, castEvery: 4, msg: 'get', cast: 'say' } }
    progress.done('Zipf traffic from every node; then a node joins')
    const join: Change = await underTraffic(callers, () => cluster.running, traffic, async () => {
      await cluster.addNode()
    }, (line) => { progress.done(line) })
    const shares = await Promise.all(cluster.running.map(async x => await localCount(x, POOL)))
    const moved = shares[shares.length - 1]
    const before = join.phases[0]
    const rows: ScenarioResult['rows'] = []
    const figures: Figure[] = []
    const yes = (ok: boolean): string => (ok ? 'yes' : 'NO')
    rows.push({ measure: `a node joins ${nodeCount} holding ${fmt(workers)} rooms: time to rebalance`, value: round(join.rebalanceMs), unit: 'ms', goal: '', met: '' })
    figures.push({ name: 'scale_up.rebalance_ms', value: round(join.rebalanceMs), unit: 'ms' })
    rows.push({ measure: '  rooms it took', value: moved, unit: 'rooms', goal: '', met: '' })
    figures.push({ name: 'scale_up.moved', value: moved, unit: 'rooms' })
    for (const p of join.phases) {
      rows.push({ measure: `${p.name}: msgs/s (${p.seconds} s)`, value: round(p.perSecond), unit: 'msgs/s', goal: '', met: '' })
      const goal = p.name === 'during' ? `< 5x before (${round(before.p99 * 5, 1)})` : ''
      rows.push({ measure: `${p.name}: call p99 (p50 ${round(p.p50, 2)})`, value: round(p.p99, 2), unit: 'ms', goal, met: p.name === 'during' ? yes(p.p99 < before.p99 * 5) : '' })
      figures.push({ name: `scale_up.${p.name}.msgs_per_s`, value: round(p.perSecond), unit: 'msgs/s' })
      figures.push({ name: `scale_up.${p.name}.p99_ms`, value: round(p.p99, 3), unit: 'ms' })
      figures.push({ name: `scale_up.${p.name}.errors`, value: p.errors, unit: 'messages' })
    }
    const notes = [
      `Real node processes on 127.0.0.1, the room pool; ${fmt(workers)} rooms activated by every node at once, then Zipf traffic (s = 1.0, 128 in flight per node, one message in 4 a cast) from the ${nodeCount} original nodes throughout; a node joins after 6 s. "during" runs from the join until every node's migration backlog is 0, at the default budget (2,000 handoffs/s per node; traffic moves more through claims); whole seconds only. Rooms per node after: ${shares.map(fmt).join(', ')}. Errors: ${JSON.stringify(join.errorNames)}.`
    ]
    return { scenario: 'scale-up', rows, figures, notes, charts: changeCharts('join', join) }
  } finally {
    await cluster.stop()
  }
}

await runAlone(import.meta.url, async () => await scaleUpBench({}))
