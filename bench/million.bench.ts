/**
 * The million scenario: 3 node processes on 127.0.0.1 activate 1,000,000 chat rooms (the
 * harness's `room` pool: two numbers of state) in bulk, then load generators run for 60 s,
 * each in a process of its own (a member of the cluster that holds no room: its target is
 * 0), picking rooms by a Zipf law (s = 1.0) and mixing calls ('get') with casts ('say');
 * then one node is killed under traffic and the rooms it held are called until every one
 * answers again. `generators: 0` runs a generator inside each node process instead.
 * Everything is timed inside the nodes or on the wall clock around them. Needs the build
 * (`npm run bench` does it):
 * `node --import tsx bench/million.bench.ts`.
 */
import { startCluster } from '@simplepool/testing'
import type { NodeHandle } from '@simplepool/testing'
import { Progress } from './progress.js'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'
import { errorNames, overTime, windowOf } from './series.js'
import type { Series } from './series.js'
import type { Chart } from './svg.js'

/** Options of {@link millionBench}. */
export interface MillionBenchOptions {
  /** Rooms to activate. @default 1,000,000 */
  workers?: number
  /** Node processes. @default 3 */
  nodes?: number
  /** Seconds of measured traffic. @default 60 */
  duration?: number
  /** Messages outstanding per node's load generator. @default 128 */
  inFlight?: number
  /** One message in this many is a cast. @default 4 */
  castEvery?: number
  /** Load generator processes, members that hold no room; 0 runs one inside each node process. @default 3 */
  generators?: number
  quiet?: boolean
}

interface Memory { rss: number, heapUsed: number }

export const POOL = 'room'
export const PREFIX = 'r-'
/** Unmeasured traffic first, so the generators' and nodes' code is warm. */
const WARMUP_S = 5
/** Rooms of the killed node called, round after round, until all answer: a sample, so a round is short. */
const FAILOVER_SAMPLE = 10_000

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

const MB = 1024 * 1024
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

async function localCount (node: NodeHandle): Promise<number> {
  return (await node.request<{ value: number }>('count', { pool: POOL, local: true })).value
}

/**
 * Activates rooms `r-0`..`r-(workers-1)`: every node calls `spawnMany` on a slice at once
 * (its batches go to their owners), with the count and rate on the status line and sampled
 * four times a second for the charts.
 */
export async function activateRooms (nodes: NodeHandle[], workers: number, progress: Progress): Promise<{ activationMs: number, perNode: number[], live: number, activationCounts: Array<{ t: number, counts: number[] }> }> {
  const slice = Math.ceil(workers / nodes.length)
  const t0 = performance.now()
  const spawning = Promise.all(nodes.map(async (node, k) => await node.request<{ live: number }>('spawnMany',
    { pool: POOL, prefix: PREFIX, from: k * slice, n: Math.max(0, Math.min(slice, workers - k * slice)), timeoutMs: 120_000 }, 900_000)))
  let finished = false
  void spawning.finally(() => { finished = true }).catch(() => {})
  const activationCounts: Array<{ t: number, counts: number[] }> = []
  while (!finished) {
    await sleep(250)
    const counts = await Promise.all(nodes.map(localCount))
    const sum = counts.reduce((a, b) => a + b, 0)
    const s = (performance.now() - t0) / 1000
    activationCounts.push({ t: s, counts })
    progress.update(`activated ${fmt(sum)} / ${fmt(workers)} in ${s.toFixed(1)} s (${fmt(sum / s)}/s)`)
  }
  await spawning
  const activationMs = performance.now() - t0
  const perNode = await Promise.all(nodes.map(localCount))
  const live = perNode.reduce((a, b) => a + b, 0)
  progress.done(`activated ${fmt(live)} in ${(activationMs / 1000).toFixed(1)} s (${fmt(live / activationMs * 1000)}/s); per node ${perNode.map(fmt).join(', ')}`)
  return { activationMs, perNode, live, activationCounts }
}

/** Runs the scenario; the cluster is stopped at the end, also on failure. */
export async function millionBench (opts: MillionBenchOptions = {}): Promise<ScenarioResult> {
  const workers = opts.workers ?? 1_000_000
  const nodeCount = opts.nodes ?? 3
  const duration = opts.duration ?? 60
  const inFlight = opts.inFlight ?? 128
  const castEvery = opts.castEvery ?? 4
  const generatorCount = opts.generators ?? 3
  const quiet = opts.quiet === true
  const progress = new Progress('million', quiet)
  progress.done(`starting ${nodeCount} nodes`)
  // each node's target is its share, so the hard limits (1.5x) leave room for an uneven ring
  const cluster = await startCluster({ nodes: nodeCount, pools: [POOL], targets: { [POOL]: Math.ceil(workers / nodeCount) }, startTimeoutMs: 30_000 })
  try {
    // a copy: the load generators join the cluster later, and are not nodes that hold rooms
    const nodes = [...cluster.nodes]
    const before = await Promise.all(nodes.map(async n => await n.request<Memory>('memory')))

    const { activationMs, perNode, live, activationCounts } = await activateRooms(nodes, workers, progress)
    const after = await Promise.all(nodes.map(async n => await n.request<Memory>('memory')))
    const heapGrowth = after.reduce((s, m, i) => s + m.heapUsed - before[i].heapUsed, 0)
    const rssTotal = after.reduce((s, m) => s + m.rss, 0)

    // the load generators: members that own nothing, so every message they send crosses to a node
    const generators: NodeHandle[] = []
    for (let i = 0; i < generatorCount; i++) {
      progress.update(`starting load generator ${i + 1} of ${generatorCount}`)
      generators.push(await cluster.addNode({ name: `load-${i + 1}`, targets: { [POOL]: 0 } }))
    }
    if (generatorCount > 0) progress.done(`${generatorCount} load generator processes joined`)
    const senders = generatorCount > 0 ? generators : nodes

    // traffic
    const traffic = { pool: POOL, prefix: PREFIX, n: workers, inFlight, castEvery, msg: 'get', cast: 'say' }
    progress.done(`warm-up traffic, ${WARMUP_S} s`)
    await Promise.all(senders.map(async n => await n.request('zipfTraffic', { ...traffic, seconds: WARMUP_S }, 120_000)))
    const trafficStart = Date.now()
    const running = Promise.all(senders.map(async n => await n.request<Series>('zipfTraffic', { ...traffic, seconds: duration }, (duration + 120) * 1000)))
    let done = false
    void running.finally(() => { done = true })
    while (!done) {
      await sleep(500)
      progress.update(`Zipf traffic from ${generatorCount > 0 ? `${generatorCount} load generators` : 'every node'}: ${Math.min(duration, Math.round((Date.now() - trafficStart) / 1000))} / ${duration} s`)
    }
    const series = await running
    const steady = windowOf(series, trafficStart, trafficStart + duration * 1000)
    const health = await Promise.all(nodes.map(async n => await n.request<{ eventLoopDelayP99Ms: number }>('health')))
    const generatorHealth = await Promise.all(generators.map(async n => await n.request<{ eventLoopDelayP99Ms: number }>('health')))
    progress.done(`traffic: ${fmt(steady.perSecond)} msgs/s, call p99 ${steady.p99.toFixed(2)} ms`)

    // failover: kill the last node under traffic; call a sample of its rooms until all answer
    const victim = nodes[nodes.length - 1]
    const survivors = nodes.slice(0, -1)
    const lost = await survivors[0].request<number[]>('ownedBy', { pool: POOL, prefix: PREFIX, n: workers, peer: victim.peerId })
    const sample = Array.from({ length: Math.min(FAILOVER_SAMPLE, lost.length) }, () => lost[Math.floor(Math.random() * lost.length)])
    const failSenders = generatorCount > 0 ? generators : survivors
    const failTraffic = Promise.all(failSenders.map(async n => await n.request<Series>('zipfTraffic', { ...traffic, seconds: 120 }, 240_000)))
    await sleep(3_000)
    progress.done(`killing ${victim.name} (${fmt(lost.length)} rooms) under traffic`)
    const killAt = Date.now()
    victim.kill('SIGKILL')
    const sweep = await survivors[0].request<{ reachableAt: number | null, rounds: number, errors: Record<string, number> }>('sweepUntilReachable',
      { pool: POOL, prefix: PREFIX, indices: sample, inFlight: 256, timeoutMs: 60_000 }, 90_000)
    const recoveredAt = sweep.reachableAt ?? Date.now()
    // the rooms the survivors hold now, once a second: the killed node's come back as they are called
    const failCounts: Array<{ t: number, counts: number[] }> = []
    for (let i = 0; i < 6; i++) {
      failCounts.push({ t: (Date.now() - killAt) / 1000, counts: await Promise.all(survivors.map(localCount)) })
      await sleep(500)
    }
    const stopAt = Date.now()
    await Promise.all(failSenders.map(async n => await n.request('stopTraffic')))
    const failSeries = await failTraffic
    const outage = windowOf(failSeries, Math.floor((killAt - failSeries[0].startedAt) / 1000) * 1000 + failSeries[0].startedAt, recoveredAt + 1000)
    const afterFail = windowOf(failSeries, recoveredAt + 1000, stopAt)
    const recoveryMs = sweep.reachableAt === null ? NaN : sweep.reachableAt - killAt
    progress.done(`every sampled room answered again ${fmt(recoveryMs)} ms after the kill`)

    const rows: ScenarioResult['rows'] = []
    const figures: Figure[] = []
    const yes = (ok: boolean): string => (ok ? 'yes' : 'NO')
    const add = (name: string, measure: string, value: number, unit: string, goal = '', met = ''): void => {
      rows.push({ measure, value, unit, goal, met })
      figures.push({ name: `million.${name}`, value, unit, ...(goal !== '' ? { goal } : {}) })
    }
    add('activation_s', `activate ${fmt(live)} rooms (spawnMany from every node)`, round(activationMs / 1000, 2), 's', '< 10', yes(activationMs < 10_000))
    add('activations_per_s', 'activations per second', round(live / activationMs * 1000), '/s')
    add('rss_total_mb', `RSS of the ${nodeCount} nodes`, round(rssTotal / MB), 'MB', '< 2,048', yes(rssTotal < 2048 * MB))
    after.forEach((m, i) => { add(`node${i + 1}.rss_mb`, `  node ${i + 1}: RSS / heap used`, round(m.rss / MB), `MB (heap ${round(m.heapUsed / MB)})`) })
    add('bytes_per_worker', 'heap per room (growth over activation)', round(heapGrowth / live, 1), 'bytes')
    add('msgs_per_s', `Zipf traffic, ${duration} s: calls + casts`, round(steady.perSecond), 'msgs/s', '>= 500,000', yes(steady.perSecond >= 500_000))
    add('call_p50_ms', '  call p50', round(steady.p50, 3), 'ms')
    add('call_p99_ms', '  call p99', round(steady.p99, 3), 'ms', '< 5', yes(steady.p99 < 5))
    add('call_p999_ms', '  call p99.9', round(steady.p999, 3), 'ms')
    health.forEach((h, i) => { add(`node${i + 1}.loop_delay_p99_ms`, `  node ${i + 1}: event-loop delay p99`, round(h.eventLoopDelayP99Ms, 1), 'ms') })
    generatorHealth.forEach((h, i) => { add(`load${i + 1}.loop_delay_p99_ms`, `  load generator ${i + 1}: event-loop delay p99`, round(h.eventLoopDelayP99Ms, 1), 'ms') })
    add('failover_ms', `kill 1 of ${nodeCount}: until every sampled room answers`, round(recoveryMs), 'ms', '< 2,000', yes(recoveryMs < 2_000))
    add('failover_errors', '  failed messages in that window', outage.errors, 'messages')
    add('after_failover_msgs_per_s', `  msgs/s on ${survivors.length} nodes after`, round(afterFail.perSecond), 'msgs/s')

    const notes = [
      `Real node processes on 127.0.0.1 (TCP, Noise, Yamux), the harness's room pool (state: two numbers). Activation: each node calls spawnMany on a slice of the ids 'r-0'..'r-${workers - 1}' at once; the time runs from the first call until all resolved (sync: every room's init has run). Per node: ${perNode.map(fmt).join(', ')}.`,
      "Memory after full collections, after activation; heap per room is the growth of the nodes' heaps over the activation, over the rooms (id, activation and state: what the runtime keeps per worker).",
      `Traffic: ${generatorCount > 0 ? `${generatorCount} load generators, each in a process of its own (a member of the cluster with a target of 0 for the rooms: every message crosses to the node that holds its room), each` : 'every node runs a load generator'} (${inFlight} in flight) picking rooms by a Zipf law (s = 1.0; the most popular rooms spread over the ring), one message in ${castEvery} a cast ('say'), the rest calls ('get'); ${WARMUP_S} s unmeasured first. Calls ${fmt(steady.calls)}, casts ${fmt(steady.casts)} over ${steady.seconds} s; latency of calls, from per-second histograms (5%-wide buckets). Errors: ${steady.errors === 0 ? 'none' : JSON.stringify(errorNames(series))}.`,
      `Failover: the load generators keep running; ${victim.name} is killed (SIGKILL) after 3 s; a survivor calls ${fmt(sample.length)} rooms picked at random among the ${fmt(lost.length)} the killed node owned, round after round (256 in flight), until a round in which every one answered; the figure is from the kill to the start of that round (${sweep.rounds} rounds). Failed messages: those of the load generators from the second of the kill to a second after recovery, ${JSON.stringify(errorNames(failSeries))} in all; sweep errors ${JSON.stringify(sweep.errors)}. The rooms come back from init (this pool has no store).`
    ]
    const steadyTime = overTime(series, trafficStart)
    const failTime = overTime(failSeries, killAt)
    const charts: Chart[] = [
      { title: `Zipf traffic on ${nodeCount} nodes, ${fmt(live)} rooms`, x: 's since the traffic began', y: 'msgs/s (calls + casts)', lines: [{ name: 'msgs/s', points: steadyTime.msgs }] },
      { title: 'Call latency, per second', x: 's since the traffic began', y: 'ms', lines: [{ name: 'p50', points: steadyTime.p50 }, { name: 'p99', points: steadyTime.p99 }] },
      {
        title: 'Rooms per node while activating',
        x: 's since spawnMany began',
        y: 'rooms',
        lines: nodes.map((_, i) => ({ name: `node ${i + 1}`, points: activationCounts.map(c => [c.t, c.counts[i]] as [number, number]) }))
      },
      {
        title: `Failover: traffic on the ${survivors.length} survivors around the kill`,
        x: 's since the kill',
        y: 'msgs/s (calls + casts)',
        lines: [{ name: 'msgs/s', points: failTime.msgs }],
        marks: [{ x: 0, label: 'kill' }, { x: recoveryMs / 1000, label: 'all answer' }]
      },
      {
        title: 'Failover: call latency around the kill',
        x: 's since the kill',
        y: 'ms',
        lines: [{ name: 'p50', points: failTime.p50 }, { name: 'p99', points: failTime.p99 }],
        marks: [{ x: 0, label: 'kill' }, { x: recoveryMs / 1000, label: 'all answer' }]
      },
      {
        title: 'Rooms per surviving node after the kill',
        x: 's since the kill',
        y: 'rooms',
        lines: survivors.map((_, i) => ({ name: `node ${i + 1}`, points: failCounts.map(c => [c.t, c.counts[i]] as [number, number]) }))
      }
    ]
    return { scenario: 'million', rows, figures, notes, charts }
  } finally {
    await cluster.stop()
  }
}

await runAlone(import.meta.url, async () => await millionBench({}))
