/**
 * The admin scenario: what the admin API and its dashboard stream cost a working cluster.
 * 3 node processes on 127.0.0.1 serve the admin API (with a token), hold `--workers` rooms
 * (the harness's `room` pool) and run a steady, moderate traffic of calls at a fixed rate
 * from inside every node. Phases of `--duration` seconds: nobody watching, one dashboard
 * watcher (a reader of `GET /v1/watch` in this process), five watchers, nobody watching
 * again. For each: CPU of the serving node (the one the watchers read) and of the others,
 * read from /proc/<pid>/stat, ticks received per second, bytes per tick, and the traffic's
 * achieved rate and latency. Before the traffic, the same without traffic (a quiet
 * cluster), where the transport's message counters show how many node operations (Watch
 * calls) the others received. Then the time of the admin reads that ask every member.
 * Needs the build (`npm run bench` does it): `node --import tsx bench/admin.bench.ts`.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, get } from 'node:http'
import type { ClientRequest } from 'node:http'
import { cpus } from 'node:os'
import { StringDecoder } from 'node:string_decoder'
import { startCluster } from '@simplepool/testing'
import type { FixedRateResult } from '@simplepool/testing'
import { activateRooms } from './million.bench.js'
import { Progress } from './progress.js'
import { median, round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'
import type { Chart } from './svg.js'

/** Options of {@link adminBench}. */
export interface AdminBenchOptions {
  /** Rooms to activate. @default 300,000 */
  workers?: number
  /** Seconds of each phase. @default 10 */
  duration?: number
  /** Calls per second each node sends (open loop). @default 2,000 */
  rate?: number
  quiet?: boolean
}

const NODES = 3
const POOL = 'room'
const PREFIX = 'r-'
const TOKEN = 'admin-bench-token'
/** Distinct rooms each node's traffic goes to: ids another node owns, round robin. */
const TRAFFIC_WORKERS = 10_000
/** Seconds of traffic before a phase's window opens, and after it closes. */
const LEAD_S = 1
const TAIL_S = 1
/** Timed requests per admin read, after unmeasured ones. */
const READS = 20
const READ_WARMUP = 2
/** The largest watcher count of a phase. */
const MANY = 5
/** Seconds of the last quiet window, nobody watching after the watchers left. */
const QUIET_AFTER_S = 5

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux we know). */
function clockTicks (): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim())
    return Number.isInteger(n) && n > 0 ? n : 100
  } catch {
    return 100
  }
}

const HZ = clockTicks()

/** CPU seconds a process has used so far, all its threads (utime + stime of /proc/<pid>/stat). */
function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the command name may hold spaces: the fields that follow start after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is the state (field 3 of proc(5)): utime is field 14, stime 15
  return (Number(fields[11]) + Number(fields[12])) / HZ
}

/** Busy and total core time of the whole machine so far, in ms (every process, this one too). */
function machineTimes (): { busy: number, total: number } {
  let busy = 0
  let total = 0
  for (const c of cpus()) {
    busy += c.times.user + c.times.nice + c.times.sys + c.times.irq
    total += c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle
  }
  return { busy, total }
}

/** A dashboard: a reader of `GET /v1/watch` counting its events and bytes. */
class Watcher {
  ticks = 0
  tickBytes = 0
  /** When each tick arrived (performance.now()). */
  readonly tickTimes: number[] = []
  bytes = 0
  hello = false
  /** Bytes of the `hello` event that opens the stream. */
  helloBytes = 0
  /** The last tick, parsed: the dashboard's view of the cluster. */
  last?: { totals: { nodes: number, up: number, workers: number, msgsPerSec: number }, nodes: Array<{ error?: string }> }
  error?: Error
  closed = false
  private readonly req: ClientRequest
  private text = ''
  private readonly waiters = new Set<() => void>()

  constructor (port: number) {
    this.req = get({ host: '127.0.0.1', port, path: '/v1/watch', agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        this.fail(new Error(`GET /v1/watch answered ${String(res.statusCode)}`))
        res.resume()
        return
      }
      const decoder = new StringDecoder('utf8')
      res.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length
        this.text += decoder.write(chunk)
        this.parse()
      })
      res.on('end', () => { if (!this.closed) this.fail(new Error('the watch stream ended')) })
      res.on('error', (err) => { if (!this.closed) this.fail(err) })
    })
    this.req.on('error', (err) => { if (!this.closed) this.fail(err) })
  }

  /** Resolves once `n` ticks have arrived; rejects after `timeoutMs` or when the stream fails. */
  async ticked (n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.ticks < n) {
      if (this.error !== undefined) throw this.error
      if (Date.now() > deadline) throw new Error(`no tick within ${timeoutMs} ms (hello ${String(this.hello)}, ${this.bytes} bytes)`)
      await new Promise<void>(resolve => {
        const t = setTimeout(done, 100)
        function done (): void { clearTimeout(t); resolve() }
        this.waiters.add(done)
      })
    }
  }

  close (): void {
    this.closed = true
    this.req.destroy()
  }

  private fail (err: Error): void {
    this.error ??= err
    this.wake()
  }

  private wake (): void {
    for (const w of this.waiters) w()
    this.waiters.clear()
  }

  /** Cuts whole events (a blank line ends one) out of what arrived. */
  private parse (): void {
    let end: number
    while ((end = this.text.indexOf('\n\n')) >= 0) {
      const block = this.text.slice(0, end)
      this.text = this.text.slice(end + 2)
      const type = /^event: (.*)$/m.exec(block)?.[1]
      if (type === 'hello') {
        this.hello = true
        this.helloBytes = Buffer.byteLength(block) + 2
      }
      if (type !== 'tick') continue
      this.ticks++
      this.tickTimes.push(performance.now())
      this.tickBytes += Buffer.byteLength(block) + 2
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (data !== undefined) this.last = JSON.parse(data)
      this.wake()
    }
  }
}

/** A GET on a node's admin API: status, body and the time it took in ms. */
async function timedGet (agent: Agent, port: number, path: string): Promise<{ status: number, body: string, ms: number }> {
  const t0 = performance.now()
  return await new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => { req.destroy(new Error(`GET ${path} took more than 30 s`)) })
  })
}

/** A transport counter of a node, from its `/metrics` (read locally: no message between nodes). */
async function envelopesIn (agent: Agent, port: number): Promise<number> {
  const r = await timedGet(agent, port, '/metrics')
  const m = /^simplepool_transport_envelopes_in_total(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(r.body)
  if (m === null) throw new Error('no simplepool_transport_envelopes_in_total in /metrics')
  return Number(m[1])
}

/** What a window's start or end saw. */
interface Mark {
  at: number
  cpu: number[]
  machine: { busy: number, total: number }
  bench: NodeJS.CpuUsage
  ticks: number[]
  tickBytes: number[]
  envelopes?: number[]
}

/** What a window measured. */
interface Span {
  seconds: number
  /** CPU of each node, % of one core. */
  cpu: number[]
  /** Share of all cores busy over the window, every process of the machine, %. */
  machineBusy: number
  /** This process's CPU (the watchers' reading and parsing, the harness), % of one core. */
  benchCpu: number
  /** Ticks per second of each watcher: ticks in the window less one over the time from its first to its last. */
  ticksPerSecond: number[]
  /** The longest time between two ticks a watcher received in the window, over every watcher, ms. */
  longestGapMs: number
  /** Bytes per tick, over every watcher. */
  bytesPerTick: number
  /** Transport envelopes each node received during the window (quiet windows only). */
  envelopes?: number[]
}

/** Ticks per second and the longest gap between two, of arrival times inside [from, to). */
function tickRate (times: number[], from: number, to: number): { perSecond: number, longestGapMs: number } {
  const inside = times.filter(t => t >= from && t < to)
  let gap = 0
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i] - inside[i - 1])
  const span = inside.length >= 2 ? inside[inside.length - 1] - inside[0] : NaN
  return { perSecond: (inside.length - 1) / span * 1000, longestGapMs: gap }
}

function spanOf (a: Mark, b: Mark, watchers: Watcher[]): Span {
  const seconds = (b.at - a.at) / 1000
  const rates = watchers.map(w => tickRate(w.tickTimes, a.at, b.at))
  const bytes = b.tickBytes.reduce((s, x, i) => s + x - a.tickBytes[i], 0)
  const tickSum = b.ticks.reduce((s, x, i) => s + x - a.ticks[i], 0)
  const bench = (b.bench.user + b.bench.system - a.bench.user - a.bench.system) / 1000
  return {
    seconds,
    cpu: b.cpu.map((c, i) => (c - a.cpu[i]) / seconds * 100),
    machineBusy: (b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total) * 100,
    benchCpu: bench / (seconds * 1000) * 100,
    ticksPerSecond: rates.map(r => r.perSecond),
    longestGapMs: Math.max(0, ...rates.map(r => r.longestGapMs)),
    bytesPerTick: tickSum > 0 ? bytes / tickSum : NaN,
    ...(a.envelopes !== undefined && b.envelopes !== undefined ? { envelopes: b.envelopes.map((e, i) => e - (a.envelopes as number[])[i]) } : {})
  }
}

/** One phase under traffic: its window and what the load generators reported. */
interface Phase {
  key: string
  label: string
  watchers: number
  window: Span
  traffic: FixedRateResult[]
  /** The dashboard's own reading of the cluster's rate in its last tick (msgs/s), when watched. */
  tickRate?: number
  tickWorkers?: number
  tickErrors?: number
}

/** One window of the quiet cluster. */
interface QuietPhase { key: string, label: string, watchers: number, window: Span }

interface ReadTiming { path: string, label: string, ms: number[], bytes: number, status: number[], underTraffic: number }

/** Runs the scenario; the watchers are closed and the cluster stopped at the end, also on failure. */
export async function adminBench (opts: AdminBenchOptions = {}): Promise<ScenarioResult> {
  const workers = opts.workers ?? 300_000
  const duration = opts.duration ?? 10
  const rate = opts.rate ?? 2_000
  const quiet = opts.quiet === true
  const progress = new Progress('admin', quiet)
  progress.done(`starting ${NODES} nodes with the admin API`)
  const cluster = await startCluster({ nodes: NODES, pools: [POOL], targets: { [POOL]: Math.ceil(workers / NODES) }, admin: { token: TOKEN }, startTimeoutMs: 30_000 })
  const open = new Set<Watcher>()
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  let sampler: ReturnType<typeof setInterval> | undefined
  try {
    const nodes = cluster.nodes
    const ports = await Promise.all(nodes.map(async n => (await n.request<{ host: string, port: number } | null>('adminAddress'))?.port))
    if (ports.some(p => p === undefined)) throw new Error('a node has no admin API')
    const port = ports as number[]
    // the harness forks each node itself: its ChildProcess has the pid
    const pids = nodes.map(n => {
      if (n.process.pid === undefined) throw new Error(`no pid for ${n.name}`)
      return n.process.pid
    })

    const { activationMs, perNode, live } = await activateRooms(nodes, workers, progress)

    const watchers: Watcher[] = []
    const mark = async (withEnvelopes = false): Promise<Mark> => ({
      at: performance.now(),
      cpu: pids.map(cpuSeconds),
      machine: machineTimes(),
      bench: process.cpuUsage(),
      ticks: watchers.map(w => w.ticks),
      tickBytes: watchers.map(w => w.tickBytes),
      ...(withEnvelopes ? { envelopes: await Promise.all(port.map(async p => await envelopesIn(agent, p))) } : {})
    })
    const openWatchers = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const w = new Watcher(port[0])
        open.add(w)
        watchers.push(w)
      }
      // the first poll runs as the first stream opens: once each has a tick, the timer runs
      await Promise.all(watchers.map(async w => await w.ticked(1, 10_000)))
    }
    let helloBytes = 0
    const closeWatchers = async (): Promise<void> => {
      for (const w of watchers) helloBytes = Math.max(helloBytes, w.helloBytes)
      for (const w of watchers) { w.close(); open.delete(w) }
      watchers.length = 0
      // the node sees the sockets close and stops asking; let it, and let a last poll end
      await sleep(1_500)
    }
    const wait = async (what: string, seconds: number): Promise<void> => {
      const t0 = performance.now()
      for (;;) {
        const s = (performance.now() - t0) / 1000
        if (s >= seconds) return
        const ticks = watchers.reduce((sum, w) => sum + w.ticks, 0)
        progress.update(`${what}: ${Math.floor(s)} / ${seconds} s${watchers.length > 0 ? `, ${ticks} ticks` : ''}`)
        await sleep(Math.min(500, (seconds - s) * 1000))
      }
    }
    const traffic = async (seconds: number): Promise<FixedRateResult[]> => await Promise.all(nodes.map(async n =>
      await n.request<FixedRateResult>('fixedRateCalls', { pool: POOL, prefix: PREFIX, msg: 'get', workers: TRAFFIC_WORKERS, rate, seconds }, (seconds + 120) * 1000)))

    // the generators' code, every node's JIT and connections settle first
    progress.done(`warm-up traffic, ${rate.toLocaleString('en-US')} calls/s from each node, 3 s`)
    await traffic(3)
    await sleep(2_000)

    // CPU every second, of every node, over the phases: the chart
    const began = performance.now()
    const cpuPoints: Array<Array<[number, number]>> = pids.map(() => [])
    const marks: Array<{ x: number, label: string }> = []
    let lastCpu = { at: began, cpu: pids.map(cpuSeconds) }
    sampler = setInterval(() => {
      const now = { at: performance.now(), cpu: pids.map(cpuSeconds) }
      const dt = (now.at - lastCpu.at) / 1000
      now.cpu.forEach((c, i) => cpuPoints[i].push([round((now.at - began) / 1000, 2), round((c - lastCpu.cpu[i]) / dt * 100, 1)]))
      lastCpu = now
    }, 1_000)
    const at = (label: string): void => { marks.push({ x: round((performance.now() - began) / 1000, 1), label }) }

    // a quiet cluster: nothing but membership; then one watcher, five, and nobody again
    const quietPlan: Array<{ key: string, label: string, watchers: number, seconds: number }> = [
      { key: 'none', label: 'nobody watching', watchers: 0, seconds: duration },
      { key: 'watch1', label: '1 watcher', watchers: 1, seconds: duration },
      { key: `watch${MANY}`, label: `${MANY} watchers`, watchers: MANY, seconds: duration },
      { key: 'none_after', label: 'nobody watching, after', watchers: 0, seconds: Math.min(duration, QUIET_AFTER_S) }
    ]
    const quietSpans: QuietPhase[] = []
    for (const p of quietPlan) {
      progress.done(`quiet cluster (no traffic), ${p.label}, ${p.seconds} s`)
      at(`quiet, ${p.label}`)
      await openWatchers(p.watchers)
      const a = await mark(true)
      await wait(`quiet, ${p.label}`, p.seconds)
      quietSpans.push({ ...p, window: spanOf(a, await mark(true), watchers) })
      await closeWatchers()
    }

    // under traffic
    const plan: Array<{ key: string, label: string, watchers: number }> = [
      { key: 'none', label: 'nobody watching', watchers: 0 },
      { key: 'watch1', label: '1 watcher', watchers: 1 },
      { key: `watch${MANY}`, label: `${MANY} watchers`, watchers: MANY },
      { key: 'none_after', label: 'nobody watching, after', watchers: 0 }
    ]
    const phases: Phase[] = []
    for (const p of plan) {
      progress.done(`traffic, ${p.label}, ${duration} s`)
      at(p.label)
      await openWatchers(p.watchers)
      const running = traffic(LEAD_S + duration + TAIL_S)
      await sleep(LEAD_S * 1000)
      const a = await mark()
      await wait(`traffic, ${p.label}`, duration)
      const window = spanOf(a, await mark(), watchers)
      const results = await running
      const last = watchers[0]?.last
      phases.push({
        ...p,
        window,
        traffic: results,
        ...(last !== undefined ? { tickRate: last.totals.msgsPerSec, tickWorkers: last.totals.workers, tickErrors: last.nodes.filter(n => n.error !== undefined).length } : {})
      })
      const calls = results.reduce((s, r) => s + r.sent, 0)
      progress.done(`${p.label}: CPU ${window.cpu.map(c => `${c.toFixed(1)}%`).join(' / ')}, ${fmt(calls / (LEAD_S + duration + TAIL_S))} calls/s${p.watchers > 0 ? `, ${window.ticksPerSecond.map(t => t.toFixed(2)).join(' ')} ticks/s, ${fmt(window.bytesPerTick)} bytes/tick` : ''}`)
      await closeWatchers()
    }
    clearInterval(sampler)
    sampler = undefined

    // the reads that ask every member, at this size, under the same traffic, nobody watching
    const reads: ReadTiming[] = [
      { path: '', label: 'GET /v1/workers/:pool/:id', ms: [], bytes: 0, status: [], underTraffic: 0 },
      { path: `/v1/pools/${POOL}/plan`, label: 'GET /v1/pools/:pool/plan', ms: [], bytes: 0, status: [], underTraffic: 0 },
      { path: '/metrics', label: 'GET /metrics', ms: [], bytes: 0, status: [], underTraffic: 0 },
      { path: '/v1/nodes', label: 'GET /v1/nodes', ms: [], bytes: 0, status: [], underTraffic: 0 }
    ]
    const readSeconds = Math.max(duration, 10)
    progress.done(`admin reads, ${READS} of each after ${READ_WARMUP}, round robin, under traffic`)
    const readTraffic = traffic(readSeconds)
    const trafficEnds = performance.now() + readSeconds * 1000
    await sleep(LEAD_S * 1000)
    let plan0: { total?: number, unreachable?: unknown[] } | undefined
    for (let i = 0; i < READ_WARMUP + READS; i++) {
      for (const r of reads) {
        // a different room each time, wherever it lives
        const path = r.path === '' ? `/v1/workers/${POOL}/${PREFIX}${(i * 7_919) % live}` : r.path
        const got = await timedGet(agent, port[0], path)
        if (got.status !== 200) throw new Error(`GET ${path} answered ${got.status}: ${got.body.slice(0, 300)}`)
        if (i < READ_WARMUP) continue
        r.ms.push(got.ms)
        r.status.push(got.status)
        r.bytes = Buffer.byteLength(got.body)
        if (performance.now() < trafficEnds) r.underTraffic++
        if (r.path.endsWith('/plan')) plan0 = JSON.parse(got.body)
      }
      progress.update(`admin reads: round ${i + 1} / ${READ_WARMUP + READS}`)
    }
    await readTraffic
    progress.done(`admin reads: median ${reads.map(r => `${r.label.split(' ')[1]} ${median(r.ms).toFixed(1)} ms`).join(', ')}`)

    return report({ workers, live, activationMs, perNode, duration, rate, quiet: quietSpans, phases, helloBytes, reads, plan0, cpuPoints, marks })
  } finally {
    if (sampler !== undefined) clearInterval(sampler)
    for (const w of open) w.close()
    agent.destroy()
    await cluster.stop()
  }
}

interface Measured {
  workers: number
  live: number
  activationMs: number
  perNode: number[]
  duration: number
  rate: number
  quiet: QuietPhase[]
  /** The largest `hello` event a watcher received. */
  helloBytes: number
  phases: Phase[]
  reads: ReadTiming[]
  plan0?: { total?: number, unreachable?: unknown[] }
  cpuPoints: Array<Array<[number, number]>>
  marks: Array<{ x: number, label: string }>
}

function report (m: Measured): ScenarioResult {
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO')
  const add = (name: string, measure: string, value: number, unit: string, goal = '', met = ''): void => {
    rows.push({ measure, value, unit, goal, met })
    figures.push({ name: `admin.${name}`, value, unit, ...(goal !== '' ? { goal } : {}) })
  }
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0)
  const mean = (xs: number[]): number => sum(xs) / xs.length
  const others = (w: Span): number[] => w.cpu.slice(1)
  const list = (xs: number[], digits: number): string => xs.map(x => x.toFixed(digits)).join(', ')
  const achieved = (p: Phase): number => sum(p.traffic.map(r => r.sentPerSecond * (r.sent - sum(Object.values(r.errors))) / Math.max(1, r.sent)))
  const errors = (p: Phase): number => sum(p.traffic.map(r => sum(Object.values(r.errors))))
  /** Met when the figure is under the goal by more than the noise, missed when over it by more; otherwise the measurement cannot tell. */
  const judged = (added: number, noise: number, goal: number): string => added + noise < goal ? 'yes' : added - noise >= goal ? 'NO' : `unclear (±${noise.toFixed(1)})`
  const watchRows = (prefix: string, w: Span): void => {
    add(`${prefix}.ticks_per_s`, '  ticks received, each watcher', round(mean(w.ticksPerSecond), 3), `/s (${list(w.ticksPerSecond, 3)})`)
    add(`${prefix}.longest_tick_gap_ms`, '  longest gap between two ticks', round(w.longestGapMs), 'ms')
    add(`${prefix}.bytes_per_tick`, '  bytes per tick', round(w.bytesPerTick), 'bytes')
  }

  add('activation_s', `activate ${fmt(m.live)} rooms (spawnMany from every node)`, round(m.activationMs / 1000, 2), 's')

  // the quiet cluster: CPU and messages with nothing else going on
  const q = (key: string): QuietPhase => m.quiet.find(p => p.key === key) as QuietPhase
  // the baseline: the two quiet windows nobody watched, before and after; their spread (at least
  // the clock ticks' rounding, a tick at each end of each reading) is the noise
  const quietBase = [q('none').window, q('none_after').window]
  const qServing = mean(quietBase.map(w => w.cpu[0]))
  const qOthers = [1, 2].map(i => mean(quietBase.map(w => w.cpu[i])))
  const tickFloor = 2 / HZ / Math.min(...quietBase.map(w => w.seconds)) * 100
  const spread = (i: number): number => Math.max(...quietBase.map(w => w.cpu[i])) - Math.min(...quietBase.map(w => w.cpu[i]))
  const qNoiseServing = Math.max(tickFloor, spread(0))
  const qNoiseOthers = Math.max(tickFloor, spread(1), spread(2))
  const into = (w: Span): number => sum((w.envelopes ?? []).slice(1))
  for (const p of m.quiet) {
    const w = p.window
    if (p.watchers === 0) {
      const n = into(w)
      add(`quiet.${p.key}.messages_to_others`, `quiet, ${p.label}: messages into the other nodes in ${round(w.seconds)} s (Watch calls <= this)`, n, 'messages', '0', yes(n === 0))
      add(`quiet.${p.key}.serving_cpu_pct`, '  CPU, serving node', round(w.cpu[0], 2), '% of a core')
      add(`quiet.${p.key}.others_cpu_pct`, '  CPU, other nodes (each)', round(mean(others(w)), 2), `% of a core (${list(others(w), 2)})`)
      continue
    }
    add(`quiet.${p.key}.watch_calls_per_s`, `quiet, ${p.label}: messages into each other node`, round(into(w) / 2 / w.seconds, 2), '/s (a Watch call a tick)')
    watchRows(`quiet.${p.key}`, w)
    const serving = w.cpu[0] - qServing
    const other = Math.max(...others(w).map((c, i) => c - qOthers[i]))
    add(`quiet.${p.key}.serving_cpu_added_pct`, '  CPU added, serving node', round(serving, 2), `% of a core (${w.cpu[0].toFixed(2)} in all)`, '< 5', judged(serving, qNoiseServing, 5))
    add(`quiet.${p.key}.others_cpu_added_pct`, '  CPU added, other nodes (the most)', round(other, 2), `% of a core (${list(others(w), 2)} in all)`, '< 1', judged(other, qNoiseOthers, 1))
  }

  // under traffic: the same, with the noise of the two phases nobody watched
  const base = m.phases.filter(p => p.watchers === 0)
  const baseServing = mean(base.map(p => p.window.cpu[0]))
  const baseOthers = [1, 2].map(i => mean(base.map(p => p.window.cpu[i])))
  const noiseServing = Math.max(...base.map(p => p.window.cpu[0])) - Math.min(...base.map(p => p.window.cpu[0]))
  const noiseOthers = Math.max(...[1, 2].map(i => Math.max(...base.map(p => p.window.cpu[i])) - Math.min(...base.map(p => p.window.cpu[i]))))
  // the serving node less the others: load that reaches every node alike (the traffic, the machine's other work) cancels
  const lead = (w: Span): number => w.cpu[0] - mean(others(w))
  const baseLead = mean(base.map(p => lead(p.window)))
  const noiseLead = Math.max(...base.map(p => lead(p.window))) - Math.min(...base.map(p => lead(p.window)))
  for (const p of m.phases) {
    const w = p.window
    add(`${p.key}.serving_cpu_pct`, `traffic, ${p.label}: CPU, serving node`, round(w.cpu[0], 1), '% of a core')
    add(`${p.key}.others_cpu_pct`, '  CPU, other nodes (each)', round(mean(others(w)), 1), `% of a core (${list(others(w), 1)})`)
    add(`${p.key}.calls_per_s`, '  calls answered', round(achieved(p)), `calls/s (${fmt(m.rate * NODES)} sent)`)
    add(`${p.key}.call_p99_ms`, '  call p99 (worst node)', round(Math.max(...p.traffic.map(r => r.p99)), 2), `ms (p50 ${list(p.traffic.map(r => r.p50), 2)})`)
    if (p.watchers === 0) continue
    watchRows(p.key, w)
    const serving = w.cpu[0] - baseServing
    const other = Math.max(...[1, 2].map(i => w.cpu[i] - baseOthers[i - 1]))
    // no goal here: with nobody watching, one phase to the next moves every node alike by up to 20 points on a shared machine
    add(`${p.key}.serving_cpu_added_pct`, '  CPU added, serving node', round(serving, 1), '% of a core')
    add(`${p.key}.others_cpu_added_pct`, '  CPU added, other nodes (the most)', round(other, 1), '% of a core')
    add(`${p.key}.serving_over_others_added_pct`, '  CPU added, serving node over the others', round(lead(w) - baseLead, 1), `% of a core (${lead(w).toFixed(1)} against ${baseLead.toFixed(1)})`, '< 5', judged(lead(w) - baseLead, noiseLead, 5))
  }

  for (const r of m.reads) {
    const name = r.label.split(' ')[1].replace(/^\//, '').replace(/[/:]+/g, '_').replace(/_+$/, '')
    const s = [...r.ms].sort((a, b) => a - b)
    add(`read.${name}_ms`, `${r.label} (${fmt(m.live)} rooms)`, round(median(r.ms), 2), `ms (${s[0].toFixed(1)}-${s[s.length - 1].toFixed(1)}, ${fmt(r.bytes)} B)`)
  }

  const w1 = m.phases.find(p => p.watchers === 1)
  const w5 = m.phases.find(p => p.watchers === MANY)
  const busy = (label: string, w: Span): string => `${label} ${w.machineBusy.toFixed(0)}% (this process ${w.benchCpu.toFixed(1)}% of a core)`
  const notes = [
    `3 node processes on 127.0.0.1 (TCP, Noise, Yamux) with the admin API (a token), the harness's room pool; ${fmt(m.live)} rooms activated by spawnMany from every node in ${(m.activationMs / 1000).toFixed(1)} s (per node ${m.perNode.map(fmt).join(', ')}). The serving node is node 1: every watcher reads its GET /v1/watch, every read asks it. CPU is utime + stime of /proc/<pid>/stat of each node process (all its threads) over the window, in % of one core (clock ticks of ${(1000 / HZ).toFixed(0)} ms).`,
    `Quiet cluster: no traffic, nothing but membership; ${m.duration} s each nobody watching, with 1 watcher, with ${MANY}, then ${round(q('none_after').window.seconds)} s nobody watching once they left. The messages counted are the transport's envelopes in (simplepool_transport_envelopes_in_total of each node's own /metrics, read at the window's edges): membership does not use the transport, so with no traffic every message between nodes is a node operation, and the count bounds the Watch calls. Into node 1, 2, 3: ${m.quiet.map(p => `${p.label} ${(p.window.envelopes ?? []).join(', ')}`).join('; ')} (node 1 gets the answers). CPU added: less the mean of the two quiet windows nobody watched (serving ${qServing.toFixed(2)}%, others ${list(qOthers, 2)}%); their spread, at least the rounding of the clock ticks (${tickFloor.toFixed(2)} points), is the noise (serving ${qNoiseServing.toFixed(2)}, others ${qNoiseOthers.toFixed(2)}): a goal is met or missed only by more than that, else 'unclear'.`,
    `Traffic: every node calls 'get' at a fixed ${fmt(m.rate)} calls/s (open loop, fixedRateCalls) on ${fmt(TRAFFIC_WORKERS)} rooms other nodes own, round robin; each phase's window of ${m.duration} s starts ${LEAD_S} s after its traffic and ends ${TAIL_S} s before. Calls answered: sent per second of the send window, less the failed (${m.phases.map(p => `${p.label} ${errors(p)}`).join(', ')}); p99 from when each call was due. CPU added: a phase's CPU less the mean of the two phases nobody watched (serving ${baseServing.toFixed(1)}%, others ${list(baseOthers, 1)}%; they differ by ${noiseServing.toFixed(1)} and ${noiseOthers.toFixed(1)} points). Under traffic on a shared machine every node's CPU moves alike from one phase to the next, watched or not (in a trial on a 2-core VM, seven phases nobody watched at 2,000 calls/s a node read 33-53% of a core each), so these differences carry no goal. The serving node's lead over the others (its CPU less theirs) cancels what reaches every node alike: its change from the phases nobody watched is what the ticks cost it beyond answering a Watch call, and carries the serving node's goal (noise: the two baselines' leads differ by ${noiseLead.toFixed(1)} points). What watching costs the other nodes is read in the quiet cluster.`,
    `A watcher is a reader of GET /v1/watch in the bench process (node:http, one connection each), counting the tick events and their bytes (the 'event:' and 'data:' lines); ticks per second from the arrival times of the ticks inside the window. A stream opens with a hello event (${fmt(m.helloBytes)} bytes at most here), then the ticks. ${MANY} watchers share one poll a second: the serving node asks once and writes the same tick to each.${w1?.tickWorkers !== undefined ? ` The last tick with 1 watcher counted ${fmt(w1.tickWorkers)} workers and ${fmt(w1.tickRate ?? NaN)} msgs/s in the cluster (turns: calls handled), ${w1.tickErrors ?? 0} nodes without figures` : ''}${w5?.tickRate !== undefined ? `; with ${MANY}: ${fmt(w5.tickRate)} msgs/s` : ''}.`,
    `All cores busy during each window (every process on the machine, ${cpus().length} cores, may be shared with other work): quiet ${m.quiet.map(p => busy(p.label, p.window)).join('; ')}; traffic ${m.phases.map(p => busy(p.label, p.window)).join('; ')}.`,
    `Admin reads: ${READ_WARMUP} unmeasured then ${READS} of each, round robin over the four, one at a time on one keep-alive connection to node 1, under the same traffic (${m.reads.map(r => r.underTraffic).join(', ')} of them before the traffic ended), nobody watching; the unit column has the fastest and slowest and the size of the answer. /v1/workers asks every member where the room lives and what moves it remembers (a different room each time); /v1/pools/:pool/plan has every member scan its live rooms of the pool (plan total ${String(m.plan0?.total)}, unreachable ${m.plan0?.unreachable?.length ?? '?'}); /metrics is this node's registry (prom-client, with process metrics); /v1/nodes asks every member's health.`
  ]
  const charts: Chart[] = [{
    title: 'CPU of each node, per second, through the phases',
    x: 's since the quiet phase began',
    y: '% of one core',
    lines: m.cpuPoints.map((points, i) => ({ name: i === 0 ? 'node 1 (serving)' : `node ${i + 1}`, points })),
    marks: m.marks
  }]
  return { scenario: 'admin', rows, figures, notes, charts }
}

await runAlone(import.meta.url, async () => await adminBench({}))
