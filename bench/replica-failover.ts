/**
 * Failover with replicas, in real node processes: three nodes on 127.0.0.1 activate
 * `workers` workers of the harness's `replicated` pool (a counter, no store, `replicas: 1`
 * sync), two of them send increments to a sample of those workers, and the third is
 * killed (SIGKILL) under that traffic. Measured: from the kill until every sampled worker
 * the killed node owned answers, and how many acknowledged increments were lost (each
 * sampled worker's value against the increments acknowledged to it). And the memory a
 * replica costs: each node's heap and array buffers over the activation, against the
 * replicas it keeps and their bytes.
 */
import { startCluster } from '@simplepool/testing'
import type { NodeHandle } from '@simplepool/testing'
import { round } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

const POOL = 'replicated'
const PREFIX = 'f-'
/** Workers that take increments (the first ids): the sample whose counts are checked. */
const SAMPLE = 10_000

interface Memory { heapUsed: number, arrayBuffers: number }
interface IncTraffic { acks: number[], failed: number[], errors: Record<string, number> }
interface Health { replicas?: { count: number, bytes: number } }

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

async function replicasOf (nodes: readonly NodeHandle[]): Promise<{ replicas: number, bytes: number }> {
  const hs = await Promise.all(nodes.map(async n => await n.request<Health>('health')))
  return hs.reduce((s, h) => ({ replicas: s.replicas + (h.replicas?.count ?? 0), bytes: s.bytes + (h.replicas?.bytes ?? 0) }), { replicas: 0, bytes: 0 })
}

/** Runs the failover part; the cluster is stopped at the end, also on failure. */
export async function replicaFailover (workers: number, log: (s: string) => void): Promise<Pick<ScenarioResult, 'rows' | 'figures' | 'notes'>> {
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  const add = (name: string, what: string, value: number, unit: string): void => {
    rows.push({ what: `${what}: ${value.toLocaleString('en-US')} ${unit}`, 'per s': '', 'p50 ms': '', 'p99 ms': '' })
    figures.push({ name: `failover.${name}`, value, unit })
  }
  const cluster = await startCluster({ nodes: 3, pools: [POOL], targets: { [POOL]: Math.ceil(workers / 3) }, startTimeoutMs: 30_000 })
  try {
    const nodes = cluster.nodes
    const [a, b, victim] = nodes
    const before = await Promise.all(nodes.map(async n => await n.request<Memory>('memory')))
    const slice = Math.ceil(workers / 3)
    const t0 = performance.now()
    await Promise.all(nodes.map(async (node, k) => await node.request('spawnMany',
      { pool: POOL, prefix: PREFIX, from: k * slice, n: Math.max(0, Math.min(slice, workers - k * slice)), timeoutMs: 300_000 }, 900_000)))
    const activationMs = performance.now() - t0
    // the replicas follow their workers' activation: wait until every worker has one
    let kept = await replicasOf(nodes)
    for (const end = Date.now() + 120_000; kept.replicas < workers && Date.now() < end; kept = await replicasOf(nodes)) await sleep(250)
    const after = await Promise.all(nodes.map(async n => await n.request<Memory>('memory')))
    const grown = after.reduce((s, m, i) => s + (m.heapUsed - before[i].heapUsed) + (m.arrayBuffers - before[i].arrayBuffers), 0)
    log(`${fmt(workers)} replicated workers activated in ${(activationMs / 1000).toFixed(1)} s; ${fmt(kept.replicas)} replicas, ${fmt(kept.bytes)} bytes of state; heap and buffers grew ${fmt(grown / workers)} bytes per worker`)
    add('activation_s', `activate ${fmt(workers)} workers with replicas: 1 (3 nodes)`, round(activationMs / 1000, 2), 's')
    add('replicas', '  replicas kept over the 3 nodes', kept.replicas, 'replicas')
    add('replica_state_bytes', '  state per replica (encoded)', round(kept.bytes / Math.max(1, kept.replicas), 1), 'bytes')
    add('bytes_per_worker', '  heap and buffers per worker and its replica (growth over activation)', round(grown / workers, 1), 'bytes')

    // increments to the sample from two nodes; the third is killed after 3 s of it
    const sample = Math.min(SAMPLE, workers)
    const owned = new Set(await a.request<number[]>('ownedBy', { pool: POOL, prefix: PREFIX, n: sample, peer: victim.peerId }))
    const traffic = Promise.all([a, b].map(async n => await n.request<IncTraffic>('incTraffic', { pool: POOL, prefix: PREFIX, n: sample, seconds: 8, concurrency: 64 }, 60_000)))
    await sleep(3_000)
    const killAt = Date.now()
    victim.kill('SIGKILL')
    const sweep = await a.request<{ reachableAt: number | null, rounds: number, errors: Record<string, number> }>('sweepUntilReachable',
      { pool: POOL, prefix: PREFIX, indices: [...owned], inFlight: 256, timeoutMs: 60_000 }, 90_000)
    const recoveryMs = sweep.reachableAt === null ? NaN : sweep.reachableAt - killAt
    const during = await traffic
    const values = (await a.request<Array<number | null>>('callEach', { pool: POOL, prefix: PREFIX, n: sample, msg: 'get' }, 120_000)).map(v => v ?? 0)
    let acked = 0
    let lost = 0
    let lostIds = 0
    let doubled = 0
    for (let i = 0; i < sample; i++) {
      const ack = during[0].acks[i] + during[1].acks[i]
      const failed = during[0].failed[i] + during[1].failed[i]
      acked += ack
      if (values[i] < ack) {
        lost += ack - values[i]
        lostIds++
      }
      if (values[i] > ack + failed) doubled++
    }
    const errors: Record<string, number> = {}
    for (const d of during) for (const [k, v] of Object.entries(d.errors)) errors[k] = (errors[k] ?? 0) + v
    log(`killed 1 of 3 under traffic: every sampled worker of the ${fmt(owned.size)} it owned answered ${fmt(recoveryMs)} ms after; ${fmt(acked)} increments acknowledged, ${fmt(lost)} lost (${lostIds} workers), ${doubled} above what was sent`)
    add('recovery_ms', `kill 1 of 3 under traffic: until every sampled worker it owned answers (${fmt(owned.size)})`, round(recoveryMs), 'ms')
    add('acked', '  increments acknowledged to the sample', acked, 'increments')
    add('lost', '  of them lost', lost, 'increments')
    add('above_sent', '  workers holding more than was sent', doubled, 'workers')
    const notes = [
      `Failover with replicas: 3 node processes on 127.0.0.1, the harness's replicated pool (a counter, no store, replicas: 1 sync). ${fmt(workers)} workers activated with spawnMany from every node; ` +
      `then two nodes send increments (64 in flight each) to the first ${fmt(sample)} workers for 8 s, and the third is killed (SIGKILL) 3 s in. Recovery: from the kill until a round of calls to every sampled worker the killed node owned (${fmt(owned.size)}, 256 in flight) in which all answered (${sweep.rounds} rounds; errors before ${JSON.stringify(sweep.errors)}). ` +
      `Lost: per sampled worker, increments acknowledged to it above the value it answers with after. Errors of the traffic (a call whose successor went down with it fails, and may have been kept or not): ${JSON.stringify(errors)}. ` +
      'Memory: each node\'s heap used and array buffers after full collections, before and after the activation and its replicas, summed, over the workers: a live worker and its replica on another node.'
    ]
    return { rows, figures, notes }
  } finally {
    await cluster.stop()
  }
}
