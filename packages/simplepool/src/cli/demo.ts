/**
 * `simplepool demo`: a cluster on this machine to look at. It starts node processes
 * (each one `simplepool start` with the demo's pools, on 127.0.0.1 only), joins them as a
 * node that holds no workers, activates the workers, and sends a steady, modest traffic
 * while the dashboard shows the cluster, until Ctrl-C or `--seconds` run out. Then it
 * stops every node process, so nothing is left running.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setTimeout as delay } from 'node:timers/promises'
import { CliError, EXIT, digits, onStopSignals } from './common.js'
import { num as fmt, short } from './format.js'
import { SITES, pools as demoPools, trafficMix } from '../demo-pools.js'
import type { TrafficEntry } from '../demo-pools.js'
import type { SimplePoolNode } from '../node/simplepool-node.js'

const USAGE = `simplepool demo [options]

Starts node processes on 127.0.0.1 with two demo pools (chat rooms and IoT devices),
activates the workers, and sends a steady traffic until Ctrl-C or --seconds run out;
the first node serves the admin API and its dashboard. Then every node process stops.

Options:
  --nodes N          node processes (default 3)
  --workers N        workers, half chat rooms, half devices (default 20000, at least ${2 * SITES})
  --admin-port N     the first node's admin API port; 0 takes a free one (default 9400)
  --seconds N        stop after this long (default: run until Ctrl-C)
  --rate N           messages a second, calls and casts (default 1000)
  --token TOKEN      the admin API's token, for writes such as a drain (default $SIMPLEPOOL_TOKEN)
  -h, --help         this help
`

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url))
const POOLS_MODULE = fileURLToPath(new URL('../demo-pools.js', import.meta.url))
const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

/** How long a node process may take to come up: a busy 2-core machine takes seconds. */
const START_TIMEOUT_MS = 30_000
/** How long node processes get to stop after SIGTERM before they are killed. */
const STOP_GRACE_MS = 10_000
/** How long the demo's node waits to see every node process up before activating workers. */
const JOIN_TIMEOUT_MS = 10_000
/** A status line this often. */
const STATUS_MS = 5_000
/** The traffic generator wakes this often and sends what is due. */
const TRAFFIC_TICK_MS = 50
/** Calls in flight at most; past it, messages due are skipped, so a slow cluster gets less, not a queue. */
const MAX_IN_FLIGHT = 256
const MAX_NODES = 32

interface DemoOptions { nodes: number, workers: number, adminPort: number, seconds?: number, rate: number, token?: string }

/** What a node process printed once up (`simplepool start -o json`). */
interface Ready { node: string, addresses: string[], admin: string | null, pools: string[] }

const usage = (message: string): CliError => new CliError(EXIT.usage, `${message}\n(simplepool demo --help for the options)`)
const processes = (n: number): string => `${n} node process${n === 1 ? '' : 'es'}`
const log = (line: string): void => { process.stdout.write(`${line}\n`) }

function parseOptions (argv: string[]): DemoOptions | undefined {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: 'string', default: '3' },
        workers: { type: 'string', default: '20000' },
        'admin-port': { type: 'string', default: '9400' },
        seconds: { type: 'string' },
        rate: { type: 'string', default: '1000' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false }
      }
    }))
  } catch (err) {
    throw usage((err as Error).message)
  }
  if (values.help === true) return undefined
  const token = values.token ?? (process.env.SIMPLEPOOL_TOKEN === '' ? undefined : process.env.SIMPLEPOOL_TOKEN)
  if (token !== undefined && token.length < 8) throw usage('the admin token must be at least 8 characters')
  return {
    nodes: int('nodes', values.nodes, 1, MAX_NODES),
    // below two rooms per site, device alarms would activate rooms beyond the ones counted
    workers: int('workers', values.workers, 2 * SITES, 10_000_000),
    adminPort: int('admin-port', values['admin-port'], 0, 65_535),
    seconds: values.seconds !== undefined ? int('seconds', values.seconds, 1, 1e9) : undefined,
    rate: int('rate', values.rate, 0, 1_000_000),
    token
  }
}

function int (name: string, text: string, min: number, max: number): number {
  const n = digits(text) ?? NaN
  if (!(n >= min && n <= max)) throw usage(`--${name} must be an integer in [${min}, ${fmt(max)}], got ${text}`)
  return n
}

/** A node process: `simplepool start` with the demo's pools. */
class NodeProcess {
  readonly process: ChildProcess
  readonly ready: Promise<Ready>
  readonly exited: Promise<number | null>
  /** Its exit code (128 + the signal's number when a signal ended it); undefined while it runs. */
  exitCode: number | null | undefined
  /** How it ended, to say so. */
  how = ''
  /** The last lines it wrote to stderr, to say why it failed. */
  private readonly tail: string[] = []

  constructor (readonly name: string, args: string[], env: NodeJS.ProcessEnv) {
    // the whole cluster stops at once: handing workers to nodes that are leaving too only slows the stop
    this.process = spawn(process.execPath, [CLI, 'start', '--pools', POOLS_MODULE, '-o', 'json', '--drain-timeout', '0', ...args], {
      env,
      // a process group of its own: Ctrl-C reaches the demo only, which stops the nodes in
      // order. The IPC channel is a tripwire: `start` stops when its parent goes away, so
      // a demo that dies (even killed) leaves no node behind.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    live.add(this)
    createInterface({ input: this.process.stderr! }).on('line', (line) => {
      this.tail.push(line)
      if (this.tail.length > 5) this.tail.shift()
      process.stderr.write(`  [${this.name}] ${line}\n`)
    })
    this.exited = new Promise((resolve) => {
      const end = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exitCode !== undefined) return
        live.delete(this)
        this.exitCode = code ?? (signal !== null ? 128 + (constants.signals[signal] ?? 0) : null)
        this.how = signal !== null ? `killed by ${signal}` : `code ${String(code)}`
        resolve(this.exitCode)
      }
      this.process.once('exit', end)
      // a process that could not be spawned has no exit to wait for
      this.process.once('error', (err) => {
        this.tail.push(err.message)
        if (this.process.pid === undefined) end(null, null)
      })
    })
    this.ready = new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.name} was not up after ${START_TIMEOUT_MS / 1000} s${this.why()}`)) }, START_TIMEOUT_MS)
      createInterface({ input: this.process.stdout! }).once('line', (line) => {
        clearTimeout(timer)
        try {
          resolve(JSON.parse(line) as Ready)
        } catch {
          reject(new Error(`${this.name} printed ${line} instead of its ready line`))
        }
      })
      void this.exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`${this.name} exited (${this.how}) before it was up${this.why()}`))
      })
    })
    // a rejection nobody waits for yet (the demo waits for the first node, then the others) is not a crash
    this.ready.catch(() => {})
  }

  get pid (): number | undefined {
    return this.process.pid
  }

  signal (signal: NodeJS.Signals): void {
    if (this.exitCode !== undefined) return
    try {
      this.process.kill(signal)
    } catch {
      // gone meanwhile
    }
  }

  private why (): string {
    return this.tail.length > 0 ? `: ${this.tail.join(' | ')}` : ''
  }
}

/** Node processes not yet exited: killed when the demo exits, whatever the reason. */
const live = new Set<NodeProcess>()
let exitHookInstalled = false
function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => { for (const n of live) n.signal('SIGKILL') })
}

/** A steady flow of the demo's traffic mix from the demo's node: at most `rate` messages a second. */
class Traffic {
  calls = 0
  casts = 0
  skipped = 0
  readonly errors: Record<string, number> = {}
  private inFlight = 0
  private latencies: number[] = []
  private readonly weights: number[]
  private readonly total: number
  private stopped = false
  private done?: Promise<void>

  constructor (private readonly node: SimplePoolNode, private readonly mix: TrafficEntry[], private readonly rate: number) {
    this.weights = mix.map(e => e.weight)
    this.total = this.weights.reduce((x, y) => x + y, 0)
  }

  start (): void {
    this.done = this.run()
  }

  /** Stops sending and waits (a little) for the calls in flight. */
  async stop (): Promise<void> {
    this.stopped = true
    await this.done
    const until = performance.now() + 2_000
    while (this.inFlight > 0 && performance.now() < until) await delay(20)
  }

  /** The p99 of call latency since the last time asked, in ms. */
  takeP99 (): number {
    const sorted = Float64Array.from(this.latencies).sort()
    this.latencies = []
    return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]
  }

  private async run (): Promise<void> {
    const started = performance.now()
    let sent = 0
    while (!this.stopped) {
      await delay(TRAFFIC_TICK_MS)
      const due = Math.floor((performance.now() - started) / 1000 * this.rate)
      for (; sent < due && !this.stopped; sent++) {
        if (this.inFlight >= MAX_IN_FLIGHT) this.skipped++
        else this.send()
      }
    }
  }

  private send (): void {
    let r = Math.random() * this.total
    let e = this.mix[this.mix.length - 1]
    for (let i = 0; i < this.mix.length; i++) {
      if ((r -= this.weights[i]) < 0) {
        e = this.mix[i]
        break
      }
    }
    const msg = e.msgs[Math.floor(Math.random() * e.msgs.length)]
    const id = e.prefix + String(Math.floor(Math.random() * e.n))
    if (e.cast === true) {
      try {
        this.node.ref(e.pool, id).cast(msg)
        this.casts++
      } catch (err) {
        this.countError(err)
      }
      return
    }
    const t0 = performance.now()
    this.inFlight++
    this.node.ref(e.pool, id).call(msg).then(() => {
      this.calls++
      this.latencies.push(performance.now() - t0)
    }, (err) => { this.countError(err) }).finally(() => { this.inFlight-- })
  }

  private countError (err: unknown): void {
    const name = (err as Error)?.name ?? 'Error'
    this.errors[name] = (this.errors[name] ?? 0) + 1
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
async function pause (ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => {})
}

/** `p`'s value, or undefined as soon as `signal` aborts (a Ctrl-C while node processes start). */
async function unless<T> (p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined
  let onAbort!: () => void
  const aborted = new Promise<undefined>((resolve) => { onAbort = () => { resolve(undefined) } })
  signal.addEventListener('abort', onAbort)
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * The end of the demo: the first Ctrl-C (or SIGTERM, SIGHUP) aborts `signal`, and the
 * demo stops in order; a second one kills the node processes and quits at once.
 */
function listenForStop (): { signal: AbortSignal, abort: () => void, dispose: () => void } {
  const ac = new AbortController()
  const killNow = (name: string): void => {
    process.stderr.write(`${name} again: killing the node processes\n`)
    for (const n of live) n.signal('SIGKILL')
    process.exit(130)
  }
  const signals = onStopSignals(['SIGINT', 'SIGTERM', 'SIGHUP'], (name) => {
    // already stopping (every node process died): a signal now means hurry
    if (ac.signal.aborted) return killNow(name)
    log(`\n${name}: stopping`)
    ac.abort()
  }, killNow)
  return { signal: ac.signal, abort: () => { ac.abort() }, dispose: signals.dispose }
}

/**
 * `simplepool demo`: the arguments after the command name; resolves with the exit code
 * once every node process has stopped: 0 when all stopped cleanly, 2 when one failed to
 * start, died or had to be killed, 64 for a wrong command line.
 */
export async function demo (argv: string[]): Promise<number> {
  const o = parseOptions(argv)
  if (o === undefined) {
    process.stdout.write(USAGE)
    return EXIT.ok
  }
  installExitHook()
  const stop = listenForStop()
  const roomCount = Math.floor(o.workers / 2)
  const deviceCount = o.workers - roomCount
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (o.token !== undefined) env.SIMPLEPOOL_TOKEN = o.token
  else delete env.SIMPLEPOOL_TOKEN
  // each node's target is its even share: its weight on the rings, and the yardstick of its health
  const targets = [`chat-room=${Math.ceil(roomCount / o.nodes)}`, `iot-device=${Math.ceil(deviceCount / o.nodes)}`].flatMap(t => ['--target', t])
  const children: NodeProcess[] = []
  let node: SimplePoolNode | undefined
  let traffic: Traffic | undefined
  let failed = false
  let ending = false
  const t0 = performance.now()
  const secs = (from: number): string => `${((performance.now() - from) / 1000).toFixed(1)} s`
  log(`SimplePool demo: ${processes(o.nodes)} on 127.0.0.1, ${fmt(o.workers)} workers ` +
    `(${fmt(roomCount)} chat rooms, ${fmt(deviceCount)} IoT devices), ${fmt(o.rate)} msgs/s ` +
    (o.seconds !== undefined ? `for ${o.seconds} s` : 'until Ctrl-C'))
  try {
    const first = new NodeProcess('node-1', ['--listen', LOOPBACK, '--admin-port', String(o.adminPort), ...targets], env)
    children.push(first)
    const seed = await unless(first.ready, stop.signal)
    if (seed === undefined) return await shutDown()
    for (let i = 2; i <= o.nodes; i++) children.push(new NodeProcess(`node-${i}`, ['--listen', LOOPBACK, '--bootstrap', seed.addresses[0], ...targets], env))
    const readies = await unless(Promise.all(children.map(async c => await c.ready)), stop.signal)
    if (readies === undefined) return await shutDown()
    readies.forEach((r, i) => { log(`  ${children[i].name}  pid ${String(children[i].pid)}  ${short(r.node)}${r.admin !== null ? `  admin ${r.admin}` : ''}`) })
    log(`${o.nodes} nodes up in ${secs(t0)}`)
    for (const c of children) {
      void c.exited.then(() => {
        if (ending) return
        failed = true
        log(`${c.name} exited (${c.how}) while the demo ran`)
        if (children.every(x => x.exitCode !== undefined)) {
          log('every node process has exited: stopping')
          stop.abort()
        }
      })
    }
    if (stop.signal.aborted) return await shutDown()

    // this process joins as a node that holds no workers: it only asks and sends
    const { createNode } = await import('../index.js')
    node = await createNode({
      pools: demoPools,
      targets: { 'chat-room': 0, 'iot-device': 0 },
      listen: [LOOPBACK],
      bootstrap: [seed.addresses[0]],
      clusterKey: process.env.SIMPLEPOOL_CLUSTER_KEY === '' ? undefined : process.env.SIMPLEPOOL_CLUSTER_KEY
    })
    await untilAllUp(node, o.nodes + 1, stop.signal)
    log(`joined as ${short(node.peerId)} (target 0: this process holds no workers)`)
    if (stop.signal.aborted) return await shutDown()

    const activating = performance.now()
    let activated = 0
    let asked = 0
    let shownAt = activating
    for (const [pool, prefix, count] of [['chat-room', 'room-', roomCount], ['iot-device', 'dev-', deviceCount]] as const) {
      const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`)
      const onProgress = (done: number): void => {
        if (performance.now() - shownAt < 1_000) return
        shownAt = performance.now()
        log(`activating workers: ${fmt(asked + done)} of ${fmt(o.workers)}`)
      }
      activated += await node.spawnMany(pool, ids, { signal: stop.signal, timeoutMs: 30_000, onProgress })
      asked += count
    }
    log(`${fmt(activated)} workers live after ${secs(activating)}`)
    if (stop.signal.aborted) return await shutDown()

    const admin = readies[0].admin
    if (admin !== null) {
      log(`dashboard: ${admin}/dashboard/`)
      log(`           (the admin API ${o.token !== undefined ? 'takes writes with the token' : 'is read-only: give --token to drain nodes from it'})`)
    }
    traffic = new Traffic(node, trafficMix(roomCount, deviceCount), o.rate)
    traffic.start()
    const end = o.seconds !== undefined ? performance.now() + o.seconds * 1000 : Infinity
    const trafficStarted = performance.now()
    let last = { at: trafficStarted, sent: 0 }
    while (!stop.signal.aborted && performance.now() < end) {
      await pause(Math.min(STATUS_MS, end - performance.now()), stop.signal)
      if (stop.signal.aborted) break
      last = status(node, traffic, last, trafficStarted)
    }
    return await shutDown()
  } catch (err) {
    const e = err as Error
    // a Ctrl-C while the workers are activated aborts that: a stop, not a failure
    if (stop.signal.aborted && e.name === 'AbortError') return await shutDown()
    failed = true
    const hint = e.message.includes('EADDRINUSE') ? '\n(is another demo running? --admin-port 0 takes a free port)' : ''
    process.stderr.write(`demo failed: ${e.name === 'Error' ? '' : `${e.name}: `}${e.message}${hint}\n`)
    return await shutDown()
  }

  /** Stops the traffic, this process's node, then every node process; the exit code. */
  async function shutDown (): Promise<number> {
    ending = true
    const stopping = performance.now()
    await traffic?.stop()
    if (traffic !== undefined) {
      log(`sent ${fmt(traffic.calls)} calls and ${fmt(traffic.casts)} casts; errors: ${errorsText(traffic.errors)}`)
    }
    await node?.stop({ drainTimeoutMs: 0 }).catch((err: Error) => { process.stderr.write(`this process's node did not stop cleanly: ${err.message}\n`) })
    const running = children.filter(c => c.exitCode === undefined)
    if (running.length > 0) log(`stopping ${processes(running.length)}...`)
    for (const c of running) c.signal('SIGTERM')
    const killer = setTimeout(() => {
      for (const c of running) {
        if (c.exitCode !== undefined) continue
        log(`${c.name} did not stop within ${STOP_GRACE_MS / 1000} s: killing it`)
        c.signal('SIGKILL')
      }
    }, STOP_GRACE_MS)
    await Promise.all(children.map(async c => await c.exited))
    clearTimeout(killer)
    stop.dispose()
    const clean = running.filter(c => c.exitCode === 0).length
    if (running.length > 0) log(`${clean} of ${processes(running.length)} stopped cleanly in ${secs(stopping)}; the demo ran ${secs(t0)}`)
    // libp2p may keep a handle a moment after its stop; the demo must end regardless
    setTimeout(() => { process.exit() }, 3_000).unref()
    if (failed || clean < running.length) {
      if (!failed) process.stderr.write('demo failed: a node process did not stop cleanly\n')
      return EXIT.unreachable
    }
    return EXIT.ok
  }
}

/** Waits until this node sees `n` members up, so that the workers spread over every node process. */
async function untilAllUp (node: SimplePoolNode, n: number, signal: AbortSignal): Promise<void> {
  const until = performance.now() + JOIN_TIMEOUT_MS
  while (!signal.aborted) {
    const up = node.members().filter(m => m.status === 'up' && m.liveness !== 'down').length
    if (up >= n) return
    if (performance.now() > until) throw new Error(`only ${up} of ${n} nodes up after ${JOIN_TIMEOUT_MS / 1000} s`)
    await pause(100, signal)
  }
}

/** Errors by name; the empty `say`s fail on purpose. */
function errorsText (errors: Record<string, number>): string {
  const parts = Object.entries(errors).map(([k, v]) => `${fmt(v)} ${k}${k === 'EmptyMessageError' ? ' (on purpose)' : ''}`)
  return parts.length > 0 ? parts.join(', ') : 'none'
}

/** Prints the status line; the figures to measure the next one from. */
function status (node: SimplePoolNode, traffic: Traffic, last: { at: number, sent: number }, started: number): { at: number, sent: number } {
  const now = performance.now()
  const sent = traffic.calls + traffic.casts
  const others = node.members().filter(m => m.peerId !== node.peerId)
  const up = others.filter(m => m.status === 'up' && m.liveness === 'alive').length
  let workers = 0
  for (const m of others) for (const p of Object.values(m.pools)) workers += p.count
  log(`${((now - started) / 1000).toFixed(0).padStart(4)} s  ${fmt(workers)} workers on ${up} nodes  ` +
    `${fmt((sent - last.sent) / Math.max(0.001, (now - last.at) / 1000))} msgs/s  call p99 ${traffic.takeP99().toFixed(1)} ms  ` +
    `errors: ${errorsText(traffic.errors)}${traffic.skipped > 0 ? `  ${fmt(traffic.skipped)} skipped (cluster slower than --rate)` : ''}`)
  return { at: now, sent }
}
