/**
 * The runtime scenario: what the pool runtime costs inside one process, beside the actor
 * library `nact` measured the same way in the same run. Local casts to live workers,
 * sequential local calls, activations with a trivial `init`, and heap per idle worker at a
 * million workers. Each library runs in a fresh process of its own (`runtime-probe.ts`),
 * one after the other, so neither shares the cores or the heap with the other.
 * Needs the build (`npm run bench` does it): `node --import tsx bench/runtime.bench.ts`.
 */
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { median, round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'
import type { ProbePlan, ProbeResult } from './runtime-probe.js'

/** Options of {@link runtimeBench}. */
export interface RuntimeBenchOptions {
  /** Live workers the casts and calls go to. Default 10,000. */
  workers?: number
  /** Workers activated for the activation rate and memory figure. Default 1,000,000. */
  activations?: number
  /** Measured runs of casts and of calls. Default 3. */
  runs?: number
  /** Seconds per run of casts or calls. Default 1.5. */
  runSeconds?: number
  /** No progress lines on stderr. */
  quiet?: boolean
}

/** A probe that has not answered by then is stuck; its library is reported as failed. */
const PROBE_TIMEOUT_MS = 300_000

const PROBE = fileURLToPath(new URL('./runtime-probe.ts', import.meta.url))

/** nact's version as installed, or why it cannot be read. */
function nactVersion (): string {
  try {
    return (createRequire(import.meta.url)('nact/package.json') as { version: string }).version
  } catch (err) {
    return `not installed (${(err as Error).message.split('\n')[0]})`
  }
}

/**
 * Runs one library's probe in a fresh process with `--expose-gc` and waits for its
 * figures. Its stderr is kept to explain a failure.
 */
async function probe (plan: ProbePlan): Promise<ProbeResult> {
  const child = fork(PROBE, [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2_000) })
  try {
    return await new Promise<ProbeResult>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the ${plan.library} probe took more than ${PROBE_TIMEOUT_MS} ms`)) }, PROBE_TIMEOUT_MS)
      child.once('message', (result: ProbeResult) => { clearTimeout(timer); resolve(result) })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the ${plan.library} probe exited (${String(code)}) without figures: ${stderr.trim()}`)) })
      child.send(plan)
    })
  } finally {
    child.kill('SIGKILL')
  }
}

/** The ratio of two rates, or '' when one of them is missing. */
function ratio (a: number | undefined, b: number | undefined, digits = 2): number | string {
  return a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '' : round(a / b, digits)
}

function spread (xs: number[]): string {
  return xs.length === 0 ? 'not measured' : xs.map(x => Math.round(x).toLocaleString('en-US')).join(', ')
}

/**
 * Runs the scenario: the SimplePool probe, then the nact probe, then a table with both
 * libraries' figures side by side and SimplePool's goals.
 */
export async function runtimeBench (opts: RuntimeBenchOptions = {}): Promise<ScenarioResult> {
  const base = {
    workers: opts.workers ?? 10_000,
    activations: opts.activations ?? 1_000_000,
    runs: opts.runs ?? 3,
    runSeconds: opts.runSeconds ?? 1.5,
    spawnsInFlight: 10_000
  }
  const log = (line: string): void => { if (opts.quiet !== true) process.stderr.write(`runtime: ${line}\n`) }

  log('simplepool probe (one-node createNode)')
  const sp = await probe({ library: 'simplepool', ...base })
  log(`simplepool: casts ${spread(sp.castsPerSecond)} msg/s, calls ${spread(sp.callsPerSecond)}/s, activations ${Math.round(sp.activationsPerSecond).toLocaleString('en-US')}/s`)
  log('nact probe')
  let nact: ProbeResult
  try {
    nact = await probe({ library: 'nact', ...base })
  } catch (err) {
    // nact is the yardstick, not the subject: without it SimplePool's figures still stand
    nact = { library: 'nact', skipped: (err as Error).message, castsPerSecond: [], callsPerSecond: [], activationsPerSecond: NaN, bytesPerWorker: NaN, bytesPerId: NaN, heapMb: NaN }
  }
  if (nact.skipped !== undefined) log(`nact skipped: ${nact.skipped}`)
  else log(`nact: casts ${spread(nact.castsPerSecond)} msg/s, calls ${spread(nact.callsPerSecond)}/s, spawns ${Math.round(nact.activationsPerSecond).toLocaleString('en-US')}/s`)

  const hasNact = nact.skipped === undefined
  const spCasts = median(sp.castsPerSecond)
  const spCalls = median(sp.callsPerSecond)
  const nactCasts = hasNact ? median(nact.castsPerSecond) : undefined
  const nactCalls = hasNact ? median(nact.callsPerSecond) : undefined
  const nactActivations = hasNact ? nact.activationsPerSecond : undefined
  const nactBytes = hasNact ? nact.bytesPerWorker : undefined
  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO')
  const n = base.activations.toLocaleString('en-US')
  const row = (measure: string, simplepool: number, other: number | undefined, unit: string, goal = '', met = '', digits = 0): Record<string, string | number> =>
    ({ measure, simplepool: round(simplepool, digits), nact: other === undefined ? '' : round(other, digits), 'simplepool/nact': ratio(simplepool, other), unit, goal, met })

  const rows: ScenarioResult['rows'] = [
    row(`local casts to ${base.workers.toLocaleString('en-US')} live workers`, spCasts, nactCasts, 'msg/s', '>= 5,000,000', yes(spCasts >= 5_000_000)),
    row('local sequential calls (await each)', spCalls, nactCalls, 'calls/s', '>= 1,000,000', yes(spCalls >= 1_000_000)),
    row(`activations, ${n} (spawnMany sync | nact spawn)`, sp.activationsPerSecond, nactActivations, '/s', '>= 1,000,000', yes(sp.activationsPerSecond >= 1_000_000)),
    row(`activations, ${n} (spawn sync, one id per call, ${base.spawnsInFlight.toLocaleString('en-US')} in flight | nact spawn)`, sp.spawnPerSecond ?? NaN, nactActivations, '/s', '>= 1,000,000', yes((sp.spawnPerSecond ?? 0) >= 1_000_000)),
    row(`activations, ${n} (pool.ensure, no routing)`, sp.ensurePerSecond ?? NaN, undefined, '/s'),
    row(`heap per idle worker at ${n}, id included`, sp.bytesPerWorker, nactBytes, 'bytes', '< 300', yes(sp.bytesPerWorker < 300), 1),
    row('  of which its id string', sp.bytesPerId, hasNact ? nact.bytesPerId : undefined, 'bytes', '', '', 1)
  ]

  const figures: Figure[] = [
    { name: 'runtime.local_casts_per_s', value: round(spCasts), unit: 'msg/s', goal: '>= 5,000,000' },
    { name: 'runtime.local_calls_per_s', value: round(spCalls), unit: 'calls/s', goal: '>= 1,000,000' },
    { name: 'runtime.activations_per_s', value: round(sp.activationsPerSecond), unit: 'activations/s', goal: '>= 1,000,000' },
    { name: 'runtime.spawn_one_per_call_per_s', value: round(sp.spawnPerSecond ?? NaN), unit: 'activations/s', goal: '>= 1,000,000' },
    { name: 'runtime.ensure_per_s', value: round(sp.ensurePerSecond ?? NaN), unit: 'activations/s' },
    { name: 'runtime.bytes_per_idle_worker', value: round(sp.bytesPerWorker, 1), unit: 'bytes', goal: '< 300' },
    { name: 'runtime.bytes_per_id', value: round(sp.bytesPerId, 1), unit: 'bytes' }
  ]
  if (hasNact) {
    figures.push(
      { name: 'runtime.nact.casts_per_s', value: round(nactCasts as number), unit: 'msg/s' },
      { name: 'runtime.nact.calls_per_s', value: round(nactCalls as number), unit: 'calls/s' },
      { name: 'runtime.nact.spawns_per_s', value: round(nact.activationsPerSecond), unit: 'spawns/s' },
      { name: 'runtime.nact.bytes_per_idle_actor', value: round(nact.bytesPerWorker, 1), unit: 'bytes' },
      { name: 'runtime.ratio.casts', value: Number(ratio(spCasts, nactCasts)), unit: 'simplepool/nact' },
      { name: 'runtime.ratio.calls', value: Number(ratio(spCalls, nactCalls)), unit: 'simplepool/nact' },
      { name: 'runtime.ratio.activations', value: Number(ratio(sp.activationsPerSecond, nactActivations)), unit: 'simplepool/nact' },
      { name: 'runtime.ratio.bytes_per_worker', value: Number(ratio(sp.bytesPerWorker, nactBytes)), unit: 'simplepool/nact' }
    )
  }

  const notes = [
    `SimplePool: a one-node createNode() (libp2p host on 127.0.0.1, its own ring), every message through node.ref(pool, id) as an application sends it. nact ${nactVersion()}: top-level actors of one system. Each in a fresh process with --expose-gc, SimplePool first.`,
    `Casts: 'inc' to ${base.workers.toLocaleString('en-US')} live workers round robin, one per worker per turn of the event loop, for about ${base.runSeconds} s a run; msg/s from the first cast until the handler has seen the last. Runs, SimplePool: ${spread(sp.castsPerSecond)}; nact: ${spread(nact.castsPerSecond)}.`,
    `Calls: 'inc' with the reply awaited before the next (nact: query, the actor dispatching its reply), round robin over the same workers. Runs, SimplePool: ${spread(sp.callsPerSecond)}; nact: ${spread(nact.callsPerSecond)}.`,
    `Activations: ${n} new ids made before the clock starts; SimplePool through node.spawnMany (mode sync: init has run when it resolves; 1,000 ids per turn of the event loop), then ${n} more through the pool's own ensure (LocalPool.ensure, 1,000 per turn), no ring lookup or id check, then ${n} more through node.spawn (mode sync), one id per call, ${base.spawnsInFlight.toLocaleString('en-US')} awaited together at a time; nact: spawn, 1,000 per turn (it starts an actor synchronously, so one per call and in bulk are the same there). SimplePool's three pools have a target of ${n}, as an application holding that many on one node would give them.`,
    `Memory: heap after full collections, before the ids were made and after the activations with the benchmark's array of ids dropped, over ${n}. Every worker's state is one shared frozen object, so the figure is what the library keeps per worker: its activation or actor, its entry in the library's maps, and its id string (about ${round(sp.bytesPerId)} bytes here, the ids being 'a-0'..'a-999999'). Heap in use then: SimplePool ${round(sp.heapMb)} MB${hasNact ? `, nact ${round(nact.heapMb)} MB` : ''}.`
  ]
  if (!hasNact) notes.push(`nact not measured: ${nact.skipped ?? ''}`)
  return { scenario: 'runtime', rows, figures, notes }
}

await runAlone(import.meta.url, async () => await runtimeBench({}))
