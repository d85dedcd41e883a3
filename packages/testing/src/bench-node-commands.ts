import type { SimplePoolNode, WorkerRef } from 'simplepool'
import { benchMark, benchRead, statsNow, statsSince } from './process-meter.js'

type Args = Record<string, unknown>
type Command = (node: SimplePoolNode, args: Args) => unknown

/**
 * Latencies in ms, kept in one growing typed array: a load generator records hundreds of
 * thousands a second, and an array of numbers would cost more garbage than the calls.
 */
class Samples {
  private data = new Float64Array(1 << 16)
  length = 0

  push (ms: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.length++] = ms
  }

  /** The samples, ascending. */
  sorted (): Float64Array {
    return this.data.slice(0, this.length).sort()
  }
}

/** Nearest-rank percentile of an ascending array. */
function percentile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

function countError (errors: Record<string, number>, err: unknown): void {
  const k = (err as Error).name
  errors[k] = (errors[k] ?? 0) + 1
}

/** Set by `stopTraffic`: a running `trafficSeries` ends. */
let trafficStopped = false

/** Latency buckets of `trafficSeries`: bucket k holds [10 µs * 1.05^k, 10 µs * 1.05^(k+1)). */
const SERIES_BUCKETS = 320

function seriesBucket (ms: number): number {
  if (!(ms > 0.01)) return 0
  return Math.min(SERIES_BUCKETS - 1, Math.floor(Math.log(ms / 0.01) / Math.log(1.05)))
}

/** One call: its latency into `samples`, or its error's name counted. */

async function timedCall (ref: WorkerRef, msg: unknown, samples: Samples, errors: Record<string, number>): Promise<void> {
  const t0 = performance.now()
  try {
    await ref.call(msg)
    samples.push(performance.now() - t0)
  } catch (err) {
    countError(errors, err)
  }
}

/** The first `n` ids `prefix0`, `prefix1`... that another node owns in this node's view. */
function remoteIds (node: SimplePoolNode, pool: string, prefix: string, n: number): string[] {
  const placement = node.placement()
  const ids: string[] = []
  for (let i = 0; ids.length < n; i++) {
    if (i > n * 1_000) throw new Error(`no other node owns ids of ${pool}: is the cluster one node?`)
    const id = `${prefix}${i}`
    const owner = placement.ownerOf(pool, id)
    if (owner !== undefined && owner !== node.peerId) ids.push(id)
  }
  return ids
}

/** Requests a harness child running a SimplePool node answers for the runtime benchmarks. */
export const benchNodeCommands: Record<string, Command> = {
  benchMark,
  benchRead,

  /**
   * Calls to workers another node owns, `inFlight` always outstanding: each of `inFlight`
   * loops sends its next call as soon as its last one settles, round robin over `workers`
   * ids (activated first, unmeasured). Reports calls per second, each call's latency as
   * its caller saw it, from the first call sent to the last reply, and how the calls and
   * their replies were framed.
   */
  remoteCalls: async (node, a) => {
    const pool = a.pool as string
    const n = a.calls as number
    const inFlight = (a.inFlight as number | undefined) ?? 256
    const msg = a.msg ?? 'inc'
    const ids = remoteIds(node, pool, (a.prefix as string | undefined) ?? 'r-', (a.workers as number | undefined) ?? 10_000)
    await node.spawnMany(pool, ids)
    const refs = ids.map(id => node.ref(pool, id))
    const samples = new Samples()
    const failures: Record<string, number> = {}
    let issued = 0
    const loop = async (): Promise<void> => {
      while (issued < n) {
        await timedCall(refs[issued++ % refs.length], msg, samples, failures)
      }
    }
    const before = statsNow(node)
    const started = performance.now()
    await Promise.all(Array.from({ length: Math.min(inFlight, n) }, loop))
    const ms = performance.now() - started
    const stats = statsSince(node, before)
    const sorted = samples.sorted()
    return { n, ms, perSecond: n / (ms / 1000), failures, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), stats }
  },

  /**
   * Calls to ids picked uniformly at random, `inFlight` at a time, for `seconds`, counted
   * per second of wall time: calls, errors and a latency histogram each second (buckets
   * 5% wide from 10 µs), so a harness can merge any window of any nodes into quantiles.
   * `stopTraffic` ends it early.
   */
  trafficSeries: async (node, a) => {
    trafficStopped = false
    const pool = a.pool as string
    const prefix = (a.prefix as string | undefined) ?? 'w-'
    const n = a.n as number
    const msg = a.msg ?? 'inc'
    const started = performance.now()
    const seconds = a.seconds as number
    const end = started + seconds * 1000
    const slots = Math.ceil(seconds) + 1
    const calls = new Array<number>(slots).fill(0)
    const errors = new Array<number>(slots).fill(0)
    const hist = new Uint32Array(slots * SERIES_BUCKETS)
    const errorNames: Record<string, number> = {}
    const loop = async (): Promise<void> => {
      while (performance.now() < end && !trafficStopped) {
        const t0 = performance.now()
        const slot = Math.min(slots - 1, Math.floor((t0 - started) / 1000))
        try {
          await node.ref(pool, prefix + Math.floor(Math.random() * n)).call(msg)
          calls[slot]++
          hist[slot * SERIES_BUCKETS + seriesBucket(performance.now() - t0)]++
        } catch (err) {
          errors[slot]++
          countError(errorNames, err)
        }
      }
    }
    await Promise.all(Array.from({ length: (a.inFlight as number | undefined) ?? 256 }, loop))
    return { startedAt: performance.timeOrigin + started, calls, errors, errorNames, hist, buckets: SERIES_BUCKETS }
  },

  stopTraffic: () => {
    trafficStopped = true
    return true
  },

  /**
   * A load generator: for `seconds`, `inFlight` loops each call a worker picked uniformly
   * at random among `prefix0`..`prefix(n-1)`, wherever it lives, and send the next call
   * when the last one settles. Every call's latency is kept (sorted, for the parent to
   * merge with other nodes'), not a sample of the first ones.
   */
  trafficBench: async (node, a) => {
    const pool = a.pool as string
    const prefix = (a.prefix as string | undefined) ?? 'w-'
    const n = a.n as number
    const msg = a.msg ?? 'inc'
    const samples = new Samples()
    const errors: Record<string, number> = {}
    const started = performance.now()
    const end = started + (a.seconds as number) * 1000
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        await timedCall(node.ref(pool, prefix + Math.floor(Math.random() * n)), msg, samples, errors)
      }
    }
    await Promise.all(Array.from({ length: (a.inFlight as number | undefined) ?? 256 }, loop))
    const seconds = (performance.now() - started) / 1000
    const latencies = samples.sorted()
    return { calls: latencies.length, errors, seconds, perSecond: latencies.length / seconds, latencies }
  }
}
