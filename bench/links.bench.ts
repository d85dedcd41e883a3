/**
 * The links scenario: what opening connections costs when many nodes start at once, the
 * figure the membership design at scale rests on (docs/design/membership-v2.md). N bare
 * libp2p hosts (TCP, Noise, Yamux, as a node's) share a few processes (at most 25 each,
 * as in the scale scenario); on a signal each host dials, all at once, the peers it links
 * with: its K witnesses by rendezvous hashing (a pair that names each other dials once),
 * or every other host (a full mesh, as the mesh dials today). Measured: the time until
 * the last dial ended, CPU per connection (both ends, over the dials and a second after,
 * less the idle rate), and dials that failed three times. Hosts of two kinds: `link`
 * (no service) and `mesh` (Identify and gossipsub, today's host), whose Identify runs on
 * every new connection.
 */
import { fileURLToPath } from 'node:url'
import { Child, cpuSeconds, sleep } from './child.js'
import { witnessesOf } from '../packages/mesh/src/witness/witnesses.js'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'
import type { LinksAnswer, LinksAsk } from './links-protocol.js'

/** One case: N hosts of a kind, each linking with K witnesses ('all': a full mesh). */
export interface LinksCase { nodes: number, witnesses: number | 'all', kind: 'link' | 'mesh' }

export interface LinksBenchOptions {
  cases?: LinksCase[]
  quiet?: boolean
}

const HOSTS_PER_PROCESS = 25
const DIAL_TIMEOUT_MS = 10_000
const HOST = fileURLToPath(new URL('./links-host.ts', import.meta.url))

/** The default cases: K=8 links as N grows, fewer witnesses and today's host at 100, and a full mesh at 30. */
export function defaultLinksCases (nodes?: number): LinksCase[] {
  if (nodes !== undefined) return [8, 6, 4].map(k => ({ nodes, witnesses: k, kind: 'link' as const })).concat([{ nodes, witnesses: 8, kind: 'mesh' }])
  return [
    { nodes: 10, witnesses: 8, kind: 'link' },
    { nodes: 30, witnesses: 8, kind: 'link' },
    { nodes: 100, witnesses: 8, kind: 'link' },
    { nodes: 100, witnesses: 6, kind: 'link' },
    { nodes: 100, witnesses: 4, kind: 'link' },
    { nodes: 100, witnesses: 8, kind: 'mesh' },
    { nodes: 30, witnesses: 'all', kind: 'link' },
    { nodes: 30, witnesses: 'all', kind: 'mesh' }
  ]
}

/** Who dials whom: each pair of linked hosts once (the one naming the other; of two naming each other, the smaller id). */
export function dialPlan (ids: readonly string[], witnesses: number | 'all'): Map<string, string[]> {
  const k = witnesses === 'all' ? ids.length - 1 : witnesses
  const named = new Map(ids.map(id => [id, new Set(witnessesOf(id, ids, k))]))
  const plan = new Map<string, string[]>(ids.map(id => [id, []]))
  for (const [id, ws] of named) {
    for (const w of ws) if (!(named.get(w)?.has(id) === true && w < id)) plan.get(id)?.push(w)
  }
  return plan
}

async function measure (c: LinksCase): Promise<{ row: Record<string, string | number>, figures: Figure[] }> {
  const processes = Math.ceil(c.nodes / HOSTS_PER_PROCESS)
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(c.nodes / processes) + (i < c.nodes % processes ? 1 : 0))
  const hosts = shares.map(() => new Child<LinksAsk, LinksAnswer>(HOST))
  try {
    await Promise.all(hosts.map(async h => await h.next('ready', 30_000)))
    const started = await Promise.all(hosts.map(async (h, i) => await h.ask({ type: 'start', count: shares[i], kind: c.kind }, 'started')))
    const all = started.flatMap(s => s.hosts)
    const addresses = Object.fromEntries(all.map(h => [h.peerId, h.address]))
    const plan = dialPlan(all.map(h => h.peerId), c.witnesses)
    const pairs = [...plan.values()].reduce((s, l) => s + l.length, 0)
    const pids = hosts.map(h => h.pid)
    // the idle rate of the hosts before any dial (gossipsub's heartbeat, timers)
    const idle0 = pids.map(cpuSeconds)
    await sleep(1_000)
    const idleRate = pids.reduce((s, p, i) => s + cpuSeconds(p) - idle0[i], 0)
    const cpu0 = pids.map(cpuSeconds)
    const t0 = performance.now()
    const answers = await Promise.all(hosts.map(async (h, i) => {
      const mine = started[i].hosts.map(x => x.peerId)
      return await h.ask({ type: 'go', dials: Object.fromEntries(mine.map(id => [id, plan.get(id) ?? []])), addresses, timeoutMs: DIAL_TIMEOUT_MS }, 'dialed', 5 * 60_000)
    }))
    const wallMs = performance.now() - t0
    // what the handshakes leave running (Identify runs after a dial resolves)
    await sleep(1_000)
    const seconds = (performance.now() - t0) / 1000
    const cpuMs = Math.max(0, pids.reduce((s, p, i) => s + cpuSeconds(p) - cpu0[i], 0) - idleRate * seconds) * 1000
    const failed = answers.reduce((s, a) => s + a.failed, 0)
    const errors: Record<string, number> = {}
    for (const a of answers) for (const [k, v] of Object.entries(a.errors)) errors[k] = (errors[k] ?? 0) + v
    // once every process is done: a host's links are dialed by it and by others
    const connections = (await Promise.all(hosts.map(async h => (await h.ask({ type: 'count' }, 'count')).connections))).flat()
    const name = `links.${c.nodes}.${String(c.witnesses)}.${c.kind}`
    return {
      row: {
        nodes: c.nodes,
        witnesses: c.witnesses === 'all' ? 'all (full mesh)' : c.witnesses,
        host: c.kind === 'link' ? 'link (no service)' : 'mesh (Identify, gossipsub)',
        connections: pairs,
        'links/node': round(2 * pairs / c.nodes, 1),
        'all dialed s': round(wallMs / 1000, 1),
        'CPU ms/connection': round(cpuMs / Math.max(1, pairs), 1),
        'failed dials': failed,
        'failed tries': Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ') || 0,
        'fewest links': Math.min(...connections)
      },
      figures: [
        { name: `${name}.allDialedMs`, value: round(wallMs, 0), unit: 'ms' },
        { name: `${name}.cpuMsPerConnection`, value: round(cpuMs / Math.max(1, pairs), 1), unit: 'ms' },
        { name: `${name}.failedDials`, value: failed, unit: 'dials', goal: '0' }
      ]
    }
  } finally {
    await Promise.all(hosts.map(async h => { await h.stop({ type: 'stop' }) }))
  }
}

export async function linksBench (opts: LinksBenchOptions = {}): Promise<ScenarioResult> {
  const log = (s: string): void => { if (opts.quiet !== true) process.stderr.write(`links: ${s}\n`) }
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  for (const c of opts.cases ?? defaultLinksCases()) {
    const r = await measure(c)
    rows.push(r.row)
    figures.push(...r.figures)
    log(`${c.nodes} nodes, ${String(c.witnesses)} witnesses, ${c.kind} host: ${String(r.row.connections)} connections dialed in ${String(r.row['all dialed s'])} s, ${String(r.row['CPU ms/connection'])} ms of CPU each, ${String(r.row['failed dials'])} failed`)
  }
  return {
    scenario: 'links',
    rows,
    figures,
    notes: [
      `Hosts share processes of at most ${HOSTS_PER_PROCESS}; every host dials its links at once, each dial tried three times with a ${DIAL_TIMEOUT_MS / 1000} s deadline.`,
      'CPU per connection is both ends of it, over the dials and one second after (Identify runs once a dial resolves), less the hosts\' idle rate.'
    ]
  }
}

await runAlone(import.meta.url, async () => await linksBench())
