/**
 * Both ends of a benchmark peer's process: the parent forks a peer script and sends it
 * requests over IPC; the script serves them with {@link servePeer}. The peers a benchmark
 * compares SimplePool with (moleculer, a bare socket) run in processes of their own, as
 * SimplePool's nodes do, so no library shares an event loop with another.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

interface PeerRequest { id: number, cmd: string, args: Record<string, unknown> }
interface PeerReply { id: number, ok: boolean, value?: unknown, error?: string }

/** A forked peer script; every request is answered or fails with the peer's error. */
export class PeerProcess {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private stderr = ''

  private constructor (private readonly child: ChildProcess, readonly name: string) {
    child.stderr?.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-2_000) })
    child.on('message', (m: PeerReply) => {
      const w = this.waiting.get(m.id)
      if (w === undefined) return
      this.waiting.delete(m.id)
      if (m.ok) w.resolve(m.value)
      else w.reject(new Error(`${this.name}: ${m.error ?? 'failed'}`))
    })
    const failAll = (err: Error): void => {
      for (const w of this.waiting.values()) w.reject(err)
      this.waiting.clear()
    }
    child.on('exit', (code, signal) => {
      failAll(new Error(`${this.name} exited (${String(code ?? signal)}): ${this.stderr.trim()}`))
    })
    // a request sent to a peer that is gone comes back as this event: unheard, it would end the whole run
    child.on('error', (err) => {
      failAll(new Error(`${this.name}: ${err.message}`))
    })
  }

  /** Forks `script` (a .ts file, run through tsx) as the peer called `name`. */
  static start (script: string, name: string): PeerProcess {
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    return new PeerProcess(child, name)
  }

  async request<T = unknown> (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`${this.name}: ${cmd} took more than ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.child.send({ id, cmd, args } satisfies PeerRequest)
    })
  }

  /** Kills the process and waits for it to be gone. */
  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const gone = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await gone
  }
}

/** In a peer script: answers the parent's requests with `commands`; exits when the parent goes. */
export function servePeer (commands: Record<string, (args: Record<string, unknown>) => unknown>): void {
  process.on('message', (m: PeerRequest) => {
    const reply = (r: Omit<PeerReply, 'id'>): void => { process.send?.({ id: m.id, ...r }) }
    const command = commands[m.cmd]
    if (command === undefined) {
      reply({ ok: false, error: `unknown command ${m.cmd}` })
      return
    }
    Promise.resolve().then(() => command(m.args)).then(
      (value) => { reply({ ok: true, value }) },
      (err: unknown) => { reply({ ok: false, error: (err as Error).stack ?? String(err) }) }
    )
  })
  // an orphan would hold its port and a core
  process.on('disconnect', () => { process.exit(0) })
}
