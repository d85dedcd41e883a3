/**
 * The scale scenario: N nodes started at once, as a cluster grows from 10 to 100 and past.
 * Nodes share a few processes (at most 25 a process, see scale-host.ts), beside three
 * processes of one node each: the seed every other node bootstraps from, a node killed
 * with SIGKILL and a node stopped with SIGSTOP (a process holds its nodes' fate together).
 * For each size: how long until every node sees N members up (from the moment all were
 * told to start), how long the slowest `createNode` took, idle CPU, bytes written and RSS
 * per node, 100 workers called once from every node (their counters read back: no
 * acknowledged increment may be missing),
 * `count()`, the time until every node marked the killed node down, and the stopped one,
 * and the members marked down that were never killed or stopped (false downs).
 * `BENCH_DEBUG=1` prints, every few seconds of the start, what the views of each process
 * lack; `BENCH_CPU_PROF=dir` has each host process write a CPU profile there as it exits
 * (see child.ts; the start is its first seconds).
 */
import { fileURLToPath } from 'node:url'
import { runMembershipModel } from '@simplepool/sim'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'
import type { Chart } from './svg.js'
import type { ScaleAnswer, ScaleAsk } from './scale-protocol.js'
import { Child, idleCost, sleep } from './child.js'

/** Options of {@link scaleBench}. */
export interface ScaleBenchOptions {
  /** Cluster sizes (at least 4: the seed, the killed and the stopped node, and one more). Default [10, 30, 100]. */
  sizes?: number[]
  /** Seconds of idle time over which CPU and bytes are measured. Default 10. */
  idleSeconds?: number
  /** How long every node may take to see every member up. Default 90 s. */
  convergeTimeoutMs?: number
  /** Sizes of the membership model (the witness detector alone, in virtual time). Default [100, 1000, 10000]; [] leaves it out. */
  modelSizes?: number[]
  /** The memberships to run each size on (`MeshInit.membership`). Default both: gossip, then witness. */
  memberships?: Array<'gossip' | 'witness'>
  quiet?: boolean
}

/** Nodes sharing one host process at most. */
const NODES_PER_PROCESS = 25

/** Figures of the gossip membership keep their names from before witness membership (`scale.N.x`); the witness's are `scale.witness.N.x`. */
function figureOf (membership: 'gossip' | 'witness'): string {
  return membership === 'gossip' ? 'scale' : 'scale.witness'
}
const HOST = fileURLToPath(new URL('./scale-host.ts', import.meta.url))

type Answer<T extends ScaleAnswer['type']> = Extract<ScaleAnswer, { type: T }>
/** A host process and the answers it owes. */
type Host = Child<ScaleAsk, ScaleAnswer>

/** One size: the row and figures, or what went wrong on the way (the rest of the row stays empty). */
async function measure (n: number, membership: 'gossip' | 'witness', opts: Required<Omit<ScaleBenchOptions, 'sizes' | 'quiet' | 'memberships' | 'modelSizes'>>, log: (s: string) => void): Promise<{ row: Record<string, string | number>, figures: Figure[] }> {
  const row: Record<string, string | number> = { nodes: n, membership }
  const figures: Figure[] = []
  const fig = (name: string, value: number, unit: string, goal?: string): void => {
    figures.push({ name: `${figureOf(membership)}.${n}.${name}`, value, unit, ...(goal !== undefined ? { goal } : {}) })
  }
  const rest = n - 3
  const processes = Math.ceil(rest / NODES_PER_PROCESS)
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(rest / processes) + (i < rest % processes ? 1 : 0))
  const seed = new Child<ScaleAsk, ScaleAnswer>(HOST)
  const killed = new Child<ScaleAsk, ScaleAnswer>(HOST)
  const stopped = new Child<ScaleAsk, ScaleAnswer>(HOST)
  const others = shares.map(() => new Child<ScaleAsk, ScaleAnswer>(HOST))
  const hosts = [seed, killed, stopped, ...others]
  const counts = [1, 1, 1, ...shares]
  try {
    await Promise.all(hosts.map(async h => await h.next('ready', 30_000)))
    const first = await seed.ask({ type: 'start', count: 1, bootstrap: [], membership, admin: true }, 'started')
    const bootstrap = first.nodes[0].addresses
    const t0 = performance.now()
    // settled with the error, not rejected: a step below that throws leaves none unhandled
    const starts = hosts.slice(1).map(async (h, i) => await h.ask({ type: 'start', count: counts[i + 1], bootstrap, membership }, 'started', 180_000).catch((err: Error) => err))
    // every node's view, until each sees all N up
    let full = 0
    let largest = 0
    let convergeMs = NaN
    let polls = 0
    while (performance.now() - t0 < opts.convergeTimeoutMs) {
      await sleep(250)
      const answers = await Promise.all(hosts.map(async h => await h.ask({ type: 'views' }, 'views')))
      const up = answers.flatMap(a => a.up)
      if (process.env.BENCH_DEBUG !== undefined && ++polls % 16 === 0) {
        log(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${up.filter(u => u === n).length} full; lacking by host: ${answers.map(a => JSON.stringify(a.lacking ?? {})).join(' ')}`)
      }
      full = up.filter(u => u === n).length
      largest = Math.max(...up)
      if (full === n) {
        convergeMs = performance.now() - t0
        break
      }
    }
    const answers = await Promise.all(starts)
    const broken = answers.find(a => a instanceof Error)
    if (broken !== undefined) throw broken
    const started = answers as Array<Answer<'started'>>
    const peers = [first, ...started].map(s => s.nodes.map(x => x.peerId))
    const startMs = started.flatMap(s => s.startMs)
    const failed: Record<string, number> = {}
    for (const st of started) for (const [k, v] of Object.entries(st.failed)) failed[k] = (failed[k] ?? 0) + v
    const failedStarts = Object.values(failed).reduce((a, b) => a + b, 0)
    row['createNode max s'] = startMs.length === 0 ? 'none started' : round(Math.max(...startMs) / 1000, 1)
    row['all up s'] = Number.isNaN(convergeMs) ? `no: ${full} full, largest view ${largest}` : round(convergeMs / 1000, 1)
    fig('createNodeMaxMs', round(Math.max(...startMs), 0), 'ms')
    if (!Number.isNaN(convergeMs)) fig('allUpMs', round(convergeMs, 0), 'ms', n <= 100 ? '< 10000' : undefined)
    log(`${n} nodes: createNode slowest ${(Math.max(...startMs) / 1000).toFixed(1)} s${failedStarts > 0 ? `, ${failedStarts} failed (${JSON.stringify(failed)})` : ''}; ${Number.isNaN(convergeMs) ? `no full view after ${opts.convergeTimeoutMs / 1000} s (${full} nodes with one, largest view ${largest})` : `every node saw ${n} up after ${(convergeMs / 1000).toFixed(1)} s`}`)

    // idle: CPU and bytes written by every process, per node
    const pids = hosts.map(h => h.pid)
    const idleFrom = Date.now()
    const { cpuPercent: cpuPerNode, bytesPerSecond: bytesPerNode, rssMb: rssPerNode } = await idleCost(pids, n, opts.idleSeconds, row, fig)
    const idleTo = Date.now()
    // (no victim yet: every down in the idle window is false)
    const idleDowns = (await Promise.all(hosts.map(async h => (await h.ask({ type: 'downs' }, 'downs')).downs))).flat(2).filter(d => d.at >= idleFrom && d.at <= idleTo).length
    row['idle false downs'] = idleDowns
    fig('idleFalseDowns', idleDowns, 'member:down events', '0')
    log(`${n} nodes idle: ${cpuPerNode.toFixed(2)}% of a core, ${(bytesPerNode / 1024).toFixed(1)} KB/s written, ${rssPerNode.toFixed(0)} MB RSS per node; ${idleDowns} false downs over the ${opts.idleSeconds} s`)

    // 100 workers, called once from every node; then each counter read back
    const ids = Array.from({ length: 100 }, (_, i) => `w${i}`)
    const calls = await Promise.all(hosts.map(async h => await h.ask({ type: 'calls', ids }, 'calls', 300_000)))
    const running = 1 + startMs.length
    const ok = calls.reduce((s, c) => s + c.ok, 0)
    const errors: Record<string, number> = {}
    for (const c of calls) for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v
    const samples: Record<string, string> = {}
    for (const c of calls) for (const [k, v] of Object.entries(c.samples)) samples[k] ??= v
    const sum = (id: string, of: 'acked' | 'unsure'): number => calls.reduce((s, c) => s + (c[of][id] ?? 0), 0)
    const read = await seed.ask({ type: 'read', ids }, 'read', 60_000)
    // lost: increments acknowledged and not in the counter; extra: counted beyond every call that may have been
    let lost = 0
    let extra = 0
    ids.forEach((id, i) => {
      const v = read.values?.[i] ?? 0
      lost += Math.max(0, sum(id, 'acked') - v)
      extra += Math.max(0, v - sum(id, 'acked') - sum(id, 'unsure'))
    })
    const count = await seed.ask({ type: 'count' }, 'count', 60_000)
    row.running = running
    row['calls ok'] = `${ok}/${running * 100}`
    row['acked lost'] = read.values === undefined ? `unread: ${String(read.error)}` : lost
    row['count()'] = count.count ?? String(count.error)
    fig('callsFailed', running * 100 - ok, 'calls')
    if (read.values !== undefined) fig('ackedLost', lost, 'increments', '0')
    log(`${n} nodes (${running} running): ${ok} of ${running * 100} calls answered${Object.keys(errors).length > 0 ? ` (${JSON.stringify(errors)})` : ''}, slowest ${Math.max(...calls.map(c => c.slowestMs)).toFixed(0)} ms; ` +
      (read.values === undefined ? `counters unread (${String(read.error)})` : `${lost} acknowledged increments lost, ${extra} counted beyond every call made`) + `; count() ${count.count ?? count.error}`)
    for (const [name, message] of Object.entries(samples)) log(`${n} nodes: a ${name}: ${message}`)

    // what an operator reads at this size, from the seed's admin API, the cluster all up
    if (first.adminPort !== undefined) {
      const views = await operatorViews(first.adminPort)
      for (const [name, v] of Object.entries(views.reads)) {
        row[`${name} ms`] = round(v.medianMs, 0)
        fig(`${name.replace(/\W+/g, '')}Ms`, round(v.medianMs, 1), 'ms', '< 200')
      }
      row['tick KB (20 rows / all)'] = `${(views.tickBytes.rows20 / 1024).toFixed(1)} / ${(views.tickBytes.all / 1024).toFixed(1)}`
      fig('tickBytes20Rows', views.tickBytes.rows20, 'bytes')
      fig('tickBytesAll', views.tickBytes.all, 'bytes')
      log(`${n} nodes: ${Object.entries(views.reads).map(([k, v]) => `${k} ${v.medianMs.toFixed(0)} ms (slowest ${v.maxMs.toFixed(0)}, ${(v.bytes / 1024).toFixed(1)} KB)`).join(', ')}; a watch tick of 20 rows ${views.tickBytes.rows20} B, of every node ${views.tickBytes.all} B`)
    }

    // kill -9 of one node, then SIGSTOP of another: until every other node marked it down
    const downBy = async (victim: string, since: number, watchers: Host[], expect: number, timeoutMs: number): Promise<number> => {
      while (Date.now() - since < timeoutMs) {
        await sleep(50)
        const seen = (await Promise.all(watchers.map(async h => (await h.ask({ type: 'downs' }, 'downs')).downs))).flat()
          .map(list => list.find(d => d.peerId === victim && d.at >= since)?.at)
        if (seen.filter(at => at !== undefined).length >= expect) return Math.max(...seen.map(at => at ?? 0)) - since
      }
      return NaN
    }
    // (a victim whose node did not start is not measured: NaN)
    const killedAt = Date.now()
    killed.proc.kill('SIGKILL')
    const killMs = peers[1].length === 0 ? NaN : await downBy(peers[1][0], killedAt, [seed, stopped, ...others], running - 1, 30_000)
    const stoppedAt = Date.now()
    stopped.proc.kill('SIGSTOP')
    const stopMs = peers[2].length === 0 ? NaN : await downBy(peers[2][0], stoppedAt, [seed, ...others], running - 1 - peers[1].length, 60_000)
    stopped.proc.kill('SIGKILL')
    row['kill -9 down s'] = Number.isNaN(killMs) ? 'no' : round(killMs / 1000, 2)
    row['SIGSTOP down s'] = Number.isNaN(stopMs) ? 'no' : round(stopMs / 1000, 2)
    if (!Number.isNaN(killMs)) fig('killDownMs', killMs, 'ms', '< 2000')
    if (!Number.isNaN(stopMs)) fig('hungDownMs', stopMs, 'ms', '< 5000')

    // false downs: any member marked down that was neither killed nor stopped, over the whole run
    const victims = new Set([peers[1][0], peers[2][0]])
    const all = (await Promise.all([seed, ...others].map(async h => (await h.ask({ type: 'downs' }, 'downs')).downs))).flat(2)
    const falseDowns = all.filter(d => !victims.has(d.peerId)).length
    row['false downs'] = falseDowns
    fig('falseDowns', falseDowns, 'member:down events', '0')
    log(`${n} nodes: killed node down everywhere after ${killMs} ms, stopped node after ${stopMs} ms; ${falseDowns} false downs`)
  } catch (err) {
    row.error = (err as Error).message
    log(`${n} nodes: ${(err as Error).message}`)
  } finally {
    await Promise.all(hosts.map(async h => { await h.stop({ type: 'stop' }) }))
  }
  return { row, figures }
}

/**
 * The reads an operator makes at this size, of one node's admin API: `/v1/nodes` (every
 * member's health, asked of it) and `/v1/cluster` (what `simplepool status` prints: the
 * members and every member's rings, asked of it), 5 of each after one unmeasured, one at
 * a time, their median and slowest; and the bytes of a watch tick with 20 rows and with
 * every node's.
 */
async function operatorViews (port: number): Promise<{ reads: Record<string, { medianMs: number, maxMs: number, bytes: number }>, tickBytes: { rows20: number, all: number } }> {
  const base = `http://127.0.0.1:${port}`
  const reads: Record<string, { medianMs: number, maxMs: number, bytes: number }> = {}
  for (const path of ['/v1/nodes', '/v1/cluster']) {
    const times: number[] = []
    let bytes = 0
    for (let i = 0; i < 6; i++) {
      const t = performance.now()
      const res = await fetch(base + path, { signal: AbortSignal.timeout(30_000) })
      bytes = (await res.arrayBuffer()).byteLength
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`)
      if (i > 0) times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    reads[path] = { medianMs: times[Math.floor(times.length / 2)], maxMs: times[times.length - 1], bytes }
  }
  return { reads, tickBytes: { rows20: await tickBytes(`${base}/v1/watch?rows=20`), all: await tickBytes(`${base}/v1/watch`) } }
}

/** The bytes of the first `tick` event a watch stream sends (its `event:` and `data:` lines). */
async function tickBytes (url: string): Promise<number> {
  const abort = new AbortController()
  const timer = setTimeout(() => { abort.abort() }, 30_000)
  try {
    const res = await fetch(url, { signal: abort.signal })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`the watch ${url} ended before a tick`)
      text += decoder.decode(value, { stream: true })
      const at = text.indexOf('event: tick\n')
      const end = at < 0 ? -1 : text.indexOf('\n\n', at)
      if (end >= 0) return Buffer.byteLength(text.slice(at, end + 2))
    }
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

/** Runs the scenario; every process it forked is gone before it returns, also on failure. */
export async function scaleBench (opts: ScaleBenchOptions = {}): Promise<ScenarioResult> {
  const sizes = opts.sizes ?? [10, 30, 100]
  const bad = sizes.filter(n => !Number.isInteger(n) || n < 4)
  if (bad.length > 0) throw new Error(`the scale scenario needs at least 4 nodes a cluster, got ${bad.join(', ')}`)
  const o = { idleSeconds: opts.idleSeconds ?? 10, convergeTimeoutMs: opts.convergeTimeoutMs ?? 90_000 }
  const log = (s: string): void => { if (opts.quiet !== true) process.stderr.write(`scale: ${s}\n`) }
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  const memberships = opts.memberships ?? ['gossip', 'witness']
  for (const membership of memberships) {
    for (const n of sizes) {
      const r = await measure(n, membership, o, log)
      rows.push(r.row)
      figures.push(...r.figures)
    }
  }
  // the next design's failure detection, alone, in virtual time: 20% of messages lost, a
  // 500 ms pause per node per minute, 20 virtual seconds (10,000 nodes: about two minutes)
  const modelSizes = opts.modelSizes ?? [100, 1_000, 10_000]
  const model: Array<Awaited<ReturnType<typeof runMembershipModel>>> = []
  for (const n of modelSizes) {
    const r = await runMembershipModel({ nodes: n, seconds: 20, loss: 0.2, pausesPerMinute: 1, seed: 1 })
    model.push(r)
    const ms = (x: number): number | string => Number.isNaN(x) ? 'never' : round(x, 0)
    rows.push({
      nodes: n,
      'model: kill -9 down ms': ms(r.killDownMs),
      'model: hung down ms': ms(r.hangDownMs),
      'model: cut off down ms': ms(r.cutDownMs),
      'model: healed ms': ms(r.recoveredMs),
      'model: false downs': r.falseDowns,
      'model: held down while leased': r.downWhileLeased,
      'model: msgs/node/s': round(r.messagesPerNodePerSecond, 1)
    })
    figures.push(
      { name: `scale.model.${n}.killDownMs`, value: round(r.killDownMs, 0), unit: 'ms (virtual)' },
      { name: `scale.model.${n}.hungDownMs`, value: round(r.hangDownMs, 0), unit: 'ms (virtual)', goal: '< 5000' },
      { name: `scale.model.${n}.falseDowns`, value: r.falseDowns, unit: 'downs', goal: '0' },
      { name: `scale.model.${n}.heldDownWhileLeased`, value: r.downWhileLeased, unit: 'samples', goal: '0' },
      { name: `scale.model.${n}.messagesPerNodePerSecond`, value: round(r.messagesPerNodePerSecond, 1), unit: 'msgs/s' }
    )
    log(`model, ${n} nodes: killed node down everywhere after ${r.killDownMs.toFixed(0)} ms, hung ${r.hangDownMs.toFixed(0)} ms, cut off ${r.cutDownMs.toFixed(0)} ms (virtual); ${r.falseDowns} false downs; ${r.messagesPerNodePerSecond.toFixed(1)} msgs per node a second (${(r.wallMs / 1000).toFixed(0)} s to run)`)
  }
  const modelLine = (title: string, value: (r: typeof model[number]) => number): Chart['lines'][number] => ({ name: title, points: model.map(r => [r.nodes, value(r)] as [number, number]).filter(p => !Number.isNaN(p[1])) })
  const against = (name: string, title: string, y: string): Chart => ({
    title,
    x: 'nodes',
    y,
    lines: memberships.map(m => ({ name: m, points: sizes.map(n => [n, figures.find(f => f.name === `${figureOf(m)}.${n}.${name}`)?.value ?? NaN] as [number, number]).filter(p => !Number.isNaN(p[1])) }))
  })
  return {
    scenario: 'scale',
    rows,
    figures,
    charts: [
      against('allUpMs', 'time until every node sees every member up', 'ms'),
      against('idleCpuPercentPerNode', 'idle CPU per node', '% of a core'),
      against('idleBytesPerNodePerSecond', 'bytes written per node per second, idle', 'B/s'),
      against('killDownMs', 'kill -9: until every node marked it down', 'ms'),
      against('hungDownMs', 'SIGSTOP: until every node marked it down', 'ms'),
      ...(model.length === 0
        ? []
        : [
            { title: 'model: until every node holds a failed node down (virtual time, 20% loss)', x: 'nodes', y: 'ms', lines: [modelLine('kill -9', r => r.killDownMs), modelLine('hung', r => r.hangDownMs), modelLine('cut off', r => r.cutDownMs)] },
            { title: 'model: messages each node sends a second', x: 'nodes', y: 'msgs/s', lines: [modelLine('witness detector', r => r.messagesPerNodePerSecond)] }
          ])
    ],
    notes: [
      `Nodes share processes, at most ${NODES_PER_PROCESS} a process, in one machine: a process's nodes share its event loop, so a stall of one is a stall of all (what a node pays alone would read lower). Three nodes have a process each: the seed the others bootstrap from, the one killed, the one stopped.`,
      'all up: from the moment every node but the seed was told to start (createNode, all at once) until every node saw all N members up and alive.',
      `Idle over ${o.idleSeconds} s: CPU and bytes written (wchar: records, gossip, pings; all loopback) of every process, divided by N.`,
      'calls: one call to each of 100 workers (counters) from every node that started; acked lost: increments acknowledged to a caller and missing from the counter read after (must be 0).',
      'false downs: member:down events for a member never killed nor stopped, from start to end.',
      'model: the witness failure detector of docs/design/membership-v2.md alone (`npm run sim -- --membership`), N nodes in virtual time, 20% of messages lost, a 500 ms pause per node per minute, one node killed, one hung and one cut off 2 s in, the hung node resumed and the cut healed 8 s later (healed: until no node holds them down); held down while leased: samples at which a node that had not learnt it was down held its lease while another held it down (must be 0); the times are virtual.',
      'membership: `gossip` is the mesh\'s default (records on a heartbeat over a full mesh); `witness` is `createNode({ membership: \'witness\' })` (docs/design/membership-v2.md), joined through the one seed node.'
    ]
  }
}

await runAlone(import.meta.url, async () => await scaleBench())
