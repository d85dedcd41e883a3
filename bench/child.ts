/**
 * A child process of a scenario that runs nodes elsewhere (scale, links, witness): forked with
 * tsx, asked over IPC, its answers taken by type in the order they come, and killed when
 * this process exits, whatever ends it. `BENCH_CPU_PROF=<dir>` has every child write a CPU
 * profile there as it exits (the killed and the stopped child write none).
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { round } from './report.js'

const live = new Set<ChildProcess>()
process.on('exit', () => { for (const p of live) p.kill('SIGKILL') })
// an interrupt ends this process without 'exit' hooks running first: a stopped child (SIGSTOP) would stay
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const p of live) p.kill('SIGKILL')
    process.exit(130)
  })
}

export class Child<Ask, Answer extends { type: string }> {
  readonly proc: ChildProcess
  private readonly queue: Answer[] = []
  private readonly waiting: Array<{ type: string, resolve: (a: Answer) => void, reject: (err: Error) => void }> = []
  private exited = false

  constructor (file: string) {
    this.proc = fork(file, [], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    live.add(this.proc)
    this.proc.on('message', (a: Answer) => {
      const i = this.waiting.findIndex(w => w.type === a.type)
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(a)
      else this.queue.push(a)
    })
    // a message to a process that is gone: its exit below fails what waits
    this.proc.on('error', () => {})
    this.proc.on('exit', (code, signal) => {
      this.exited = true
      live.delete(this.proc)
      const err = new Error(`process ${String(this.proc.pid)} exited (${signal ?? String(code)})`)
      for (const w of this.waiting.splice(0)) w.reject(err)
    })
  }

  get pid (): number {
    return this.proc.pid as number
  }

  /** The next answer of `type` (one that came already, or the next to come). */
  async next<T extends Answer['type']> (type: T, timeoutMs: number): Promise<Extract<Answer, { type: T }>> {
    const i = this.queue.findIndex(a => a.type === type)
    if (i >= 0) return this.queue.splice(i, 1)[0] as Extract<Answer, { type: T }>
    if (this.exited) throw new Error(`process ${this.pid} has exited: no '${type}' will come`)
    return await new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (a: Answer) => { clearTimeout(timer); resolve(a as Extract<Answer, { type: T }>) },
        reject: (err: Error) => { clearTimeout(timer); reject(err) }
      }
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1)
        reject(new Error(`process ${this.pid} sent no '${type}' within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.push(waiter)
    })
  }

  /** Asks, and waits for the answer of `type`. */
  async ask<T extends Answer['type']> (m: Ask, type: T, timeoutMs = 60_000): Promise<Extract<Answer, { type: T }>> {
    const answer = this.next(type, timeoutMs)
    this.proc.send(m as object)
    return await answer
  }

  /** Asks it to stop (`stop`), then kills what is left after 10 s (a stopped process too). */
  async stop (stop: Ask): Promise<void> {
    if (this.exited) return
    const gone = new Promise(resolve => this.proc.once('exit', resolve))
    if (this.proc.connected) this.proc.send(stop as object)
    const timer = setTimeout(() => { this.proc.kill('SIGKILL') }, 10_000)
    await gone
    clearTimeout(timer)
  }
}

/** CPU seconds a process used (user and system), from /proc. */
export function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Bytes a process wrote (sockets included), from /proc. */
export function bytesWritten (pid: number): number {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN)
}

/** Resident memory of a process in MB, from /proc. */
export function rssMb (pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * What `nodes` nodes in the processes `pids` cost over `seconds` of idle: CPU (% of a
 * core), bytes written a second and RSS (MB), each per node; put in `row` (columns `idle
 * CPU %/node`, `idle KB/s/node`, `RSS MB/node`) and given to `fig`, as every scenario of
 * many nodes reports them.
 */
export async function idleCost (pids: number[], nodes: number, seconds: number, row: Record<string, string | number>, fig: (name: string, value: number, unit: string) => void): Promise<{ cpuPercent: number, bytesPerSecond: number, rssMb: number }> {
  const cpu0 = pids.map(cpuSeconds)
  const bytes0 = pids.map(bytesWritten)
  await sleep(seconds * 1000)
  const cost = {
    cpuPercent: pids.reduce((s, p, i) => s + cpuSeconds(p) - cpu0[i], 0) / seconds * 100 / nodes,
    bytesPerSecond: pids.reduce((s, p, i) => s + bytesWritten(p) - bytes0[i], 0) / seconds / nodes,
    rssMb: pids.reduce((s, p) => s + rssMb(p), 0) / nodes
  }
  row['idle CPU %/node'] = round(cost.cpuPercent, 2)
  row['idle KB/s/node'] = round(cost.bytesPerSecond / 1024, 1)
  row['RSS MB/node'] = round(cost.rssMb, 0)
  fig('idleCpuPercentPerNode', round(cost.cpuPercent, 2), '% of a core')
  fig('idleBytesPerNodePerSecond', round(cost.bytesPerSecond, 0), 'B/s')
  fig('rssMbPerNode', round(cost.rssMb, 0), 'MB')
  return cost
}
