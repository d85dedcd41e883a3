/**
 * The witness scenario: the membership of the next design at scale
 * (docs/design/membership-v2.md) on real hosts, before the mesh uses it. N bare libp2p
 * hosts (TCP, Noise, Yamux) share processes of at most 25, beside two processes of one
 * node each: one killed with SIGKILL, one stopped with SIGSTOP. All start at once; each is
 * given the same three bootstrap nodes, pulls the member list from one of them, names its
 * K witnesses by rendezvous hashing, and runs `WitnessMembership` (the list pushed over
 * the links, the failure detector beside it) over `WitnessLinks`. Measured: the time until
 * every node sees all N members up (announced, and not held down) and holds its lease (its links are up and a majority
 * of its group echoes it), idle CPU, bytes written and RSS per node, the time until every
 * other node holds the killed node down, and the stopped one, and the members held down
 * that were neither (false downs).
 */
import { fileURLToPath } from 'node:url'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'
import { Child, idleCost, sleep } from './child.js'
import type { WitnessAnswer, WitnessAsk } from './witness-protocol.js'
import { WITNESS_DEFAULTS } from '../packages/mesh/src/witness/witness-options.js'

export interface WitnessBenchOptions {
  /** Cluster sizes (at least 4). Default [10, 30, 100]. */
  sizes?: number[]
  /** Witnesses per member. Default the detector's (6). */
  witnesses?: number
  /** Seconds of idle time over which CPU and bytes are measured. Default 10. */
  idleSeconds?: number
  quiet?: boolean
}

const NODES_PER_PROCESS = 25
const HOST = fileURLToPath(new URL('./witness-host.ts', import.meta.url))
type Host = Child<WitnessAsk, WitnessAnswer>

/** Polls every node's state until `done` holds of all of them (the time, ms) or `timeoutMs` passes (NaN). */
async function until (hosts: Host[], done: (s: { leased: boolean[], up: number[], downs: Array<Record<string, number>> }) => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now()
  let polls = 0
  while (performance.now() - t0 < timeoutMs) {
    const states = await Promise.all(hosts.map(async h => await h.ask({ type: 'state' }, 'state')))
    const all = { leased: states.flatMap(s => s.leased), up: states.flatMap(s => s.up), downs: states.flatMap(s => s.downs) }
    if (done(all)) return performance.now() - t0
    if (process.env.BENCH_DEBUG !== undefined && ++polls % 40 === 0) {
      process.stderr.write(`witness: ${((performance.now() - t0) / 1000).toFixed(1)} s: ${all.leased.filter(l => l).length} leased; members seen up ${Math.min(...all.up)}-${Math.max(...all.up)}\n`)
    }
    await sleep(50)
  }
  return NaN
}

async function measure (n: number, k: number, idleSeconds: number, log: (s: string) => void): Promise<{ row: Record<string, string | number>, figures: Figure[] }> {
  const row: Record<string, string | number> = { nodes: n, witnesses: k }
  const figures: Figure[] = []
  const fig = (name: string, value: number, unit: string, goal?: string): void => { figures.push({ name: `witness.${n}.${name}`, value, unit, ...(goal !== undefined ? { goal } : {}) }) }
  const rest = n - 2
  const processes = Math.ceil(rest / NODES_PER_PROCESS)
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(rest / processes) + (i < rest % processes ? 1 : 0))
  const killed = new Child<WitnessAsk, WitnessAnswer>(HOST)
  const stopped = new Child<WitnessAsk, WitnessAnswer>(HOST)
  const others = shares.map(() => new Child<WitnessAsk, WitnessAnswer>(HOST))
  const hosts = [killed, stopped, ...others]
  const counts = [1, 1, ...shares]
  try {
    await Promise.all(hosts.map(async h => await h.next('ready', 30_000)))
    const started = await Promise.all(hosts.map(async (h, i) => await h.ask({ type: 'start', count: counts[i] }, 'started')))
    // three nodes of the shared processes are the bootstrap list every node is given
    const peers = started.slice(2).flatMap(s => s.nodes).slice(0, 3)
    await Promise.all(hosts.map(async h => await h.ask({ type: 'bootstrap', peers, witnesses: k }, 'linked')))
    const victimKilled = started[0].nodes[0].peerId
    const victimStopped = started[1].nodes[0].peerId
    await Promise.all(hosts.map(async h => await h.ask({ type: 'go' }, 'going')))
    const upMs = await until(hosts, s => s.leased.every(l => l) && s.up.every(a => a === n), 60_000)
    row['all see N up s'] = Number.isNaN(upMs) ? 'no (60 s)' : round(upMs / 1000, 2)
    if (!Number.isNaN(upMs)) fig('allUpMs', round(upMs, 0), 'ms', n >= 100 ? '< 10000' : undefined)
    // what the start cost in connections (each a handshake at both ends), against those still open
    const after = await Promise.all(hosts.map(async h => await h.ask({ type: 'state' }, 'state')))
    const perNode = (f: (s: WitnessAnswer & { type: 'state' }) => number[]): number => after.reduce((sum, s) => sum + f(s).reduce((a, b) => a + b, 0), 0) / n
    row['conns opened/node'] = round(perNode(s => s.opened), 1)
    row['conns open/node'] = round(perNode(s => s.open), 1)
    fig('connectionsOpenedPerNode', row['conns opened/node'], 'connections')
    fig('connectionsOpenPerNode', row['conns open/node'], 'connections')

    const { cpuPercent: cpuPerNode, bytesPerSecond: bytesPerNode, rssMb: rssPerNode } = await idleCost(hosts.map(h => h.pid), n, idleSeconds, row, fig)

    // the observers: every node but the two victims
    const watching = others
    const heldByAll = (victim: string) => (s: { downs: Array<Record<string, number>> }): boolean => s.downs.every(d => d[victim] !== undefined)
    killed.proc.kill('SIGKILL')
    const killMs = await until(watching, heldByAll(victimKilled), 30_000)
    stopped.proc.kill('SIGSTOP')
    const stopMs = await until(watching, heldByAll(victimStopped), 30_000)
    const end = await Promise.all(watching.map(async h => await h.ask({ type: 'state' }, 'state')))
    const falseDowns = end.flatMap(s => s.downs).reduce((sum, d) => sum + Object.keys(d).filter(p => p !== victimKilled && p !== victimStopped).length, 0)
    stopped.proc.kill('SIGKILL')
    row['kill -9 down s'] = Number.isNaN(killMs) ? 'no (30 s)' : round(killMs / 1000, 2)
    row['SIGSTOP down s'] = Number.isNaN(stopMs) ? 'no (30 s)' : round(stopMs / 1000, 2)
    row['false downs'] = falseDowns
    if (!Number.isNaN(killMs)) fig('killDownMs', round(killMs, 0), 'ms', '< 2000')
    if (!Number.isNaN(stopMs)) fig('stopDownMs', round(stopMs, 0), 'ms', '< 5000')
    fig('falseDowns', falseDowns, 'downs', '0')
    log(`${n} nodes: every node saw ${n} up and held its lease after ${String(row['all see N up s'])} s; idle ${cpuPerNode.toFixed(2)}% of a core, ${(bytesPerNode / 1024).toFixed(1)} KB/s, ${rssPerNode.toFixed(0)} MB per node; kill -9 down everywhere after ${String(row['kill -9 down s'])} s, SIGSTOP after ${String(row['SIGSTOP down s'])} s; ${falseDowns} false downs`)
    return { row, figures }
  } finally {
    await Promise.all(hosts.map(async h => { await h.stop({ type: 'stop' }) }))
  }
}

export async function witnessBench (opts: WitnessBenchOptions = {}): Promise<ScenarioResult> {
  const sizes = opts.sizes ?? [10, 30, 100]
  const bad = sizes.filter(n => !Number.isInteger(n) || n < 4)
  if (bad.length > 0) throw new Error(`the witness scenario needs at least 4 nodes, got ${bad.join(', ')}`)
  const log = (s: string): void => { if (opts.quiet !== true) process.stderr.write(`witness: ${s}\n`) }
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  for (const n of sizes) {
    const r = await measure(n, opts.witnesses ?? WITNESS_DEFAULTS.witnesses, opts.idleSeconds ?? 10, log)
    rows.push(r.row)
    figures.push(...r.figures)
  }
  return {
    scenario: 'witness',
    rows,
    figures,
    notes: [`Nodes share processes of at most ${NODES_PER_PROCESS}; the killed and the stopped node have one each. The detector's defaults: a beat every 500 ms, a doubt after 2 s of silence, a lease of 1.5 s.`]
  }
}

await runAlone(import.meta.url, async () => await witnessBench())
