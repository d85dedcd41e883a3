/**
 * One library's side of the runtime scenario, in a process of its own: SimplePool (a real
 * one-node `createNode`) or the actor library `nact`, measured with the same loops. A fresh
 * process per library keeps one's million idle workers and its garbage from weighing on
 * the other's figures, and lets the heap be measured from a known start.
 *
 * `runtime.bench.ts` forks it; after a build it also runs alone and prints its figures:
 * `node --expose-gc --import tsx bench/runtime-probe.ts simplepool|nact`
 * (add `--cpu-prof` to see where the time goes).
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createNode, definePool } from 'simplepool'
import type { SimplePoolNode, WorkerRef } from 'simplepool'
import type { LocalPool } from '@simplepool/runtime'

/** What the probe measures; the parent chooses it. */
export interface ProbePlan {
  library: 'simplepool' | 'nact'
  /** Live workers the casts and calls go to, round robin. */
  workers: number
  /** Workers activated for the activation rate and the memory figure. */
  activations: number
  /** Measured runs of casts and of calls. */
  runs: number
  /** Seconds each run of casts or calls lasts (about: it stops at the first check past it). */
  runSeconds: number
  /** Spawns awaited together by the one-id-per-call loop: an application starting workers as requests come. */
  spawnsInFlight: number
}

/** What the probe reports. */
export interface ProbeResult {
  library: string
  /** Why the library was not measured; nothing else is set then. */
  skipped?: string
  castsPerSecond: number[]
  callsPerSecond: number[]
  /** Activations per second through the library's public bulk path (SimplePool: `spawnMany`, sync). */
  activationsPerSecond: number
  /** SimplePool only: activations per second through the pool's own `ensure`, no routing. */
  ensurePerSecond?: number
  /** SimplePool only: activations per second through `spawn`, one id per call, `spawnsInFlight` at a time. */
  spawnPerSecond?: number
  /** Heap growth per idle worker, its state shared by all, its id string included. */
  bytesPerWorker: number
  /** Heap per id string as the benchmark made them (array slot excluded). */
  bytesPerId: number
  /** Heap in use after the activations, in MB. */
  heapMb: number
}

/** One library behind the loops the probe times. */
interface Subject {
  /** One-way message to live worker `i`. */
  cast: (i: number) => void
  /**
   * Request and reply with live worker `i`: the library's own promise, handed on
   * without an async wrapper, whose extra turns of the microtask queue would be timed too.
   */
  call: (i: number) => Promise<unknown>
  /** Activates `ids` through the library's public path. */
  activate: (ids: string[]) => Promise<void>
  /** SimplePool: activates `ids` through the pool's `ensure`. */
  ensure?: (ids: string[]) => Promise<void>
  /** SimplePool: activates `ids` through `spawn`, one id per call. */
  spawnEach?: (ids: string[]) => Promise<void>
  /** Messages handled since the start. */
  handled: () => number
}

/** The message every cast and call carries. */
const MSG = 'inc'

/** Ids activated between two turns of the event loop, as `spawnMany` does by default. */
const ACTIVATION_BATCH = 1_000

/** State shared by every idle worker, so the memory figure is the runtime's own cost. */
const SHARED_STATE = Object.freeze({})

/** Calls between two looks at the clock, so reading it costs nothing. */
const CHECK_EVERY = 1_024

async function nextTurn (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

/** A full collection: `--expose-gc` when given, else turned on here, as V8 allows at run time. */
function collector (): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed !== undefined) return exposed
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

const gc = collector()

/** Heap in use after two full collections (the second frees what the first's finalizers let go). */
function heapUsed (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

function idsOf (prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`)
}

/** SimplePool: a real node (libp2p host on loopback, one-node ring), workers through refs. */
async function simplePoolSubject (plan: ProbePlan): Promise<Subject> {
  let handled = 0
  const counter = definePool<{ n: number }, string, number>({
    name: 'bench-counter',
    init: () => ({ n: 0 }),
    handle: (s) => { handled++; return ++s.n }
  })
  // sized for what they hold, as an application running a million workers on one node would
  // size them: below its hard limit a new worker takes no look for a spill pointer
  const target = plan.activations
  const idle = definePool<object, string, number>({ name: 'bench-idle', init: () => SHARED_STATE, handle: () => 0, target })
  const ensured = definePool<object, string, number>({ name: 'bench-ensure', init: () => SHARED_STATE, handle: () => 0, target })
  const spawned = definePool<object, string, number>({ name: 'bench-spawn', init: () => SHARED_STATE, handle: () => 0, target })
  const node: SimplePoolNode = await createNode({ pools: [counter, idle, ensured, spawned] })
  const ids = idsOf('w-', plan.workers)
  await node.spawnMany(counter.name, ids)
  const refs: Array<WorkerRef<string, number>> = ids.map(id => node.ref(counter, id))
  const pool = node.runtime.localPool(ensured.name) as LocalPool
  return {
    cast: (i) => { refs[i].cast(MSG) },
    call: (i) => refs[i].call(MSG),
    activate: async (batch) => { await node.spawnMany(idle.name, batch) },
    ensure: async (batch) => {
      for (let i = 0; i < batch.length; i += ACTIVATION_BATCH) {
        const end = Math.min(batch.length, i + ACTIVATION_BATCH)
        for (let j = i; j < end; j++) pool.ensure(batch[j])
        await nextTurn()
      }
    },
    spawnEach: async (batch) => {
      for (let i = 0; i < batch.length; i += plan.spawnsInFlight) {
        const end = Math.min(batch.length, i + plan.spawnsInFlight)
        const started: Array<Promise<unknown>> = []
        for (let j = i; j < end; j++) started.push(node.spawn(spawned.name, batch[j], { mode: 'sync' }))
        await Promise.all(started)
      }
    },
    handled: () => handled
  }
}

/**
 * nact: top-level actors of one system. A reply is a dispatch to the query's temporary
 * ref, nact's own pattern; state is mutated in place, as SimplePool's handler does.
 */
async function nactSubject (plan: ProbePlan): Promise<Subject> {
  const nact = (await import('nact')).default
  let handled = 0
  type Msg = string | { sender: unknown }
  const system = nact.start()
  const counter = (s: { n: number }, msg: Msg): { n: number } => {
    handled++
    s.n++
    if (typeof msg === 'object') nact.dispatch(msg.sender as never, s.n)
    return s
  }
  const idle = (s: object): object => s
  const refs = idsOf('w-', plan.workers).map(id => nact.spawn(system, counter, id, { initialState: { n: 0 } }))
  const ask = (sender: unknown): Msg => ({ sender })
  return {
    cast: (i) => { nact.dispatch(refs[i], MSG) },
    call: (i) => nact.query(refs[i], ask, 5_000),
    activate: async (batch) => {
      for (let i = 0; i < batch.length; i += ACTIVATION_BATCH) {
        const end = Math.min(batch.length, i + ACTIVATION_BATCH)
        for (let j = i; j < end; j++) nact.spawn(system, idle, batch[j], { initialState: SHARED_STATE })
        await nextTurn()
      }
    },
    handled: () => handled
  }
}

/**
 * Casts for about `seconds`: one to every live worker per turn of the event loop (so no
 * mailbox ever holds more than one), then waits until all were handled. Messages per
 * second from the first cast to the last one handled.
 */
async function castRun (s: Subject, workers: number, seconds: number): Promise<number> {
  const start = s.handled()
  const started = performance.now()
  const until = started + seconds * 1000
  let sent = 0
  do {
    for (let i = 0; i < workers; i++) s.cast(i)
    sent += workers
    await nextTurn()
  } while (performance.now() < until)
  while (s.handled() - start < sent) await nextTurn()
  return sent / ((performance.now() - started) / 1000)
}

/** Calls one after another, each awaited, for about `seconds`, round robin over the live workers. */
async function callRun (s: Subject, workers: number, seconds: number): Promise<number> {
  const started = performance.now()
  const until = started + seconds * 1000
  let n = 0
  for (;;) {
    await s.call(n % workers)
    if (++n % CHECK_EVERY === 0 && performance.now() >= until) break
  }
  return n / ((performance.now() - started) / 1000)
}

async function timed (fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/**
 * Activates `count` workers with shared state and returns the rate and the heap they
 * hold. The id strings are made before the clock starts; the benchmark's own array of
 * them is dropped before the heap is read, so what remains per worker is everything the
 * library keeps for it, its id string included.
 */
async function activations (s: Subject, count: number): Promise<{ perSecond: number, bytesPerWorker: number, bytesPerId: number }> {
  const base = heapUsed()
  let ids: string[] | null = idsOf('a-', count)
  // the array holds one 8-byte pointer per id; what is left is the strings themselves
  const bytesPerId = (heapUsed() - base) / count - 8
  const ms = await timed(async () => { await s.activate(ids as string[]) })
  ids = null
  const bytesPerWorker = (heapUsed() - base) / count
  return { perSecond: count / (ms / 1000), bytesPerWorker, bytesPerId }
}

/**
 * Runs every measurement against one library; warm-up runs go first, unmeasured. Nothing
 * is stopped afterwards: the process exists for this and ends, which frees it all at once.
 */
export async function runProbe (plan: ProbePlan): Promise<ProbeResult> {
  let subject: Subject
  try {
    subject = plan.library === 'nact' ? await nactSubject(plan) : await simplePoolSubject(plan)
  } catch (err) {
    const e = err as Error
    return { library: plan.library, skipped: `${e.name}: ${e.message}`, castsPerSecond: [], callsPerSecond: [], activationsPerSecond: NaN, bytesPerWorker: NaN, bytesPerId: NaN, heapMb: NaN }
  }
  await castRun(subject, plan.workers, plan.runSeconds / 2)
  await callRun(subject, plan.workers, plan.runSeconds / 2)
  const castsPerSecond: number[] = []
  for (let r = 0; r < plan.runs; r++) castsPerSecond.push(await castRun(subject, plan.workers, plan.runSeconds))
  const callsPerSecond: number[] = []
  for (let r = 0; r < plan.runs; r++) callsPerSecond.push(await callRun(subject, plan.workers, plan.runSeconds))
  const act = await activations(subject, plan.activations)
  const heapMb = process.memoryUsage().heapUsed / 1e6
  let ensurePerSecond: number | undefined
  const ensure = subject.ensure
  if (ensure !== undefined) {
    const ids = idsOf('e-', plan.activations)
    ensurePerSecond = plan.activations / (await timed(async () => { await ensure(ids) }) / 1000)
  }
  let spawnPerSecond: number | undefined
  const spawnEach = subject.spawnEach
  if (spawnEach !== undefined) {
    const ids = idsOf('s-', plan.activations)
    spawnPerSecond = plan.activations / (await timed(async () => { await spawnEach(ids) }) / 1000)
  }
  return { library: plan.library, castsPerSecond, callsPerSecond, activationsPerSecond: act.perSecond, ensurePerSecond, spawnPerSecond, bytesPerWorker: act.bytesPerWorker, bytesPerId: act.bytesPerId, heapMb }
}

const DEFAULT_PLAN: Omit<ProbePlan, 'library'> = { workers: 10_000, activations: 1_000_000, runs: 3, runSeconds: 1.5, spawnsInFlight: 10_000 }

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.send !== undefined) {
    // forked by the scenario: the plan comes in, the result goes back, then this process ends
    process.once('message', (plan: ProbePlan) => {
      runProbe(plan).then(
        (result) => { process.send?.(result, () => { process.exit(0) }) },
        (err: Error) => { process.stderr.write(`${err.stack ?? String(err)}\n`); process.exit(1) })
    })
  } else {
    const library = process.argv[2] === 'nact' ? 'nact' : 'simplepool'
    console.log(JSON.stringify(await runProbe({ library, ...DEFAULT_PLAN }), null, 2))
    process.exit(0)
  }
}
