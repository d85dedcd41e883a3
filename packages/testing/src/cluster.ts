import { fork } from 'node:child_process'
import type { AccessRules } from 'simplepool'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fromWireError } from '@simplepool/core'
import { CHILD_CONFIG_ENV } from './protocol.js'
import type { ChildConfig, ChildMessage } from './protocol.js'
import type { ChildProcess } from 'node:child_process'

/** Options of a cluster of node processes. */
export interface ClusterOptions {
  /** How many nodes to start. @default 3 */
  nodes?: number
  /** A cluster key every node gets (64 hex characters). */
  clusterKey?: string
  /** Targets every node announces. @default { test: 100 } for bare nodes, the pools' own for SimplePool nodes */
  targets?: Record<string, number>
  /** Mesh overrides for every node (heartbeatMs, downAfterMs..., `membership: 'witness'`). */
  mesh?: Record<string, number | string>
  /** Transport overrides for every node. */
  transport?: Record<string, number>
  /** How long a node may take to start. @default 10000 */
  startTimeoutMs?: number
  /** Run SimplePool nodes with these test pools (counter, available, stored, ticker, slow-load, fail-init, ledger, eager-ledger, blob, pinned, room, sink); without, bare mesh + transport nodes. */
  pools?: string[]
  /** Options of the test pools (idleTimeoutMs, tickMs, loadMs, storeDir, blobBytes). */
  poolOptions?: Record<string, unknown>
  /** Run SimplePool nodes with the pools this module exports; a `.ts` module runs through tsx. */
  poolsModule?: string
  /** Runtime options of SimplePool nodes. */
  runtime?: Record<string, number>
  /** SimplePool nodes serve the admin HTTP API on a free loopback port (the `adminAddress` request says which). */
  admin?: { token?: string }
  /** Access rules every SimplePool node gets (`NodeInit.access`). */
  access?: AccessRules
}

/** Options of one node added to a cluster. */
export interface NodeOptions {
  /** Its name in logs and errors. @default node-<n> */
  name?: string
  /** Overrides the cluster's key for this node (a wrong key, or none with `null`). */
  clusterKey?: string | null
  /** Overrides the cluster's targets for this node. */
  targets?: Record<string, number>
  /** Bootstrap addresses. @default the first running node's */
  bootstrap?: string[]
  /** Mesh overrides for this node, over the cluster's. */
  mesh?: Record<string, number | string>
  /** Listen addresses. @default a free port of 127.0.0.1 */
  listen?: string[]
  /** Runs the process in this network namespace (`ip netns exec`), as on a machine of its own: see {@link PrivateNetwork}. */
  netns?: string
  /** The node's identity, from this key file (made when missing: see `loadKeyFile`): its peer id is known before it starts. */
  keyFile?: string
  /** Overrides the cluster's access rules for this node. */
  access?: AccessRules
}

/** An event a child forwarded. */
export interface NodeEvent {
  name: string
  detail: { peerId?: string, status?: string, liveness?: string, name?: string, message?: string, cause?: string, pausedMs?: number, markedDown?: boolean, dropped?: number }
  at: number
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

/** Kills every child still alive when this process exits, whatever the reason. */
function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of live) {
      try { child.kill('SIGKILL') } catch { /* already gone */ }
    }
  })
}

/** The child entry: the single-file bundle when built (fast start), else the compiled module. */
function childEntry (): string {
  const bundle = fileURLToPath(new URL('./child.bundle.mjs', import.meta.url))
  if (existsSync(bundle)) return bundle
  return fileURLToPath(new URL('./child.js', import.meta.url))
}

/** A node process and the means to drive it. */
export class NodeHandle {
  readonly name: string
  readonly process: ChildProcess
  peerId = ''
  addresses: string[] = []
  /** Milliseconds from the child's first line of code to joined, as the child measured. */
  startMs = 0
  /** Every line the child wrote to stderr. */
  readonly logs: string[] = []
  readonly events: NodeEvent[] = []
  readonly exited: Promise<number | null>
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private nextId = 0
  private readonly listeners = new Set<() => void>()
  exitCode: number | null | undefined

  constructor (name: string, config: ChildConfig, netns?: string) {
    this.name = name
    installExitHook()
    const flags = process.env.SIMPLEPOOL_CHILD_EXEC_ARGV?.split(' ').filter(a => a.length > 0) ??
      (config.poolsModule?.endsWith('.ts') === true ? ['--import', 'tsx'] : [])
    this.process = fork(childEntry(), [], {
      env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config) },
      // not the parent's flags: a test runner's loaders would slow every start;
      // SIMPLEPOOL_CHILD_EXEC_ARGV passes flags on purpose (e.g. --cpu-prof). In a
      // namespace, `ip netns exec` execs node in place: the pid and the IPC channel are node's.
      ...(netns != null
        ? { execPath: 'ip', execArgv: ['netns', 'exec', netns, process.execPath, ...flags] }
        : { execArgv: flags }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced'
    })
    live.add(this.process)
    let partial = ''
    this.process.stderr?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString()
      const lines = text.split('\n')
      partial = lines.pop() ?? ''
      for (const l of lines) this.logs.push(l)
      if (process.env.SIMPLEPOOL_TEST_LOGS != null) process.stderr.write(lines.map(l => `  ${l}\n`).join(''))
      this.notify()
    })
    this.process.stdout?.resume()
    this.process.on('message', (msg: ChildMessage) => { this.onMessage(msg) })
    // a send on a channel that just closed (the child is dying) must fail that request, not the test run
    this.process.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    })
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        live.delete(this.process)
        this.exitCode = code
        const err = new Error(`node ${this.name} exited (${String(code)})`)
        err.name = 'NodeExitedError'
        for (const p of this.pending.values()) p.reject(err)
        this.pending.clear()
        this.notify()
        resolve(code)
      })
    })
  }

  /** Resolves when the child has started and joined; rejects if it dies or takes too long. */
  async ready (timeoutMs: number): Promise<void> {
    await this.waitFor(() => this.peerId !== '' || this.exitCode !== undefined, timeoutMs, 'start')
    if (this.peerId === '') throw new Error(`node ${this.name} did not start: ${this.logs.slice(-5).join(' | ')}`)
  }

  /** Sends a request and resolves with the child's answer. */
  async request<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    if (this.exitCode !== undefined) throw new Error(`node ${this.name} has exited`)
    const id = ++this.nextId
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`node ${this.name} did not answer ${cmd} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.process.send({ id, cmd, args }, (err) => {
        if (err == null) return
        this.pending.delete(id)
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  /** Sends a signal: SIGKILL by default. */
  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitCode === undefined) this.process.kill(signal)
  }

  /** Freezes the process (SIGSTOP), as a hung node. */
  pause (): void { this.kill('SIGSTOP') }

  /** Thaws a paused process (SIGCONT). */
  resume (): void { this.kill('SIGCONT') }

  /** Graceful stop: the node announces `leaving`, closes its streams and exits. */
  async stop (timeoutMs = 5_000): Promise<void> {
    if (this.exitCode !== undefined) return
    await this.request('stop', {}, timeoutMs).catch(() => {})
    const t = setTimeout(() => { this.kill('SIGKILL') }, timeoutMs)
    await this.exited
    clearTimeout(t)
  }

  /** Waits until `predicate` holds, re-checking on every log line, event and exit, and every 50 ms. */
  async waitFor (predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (predicate()) return
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`node ${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
      const poll = setInterval(check, 50)
      const cleanup = (): void => { clearTimeout(timer); clearInterval(poll); this.listeners.delete(check) }
      this.listeners.add(check)
    })
  }

  /** The first forwarded event matching, waiting up to `timeoutMs` for it. */
  async waitForEvent (match: (e: NodeEvent) => boolean, timeoutMs: number, what = 'event'): Promise<NodeEvent> {
    await this.waitFor(() => this.events.some(match), timeoutMs, what)
    return this.events.find(match) as NodeEvent
  }

  private notify (): void {
    for (const l of [...this.listeners]) l()
  }

  private onMessage (msg: ChildMessage): void {
    switch (msg.type) {
      case 'ready':
        this.peerId = msg.peerId
        this.addresses = msg.addresses
        this.startMs = msg.startMs
        break
      case 'reply': {
        const p = this.pending.get(msg.id)
        if (p == null) break
        this.pending.delete(msg.id)
        if (msg.ok) p.resolve(msg.result)
        else p.reject(fromWireError(msg.error))
        break
      }
      case 'event':
        this.events.push({ name: msg.name, detail: msg.detail as NodeEvent['detail'], at: Date.now() })
        break
      case 'fatal':
        this.logs.push(`FATAL ${msg.error.name}: ${msg.error.message}`)
        break
    }
    this.notify()
  }
}

/**
 * Real node processes on loopback, forked and driven over IPC. Always `stop()` it in an
 * `after` hook; an exit hook kills whatever is left if a test run dies first.
 */
export class Cluster {
  readonly nodes: NodeHandle[] = []
  private readonly opts: Required<Pick<ClusterOptions, 'startTimeoutMs'>> & ClusterOptions
  private counter = 0

  constructor (opts: ClusterOptions = {}) {
    // bare nodes announce a `test` pool so they have a ring; SimplePool nodes take their pools' targets
    const bare = opts.pools == null && opts.poolsModule == null
    this.opts = { startTimeoutMs: 10_000, ...(bare ? { targets: { test: 100 } } : {}), ...opts }
  }

  /** Nodes whose process has not exited. */
  get running (): NodeHandle[] {
    return this.nodes.filter(n => n.exitCode === undefined)
  }

  /** Starts one more node, bootstrapped to the first running node unless told otherwise. */
  async addNode (opts: NodeOptions = {}): Promise<NodeHandle> {
    const name = opts.name ?? `node-${++this.counter}`
    const seed = this.running.find(n => n.peerId !== '')
    const clusterKey = opts.clusterKey === null ? undefined : opts.clusterKey ?? this.opts.clusterKey
    const handle = new NodeHandle(name, {
      name,
      listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: opts.bootstrap ?? (seed != null ? [seed.addresses[0]] : []),
      ...(clusterKey != null ? { clusterKey } : {}),
      targets: opts.targets ?? this.opts.targets,
      mesh: { ...this.opts.mesh, ...opts.mesh },
      transport: this.opts.transport,
      pools: this.opts.pools,
      poolOptions: this.opts.poolOptions,
      poolsModule: this.opts.poolsModule,
      runtime: this.opts.runtime,
      admin: this.opts.admin,
      keyFile: opts.keyFile,
      access: opts.access ?? this.opts.access
    }, opts.netns)
    this.nodes.push(handle)
    await handle.ready(this.opts.startTimeoutMs)
    if (this.opts.pools == null && this.opts.poolsModule == null) await handle.request('install')
    return handle
  }

  /**
   * Resolves when every running node (or those given) sees exactly the given peers as
   * serving; by default the running nodes themselves.
   */
  async waitForConvergence (opts: { timeoutMs?: number, nodes?: NodeHandle[], expect?: string[] } = {}): Promise<void> {
    const nodes = opts.nodes ?? this.running
    const expected = [...(opts.expect ?? nodes.map(n => n.peerId))].sort().join(',')
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
    let last = ''
    while (Date.now() < deadline) {
      const wait = Math.max(100, Math.min(5_000, deadline - Date.now()))
      const views = await Promise.all(nodes.map(async n => (await n.request<string[]>('serving', {}, wait)).sort().join(',')))
      if (views.every(v => v === expected)) return
      last = views.map((v, i) => `${nodes[i].name}: ${v.split(',').map(p => p.slice(-6)).join(' ')}`).join('; ')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    throw new Error(`membership did not converge: expected ${expected.split(',').map(p => p.slice(-6)).join(' ')}; saw ${last}`)
  }

  /** Kills every node that is still running and waits for the processes to end. */
  async stop (): Promise<void> {
    for (const n of this.nodes) {
      if (n.exitCode === undefined) {
        n.resume()
        n.kill('SIGKILL')
      }
    }
    await Promise.all(this.nodes.map(async n => n.exited))
  }
}

/** Starts a cluster of `nodes` processes, each bootstrapped to the first, and waits until all agree on who is in. */
export async function startCluster (opts: ClusterOptions = {}): Promise<Cluster> {
  const cluster = new Cluster(opts)
  try {
    await cluster.addNode()
    await Promise.all(Array.from({ length: (opts.nodes ?? 3) - 1 }, async () => cluster.addNode()))
    await cluster.waitForConvergence()
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}
