import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { runScenario } from './scenario/scenario.js'
import type { ScenarioOptions, ScenarioResult } from './scenario/scenario.js'

/** What every seed of a sweep shares. */
export type SweepOptions = Omit<ScenarioOptions, 'seed' | 'onTrace'>

/** A worker's message to the sweep: it wants a seed, or it ran one. */
export type FromWorker = { kind: 'ready' } | { kind: 'result', result: ScenarioResult } | { kind: 'error', seed: number, message: string }
/** The sweep's answer: the next seed, or none left. */
export type ToWorker = { kind: 'seed', seed: number } | { kind: 'done' }

/** The seeds `from`, `from + 1`, ... handed out in order; `stop()` hands out no more. */
class SeedQueue {
  private next: number
  private readonly end: number
  private stopped = false

  constructor (from: number, count: number) {
    this.next = from
    this.end = from + count
  }

  take (): number | undefined {
    if (this.stopped || this.next >= this.end) return undefined
    return this.next++
  }

  stop (): void {
    this.stopped = true
  }
}

/** How many seeds run at once when not told: one per core. */
export function defaultJobs (): number {
  return availableParallelism()
}

/**
 * Runs seeds `from` to `from + count - 1`, `jobs` at a time, each in its own worker
 * thread (a run is single-threaded and shares nothing, so seeds scale with cores), and
 * calls `onResult` for each as it ends, in the order they end. `onResult` returning
 * false hands out no more seeds (the ones running finish). Results are the same as in
 * one thread: a seed's run depends on nothing but its seed and options.
 */
export async function sweep (options: SweepOptions, from: number, count: number, jobs: number, onResult: (r: ScenarioResult) => boolean): Promise<void> {
  const queue = new SeedQueue(from, count)
  if (jobs <= 1 || count <= 1) {
    for (let seed = queue.take(); seed !== undefined; seed = queue.take()) {
      if (!onResult(await runScenario({ ...options, seed }))) queue.stop()
    }
    return
  }
  const workers = Array.from({ length: Math.min(jobs, count) }, async () => {
    await new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL('./seed-worker.js', import.meta.url), { workerData: options })
      const hand = (): void => {
        const seed = queue.take()
        w.postMessage(seed === undefined ? { kind: 'done' } : { kind: 'seed', seed } satisfies ToWorker)
      }
      w.on('message', (m: FromWorker) => {
        if (m.kind === 'error') {
          queue.stop()
          reject(new Error(`seed ${m.seed} threw: ${m.message}`))
          return
        }
        if (m.kind === 'result' && !onResult(m.result)) queue.stop()
        hand()
      })
      w.on('error', (err) => { queue.stop(); reject(err) })
      w.on('exit', () => { resolve() })
    })
  })
  await Promise.all(workers)
}
