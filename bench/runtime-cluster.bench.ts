/**
 * The runtime-cluster scenario: the pool runtime across real node processes on 127.0.0.1,
 * started with the test harness (`counter` test pool) and driven over IPC. Calls with 256
 * in flight from one node to workers the other owns; then three nodes with 300,000
 * workers, every node calling workers picked uniformly at random for about 10 s.
 * Everything is timed inside the node processes, so IPC to the harness is never on the clock.
 * Needs the build (`npm run bench` does it): `node --import tsx bench/runtime-cluster.bench.ts`.
 */
import { cpus } from 'node:os'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle, StatsDelta } from '@simplepool/testing'
import { median, repeated, round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link runtimeClusterBench}. */
export interface RuntimeClusterBenchOptions {
  /** Calls per measured run of remote calls (three runs). Default 200,000. */
  calls?: number
  /** Calls outstanding at all times, per calling node. Default 256. */
  inFlight?: number
  /** Workers of the three-node run. Default 300,000. */
  workers?: number
  /** Seconds of three-node traffic. Default 10. */
  seconds?: number
  /** No progress lines on stderr. */
  quiet?: boolean
}

interface Usage { wallMs: number, elu: number, cpuUserMs: number, cpuSystemMs: number }
interface RemoteRun { n: number, ms: number, perSecond: number, failures: Record<string, number>, p50: number, p99: number, p999: number, stats: StatsDelta, usage: Usage[] }
interface Traffic { calls: number, errors: Record<string, number>, seconds: number, perSecond: number, latencies: Float64Array }

const POOL = 'counter'
const RUNS = 3
/** Warm-up runs stop once one is less than this much faster than the one before... */
const WARM = 1.05
/** ...or after this many. */
const MAX_WARMUP_RUNS = 8
/** Unmeasured traffic before the three-node window: long enough for the climb above to level off. */
const WARMUP_SECONDS = 5
/** Distinct workers the two-node calls go to, round robin. */
const REMOTE_WORKERS = 10_000

/** Nearest-rank percentile of an ascending array. */
function percentile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

function pct (x: number): string {
  return `${Math.round(x * 100)}%`
}

/** Share of wall time a process was on CPU, counting every thread it has (GC, libuv). */
function cpuShare (u: Usage): number {
  return (u.cpuUserMs + u.cpuSystemMs) / u.wallMs
}

function errorCount (errors: Record<string, number>): number {
  return Object.values(errors).reduce((x, y) => x + y, 0)
}

async function usageOf<T> (nodes: NodeHandle[], run: () => Promise<T>): Promise<{ result: T, usage: Usage[] }> {
  await Promise.all(nodes.map(async n => n.request('benchMark')))
  const result = await run()
  const usage = await Promise.all(nodes.map(async n => n.request<Usage>('benchRead')))
  return { result, usage }
}

/** `member:down` events raised since `since`: under load, a node that falls silent for 2 s is taken for dead. */
function downsSince (cluster: Cluster, since: number): number {
  return cluster.nodes.reduce((sum, h) => sum + h.events.filter(e => e.name === 'member:down' && e.at >= since).length, 0)
}

async function remoteRun (caller: NodeHandle, callee: NodeHandle, calls: number, inFlight: number): Promise<RemoteRun> {
  const { result, usage } = await usageOf([caller, callee], async () =>
    caller.request<Omit<RemoteRun, 'usage'>>('remoteCalls', { pool: POOL, calls, inFlight, workers: REMOTE_WORKERS }, 120_000))
  return { ...result, usage }
}

/**
 * Two nodes; the first calls workers the second owns, 256 in flight. Unmeasured runs of
 * the same size go first (the first also activates the workers) until the rate stops
 * climbing: it keeps rising over the first million calls or so, as both processes' JIT
 * and heaps settle (the first run goes at about half the final rate), and a fixed single
 * warm-up left the measured runs still climbing. Then three measured runs.
 */
async function twoNodes (calls: number, inFlight: number, log: (s: string) => void): Promise<{ runs: RemoteRun[], warmups: number[], downs: number }> {
  log('starting 2 nodes')
  const cluster = await startCluster({ nodes: 2, pools: [POOL] })
  try {
    const [a, b] = cluster.nodes
    const since = Date.now()
    const warmups: number[] = []
    while (warmups.length < MAX_WARMUP_RUNS) {
      const rate = (await remoteRun(a, b, calls, inFlight)).perSecond
      log(`warm-up run ${warmups.length + 1}: ${Math.round(rate).toLocaleString('en-US')} calls/s`)
      const previous = warmups[warmups.length - 1]
      warmups.push(rate)
      if (previous !== undefined && rate < previous * WARM) break
    }
    const runs: RemoteRun[] = []
    for (let i = 0; i < RUNS; i++) {
      const r = await remoteRun(a, b, calls, inFlight)
      const failed = errorCount(r.failures)
      if (failed > 0) throw new Error(`remote calls failed: ${JSON.stringify(r.failures)}`)
      log(`remote calls run ${i + 1}: ${Math.round(r.perSecond).toLocaleString('en-US')} calls/s, p99 ${r.p99.toFixed(2)} ms`)
      runs.push(r)
    }
    return { runs, warmups, downs: downsSince(cluster, since) }
  } finally {
    await cluster.stop()
  }
}

interface ThreeNodes {
  spawnMs: number
  live: number
  localCounts: number[]
  traffic: Traffic[]
  usage: Usage[]
  latencies: Float64Array
  downs: number
}

/** Three nodes, `workers` activated by the first, then traffic from all three at once. */
async function threeNodes (workers: number, seconds: number, inFlight: number, log: (s: string) => void): Promise<ThreeNodes> {
  log('starting 3 nodes')
  const cluster = await startCluster({ nodes: 3, pools: [POOL] })
  try {
    const nodes = cluster.nodes
    const since = Date.now()
    log(`spawnMany of ${workers.toLocaleString('en-US')} workers`)
    const spawned = await nodes[0].request<{ live: number, ms: number }>('spawnMany', { pool: POOL, n: workers, prefix: 'w-' }, 300_000)
    const localCounts = await Promise.all(nodes.map(async n => (await n.request<{ ok: boolean, value: number }>('count', { pool: POOL, local: true })).value))
    // the generators' code paths, connections and every node's JIT settle before the clock runs
    log('warm-up traffic')
    const traffic = { pool: POOL, prefix: 'w-', n: workers, inFlight }
    await Promise.all(nodes.map(async n => n.request('trafficBench', { ...traffic, seconds: WARMUP_SECONDS }, 60_000)))
    log(`traffic for ${seconds} s from every node`)
    const { result, usage } = await usageOf(nodes, async () =>
      Promise.all(nodes.map(async n => n.request<Traffic>('trafficBench', { ...traffic, seconds }, seconds * 1000 + 60_000))))
    const all = new Float64Array(result.reduce((s, t) => s + t.latencies.length, 0))
    let at = 0
    for (const t of result) { all.set(t.latencies, at); at += t.latencies.length }
    all.sort()
    return { spawnMs: spawned.ms, live: spawned.live, localCounts, traffic: result, usage, latencies: all, downs: downsSince(cluster, since) }
  } finally {
    await cluster.stop()
  }
}

/**
 * Runs the scenario: remote calls between two processes, then a three-process cluster
 * with uniform random traffic. Each cluster is stopped before the next starts, also on failure.
 */
export async function runtimeClusterBench (opts: RuntimeClusterBenchOptions = {}): Promise<ScenarioResult> {
  const calls = opts.calls ?? 200_000
  const inFlight = opts.inFlight ?? 256
  const workers = opts.workers ?? 300_000
  const seconds = opts.seconds ?? 10
  const log = (line: string): void => { if (opts.quiet !== true) process.stderr.write(`runtime-cluster: ${line}\n`) }

  const two = await twoNodes(calls, inFlight, log)
  const three = await threeNodes(workers, seconds, inFlight, log)

  const rates = two.runs.map(r => r.perSecond)
  const remote = median(rates)
  const mid = two.runs.find(r => r.perSecond === remote) as RemoteRun
  const callsPerFrame = mid.stats.envelopesOut / mid.stats.framesOut
  const repliesPerFrame = mid.stats.envelopesIn / mid.stats.framesIn
  const totalCalls = three.traffic.reduce((s, t) => s + t.calls, 0)
  const trafficSeconds = Math.max(...three.traffic.map(t => t.seconds))
  const totalRate = totalCalls / trafficSeconds
  const trafficErrors: Record<string, number> = {}
  for (const t of three.traffic) for (const [k, v] of Object.entries(t.errors)) trafficErrors[k] = (trafficErrors[k] ?? 0) + v
  const p50 = percentile(three.latencies, 0.5)
  const p99 = percentile(three.latencies, 0.99)
  const p999 = percentile(three.latencies, 0.999)
  const spawnRate = three.live / (three.spawnMs / 1000)
  const w = workers.toLocaleString('en-US')

  const row = (measure: string, value: number, unit: string, goal = '', met = '', min?: number, max?: number): Record<string, string | number> =>
    ({ measure, median: value, min: min ?? '', max: max ?? '', unit, goal, met })
  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO')
  const rows: ScenarioResult['rows'] = [
    row(`2 nodes: remote calls, ${inFlight} in flight`, round(remote), 'calls/s', '>= 200,000', yes(remote >= 200_000), round(Math.min(...rates)), round(Math.max(...rates))),
    row('2 nodes: remote call p50', round(mid.p50, 3), 'ms'),
    row('2 nodes: remote call p99', round(mid.p99, 3), 'ms'),
    row('2 nodes: calls per frame', round(callsPerFrame, 1), 'env/frame'),
    row('2 nodes: replies per frame', round(repliesPerFrame, 1), 'env/frame'),
    row(`3 nodes: spawnMany ${w} (from one node)`, round(spawnRate), 'activations/s'),
    row(`3 nodes: uniform traffic, ${inFlight} in flight per node`, round(totalRate), 'msgs/s'),
    ...three.traffic.map((t, i) => row(`  node ${i + 1} calls`, round(t.perSecond), 'calls/s')),
    row('3 nodes: call p50', round(p50, 3), 'ms'),
    row('3 nodes: call p99', round(p99, 3), 'ms'),
    row('3 nodes: call p99.9', round(p999, 3), 'ms')
  ]

  const figures: Figure[] = [
    repeated('runtime_cluster.remote_calls_per_s', rates, 'calls/s', 0, '>= 200,000'),
    { name: 'runtime_cluster.remote_call_p50_ms', value: round(mid.p50, 4), unit: 'ms' },
    { name: 'runtime_cluster.remote_call_p99_ms', value: round(mid.p99, 4), unit: 'ms' },
    { name: 'runtime_cluster.remote_calls_per_frame', value: round(callsPerFrame, 1), unit: 'envelopes' },
    { name: 'runtime_cluster.remote_replies_per_frame', value: round(repliesPerFrame, 1), unit: 'envelopes' },
    { name: 'runtime_cluster.spawn_many_per_s', value: round(spawnRate), unit: 'activations/s' },
    { name: 'runtime_cluster.traffic_msgs_per_s', value: round(totalRate), unit: 'msgs/s' },
    { name: 'runtime_cluster.traffic_call_p50_ms', value: round(p50, 4), unit: 'ms' },
    { name: 'runtime_cluster.traffic_call_p99_ms', value: round(p99, 4), unit: 'ms' },
    { name: 'runtime_cluster.traffic_call_p999_ms', value: round(p999, 4), unit: 'ms' },
    { name: 'runtime_cluster.traffic_errors', value: errorCount(trafficErrors), unit: 'calls' },
    { name: 'runtime_cluster.member_down_events', value: two.downs + three.downs, unit: 'events' }
  ]

  const notes = [
    "Real node processes on 127.0.0.1 (TCP, Noise, Yamux) running the harness's counter pool ('inc' returns the count); every figure timed inside the nodes.",
    `2 nodes: node 1 calls ${REMOTE_WORKERS.toLocaleString('en-US')} workers that node 2 owns (ids whose owner in node 1's view is not node 1), round robin, ${inFlight} always in flight, ${calls.toLocaleString('en-US')} calls a run after unmeasured runs of the same size until the rate stopped climbing by 5% (${two.warmups.map(r => Math.round(r).toLocaleString('en-US')).join(', ')} calls/s); latency of every call as its caller saw it. Runs: ${rates.map(r => Math.round(r).toLocaleString('en-US')).join(', ')} calls/s.`,
    `2 nodes, main-thread busy (event-loop utilisation) caller/callee: ${two.runs.map(r => `${pct(r.usage[0].elu)}/${pct(r.usage[1].elu)}`).join(', ')}; CPU incl. other threads: ${two.runs.map(r => `${pct(cpuShare(r.usage[0]))}/${pct(cpuShare(r.usage[1]))}`).join(', ')}.`,
    `3 nodes: ${three.live.toLocaleString('en-US')} workers live after spawnMany from node 1 in ${round(three.spawnMs)} ms; per node ${three.localCounts.map(c => c.toLocaleString('en-US')).join(', ')}. Then every node calls ids picked uniformly at random (about two calls in three go to another node), ${inFlight} in flight per node, for ${seconds} s after ${WARMUP_SECONDS} s unmeasured; msgs/s is all nodes' calls over the longest node's time, latency percentiles over every call of all nodes (${totalCalls.toLocaleString('en-US')}).`,
    `3 nodes share ${cpus().length} cores: main-thread busy per node ${three.usage.map(u => pct(u.elu)).join(', ')}; CPU incl. other threads ${three.usage.map(u => pct(cpuShare(u))).join(', ')}. Call errors: ${errorCount(trafficErrors) === 0 ? 'none' : JSON.stringify(trafficErrors)}. member:down events during the scenario (false alarms under load): ${two.downs + three.downs}.`
  ]
  return { scenario: 'runtime-cluster', rows, figures, notes }
}

await runAlone(import.meta.url, async () => await runtimeClusterBench({}))
