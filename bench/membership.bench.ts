/**
 * The membership scenario: for clusters of several sizes, each node a real process on
 * 127.0.0.1, how long a node takes to start and join, how long the cluster takes to
 * agree, what an idle node costs (CPU and memory), and how fast a killed node is seen down.
 */
import { readFileSync } from 'node:fs'
import { Cluster } from '@simplepool/testing'
import { median, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link membershipBench}. */
export interface MembershipBenchOptions {
  /** Cluster sizes to measure. Default [3, 10, 20]. */
  sizes?: number[]
  /** Seconds of idle time over which CPU is measured. Default 5. */
  idleSeconds?: number
  quiet?: boolean
}

const CLOCK_TICKS = 100

/** User + system CPU seconds a process has used, from /proc (Linux). */
function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m == null ? NaN : Number(m[1]) / 1024
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

/** Runs the scenario; every cluster is stopped before it returns, also on failure. */
export async function membershipBench (opts: MembershipBenchOptions = {}): Promise<ScenarioResult> {
  const sizes = opts.sizes ?? [3, 10, 20]
  const idleSeconds = opts.idleSeconds ?? 5
  const log = (s: string): void => { if (opts.quiet !== true) process.stderr.write(`membership: ${s}\n`) }
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []

  for (const n of sizes) {
    const cluster = new Cluster({ startTimeoutMs: 30_000 })
    try {
      const startMs: number[] = []
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        await cluster.addNode()
        startMs.push(performance.now() - t)
      }
      const t = performance.now()
      await cluster.waitForConvergence({ timeoutMs: 60_000 })
      const convergeMs = performance.now() - t
      log(`${n} nodes started (median ${median(startMs).toFixed(0)} ms each), agreed ${convergeMs.toFixed(0)} ms after the last`)

      const pids = cluster.nodes.map(h => h.process.pid as number)
      const before = pids.map(cpuSeconds)
      await new Promise(resolve => setTimeout(resolve, idleSeconds * 1_000))
      const cpu = pids.map((p, i) => (cpuSeconds(p) - before[i]) / idleSeconds * 100)
      const rss = pids.map(rssMb)

      const victim = cluster.nodes[n - 1]
      const others = cluster.nodes.slice(0, n - 1)
      const killedAt = Date.now()
      victim.kill('SIGKILL')
      const seen = await Promise.all(others.map(async h =>
        h.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === victim.peerId && e.at >= killedAt, 30_000, 'member:down')))
      const downMs = Math.max(...seen.map(e => e.at - killedAt))
      // a member that was marked down before the kill (an overloaded machine) says so here
      const falseDowns = cluster.nodes.reduce((sum, h) => sum + h.events.filter(e => e.name === 'member:down' && e.at < killedAt).length, 0)
      log(`${n} nodes: idle CPU ${median(cpu).toFixed(1)}% of a core per node, killed node down everywhere in ${downMs} ms`)

      rows.push({
        nodes: n,
        'start+join ms (median)': round(median(startMs), 0),
        'start+join ms (max)': round(Math.max(...startMs), 0),
        'agree ms': round(convergeMs, 0),
        'idle CPU %/node': round(median(cpu)),
        'RSS MB/node': round(median(rss), 0),
        'kill seen ms (max)': downMs,
        'false downs': falseDowns
      })
      figures.push(
        { name: `membership.${n}.startJoinMs.median`, value: round(median(startMs), 0), unit: 'ms', goal: '< 1000 per node' },
        { name: `membership.${n}.agreeMs`, value: round(convergeMs, 0), unit: 'ms' },
        { name: `membership.${n}.idleCpuPercent`, value: round(median(cpu)), unit: '% of a core per node' },
        { name: `membership.${n}.rssMb`, value: round(median(rss), 0), unit: 'MB per node' },
        { name: `membership.${n}.killSeenMs`, value: downMs, unit: 'ms', goal: '< 1000' },
        { name: `membership.${n}.falseDowns`, value: falseDowns, unit: 'member:down events before the kill' }
      )
    } finally {
      await cluster.stop()
    }
  }
  return {
    scenario: 'membership',
    rows,
    figures,
    notes: [
      'Nodes start one after another; start+join is fork to joined, measured by the parent.',
      `Idle CPU over ${idleSeconds} s with no traffic but membership: records every 500 ms (longer past 10 members: at most 20 received per second), gossip relays.`,
      'kill seen: SIGKILL to the last node until every other node has emitted member:down for it.',
      'false downs: member:down events any node emitted before the kill, while every node was alive.'
    ]
  }
}

await runAlone(import.meta.url, async () => await membershipBench({}))
