import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { SimplePoolNode, WorkerRef } from 'simplepool'
import { benchMark, benchRead, statsNow, statsSince } from './process-meter.js'
import { Samples, closedLoop, fixedRate, flood, percentile } from './samples.js'
import { armSink, sinkTally } from './test-pools.js'
import { BENCH_ECHO_PROTOCOL, echoBack, echoRoundTrips } from './echo-round-trips.js'
import { startAllocationMeter } from './allocation-meter.js'

type Args = Record<string, unknown>
type Command = (node: SimplePoolNode, args: Args) => unknown

/** The raw round-trip protocol is handled here (once a process). */
let echoing = false

/** A call that has answered already: what the closed loop costs by itself. */
const ANSWERED = Promise.resolve(1)

function countError (errors: Record<string, number>, err: unknown): void {
  const k = (err as Error).name
  errors[k] = (errors[k] ?? 0) + 1
}

let gcFn: (() => void) | undefined

/** The full collector, reached without --expose-gc: V8 exposes `gc` to contexts made after the flag is set. */
function fullGc (): () => void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc')
    gcFn = runInNewContext('gc') as () => void
  }
  return gcFn
}

/** Set by `stopTraffic`: a running `trafficSeries` ends. */
let trafficStopped = false

/** Latency buckets of `trafficSeries`: bucket k holds [10 µs * 1.05^k, 10 µs * 1.05^(k+1)). */
const SERIES_BUCKETS = 320

function seriesBucket (ms: number): number {
  if (!(ms > 0.01)) return 0
  return Math.min(SERIES_BUCKETS - 1, Math.floor(Math.log(ms / 0.01) / Math.log(1.05)))
}

/** What `series` returns: per second of wall time since `startedAt`, calls, casts, errors and a latency histogram. */
interface Series {
  startedAt: number
  calls: number[]
  casts: number[]
  errors: number[]
  errorNames: Record<string, number>
  hist: Uint32Array
  buckets: number
}

/**
 * A load generator: `inFlight` loops, each sending a message to the id `pick` gives and the
 * next when the last one settled, for `seconds` or until `stopTraffic`; one message in
 * `castEvery` (if set) is a cast, which settles at once.
 */
async function series (node: SimplePoolNode, a: Record<string, unknown>, pick: () => number): Promise<Series> {
  trafficStopped = false
  const pool = a.pool as string
  const prefix = (a.prefix as string | undefined) ?? 'w-'
  const msg = a.msg ?? 'inc'
  const castMsg = a.cast ?? msg
  const castEvery = (a.castEvery as number | undefined) ?? 0
  const started = performance.now()
  const seconds = a.seconds as number
  const end = started + seconds * 1000
  const slots = Math.ceil(seconds) + 1
  const out: Series = {
    startedAt: performance.timeOrigin + started,
    calls: new Array<number>(slots).fill(0),
    casts: new Array<number>(slots).fill(0),
    errors: new Array<number>(slots).fill(0),
    errorNames: {},
    hist: new Uint32Array(slots * SERIES_BUCKETS),
    buckets: SERIES_BUCKETS
  }
  let sent = 0
  const loop = async (): Promise<void> => {
    while (performance.now() < end && !trafficStopped) {
      const t0 = performance.now()
      const slot = Math.min(slots - 1, Math.floor((t0 - started) / 1000))
      const ref = node.ref(pool, prefix + pick())
      try {
        if (castEvery > 0 && ++sent % castEvery === 0) {
          ref.cast(castMsg)
          out.casts[slot]++
          // a cast settles at once: let the loop breathe now and then
          if ((out.casts[slot] & 63) === 0) await new Promise(resolve => setImmediate(resolve))
          continue
        }
        await ref.call(msg)
        out.calls[slot]++
        out.hist[slot * SERIES_BUCKETS + seriesBucket(performance.now() - t0)]++
      } catch (err) {
        out.errors[slot]++
        countError(out.errorNames, err)
      }
    }
  }
  await Promise.all(Array.from({ length: (a.inFlight as number | undefined) ?? 256 }, loop))
  return out
}

/** Ranks are spread over the id space by this stride, prime and so coprime to any id count it does not divide. */
const ZIPF_STRIDE = 1_000_003

const zipfTables = new Map<string, Float64Array>()

/** A sampler of ranks 0..n-1 by a Zipf law with exponent `s`: a cumulative table (8 bytes per rank, made once) and a binary search. */
function zipfOf (n: number, s: number): () => number {
  const key = `${n}:${s}`
  let cdf = zipfTables.get(key)
  if (cdf === undefined) {
    cdf = new Float64Array(n)
    let sum = 0
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s)
      cdf[k] = sum
    }
    for (let k = 0; k < n; k++) cdf[k] /= sum
    zipfTables.set(key, cdf)
  }
  const table = cdf
  return () => {
    const u = Math.random()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (table[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
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

/** Refs to `workers` ids of `pool` another node owns (`prefix`0, ...), activated first. */
async function remoteRefs (node: SimplePoolNode, a: Args): Promise<WorkerRef[]> {
  const pool = a.pool as string
  const ids = remoteIds(node, pool, (a.prefix as string | undefined) ?? 'r-', (a.workers as number | undefined) ?? 10_000)
  await node.spawnMany(pool, ids)
  return ids.map(id => node.ref(pool, id))
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
    const n = a.calls as number
    const msg = a.msg ?? 'inc'
    const refs = await remoteRefs(node, a)
    const before = statsNow(node)
    const meter = startAllocationMeter()
    const { ms, sorted, errors } = await closedLoop(n, (a.inFlight as number | undefined) ?? 256, (i) => refs[i % refs.length].call(msg))
    // this process's allocations over the run (the loop's own and its latency samples included) per call
    const allocation = meter.stop()
    const stats = statsSince(node, before)
    // the loop's own share: the same loop over calls that answer at once, with nothing sent
    const loopMeter = startAllocationMeter()
    await closedLoop(n, (a.inFlight as number | undefined) ?? 256, () => ANSWERED)
    const loopBytesPerCall = loopMeter.stop().bytes / n
    return { n, ms, perSecond: n / (ms / 1000), failures: errors, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), stats, allocation, bytesPerCall: allocation.bytes / n, loopBytesPerCall }
  },

  /**
   * Casts `n` copies of `msg` to `workers` ids of `pool` another node owns (activated first,
   * unmeasured), round robin, as fast as the transport's queue takes them: on
   * `OverloadedError` (the queue to that node is full) a turn of the event loop passes and
   * the cast is sent again, so every cast is sent once. Reports the time to hand them all over.
   */
  remoteCasts: async (node, a) => {
    const n = a.n as number
    const msg = a.msg ?? 'inc'
    const refs = await remoteRefs(node, a)
    return await flood(n, (i) => { refs[i % refs.length].cast(msg) })
  },

  /** Makes this node echo every byte it gets on the raw round-trip protocol (on the node's own host, beside its transport). */
  rawEcho: async (node) => {
    if (echoing) return true
    echoing = true
    await node.mesh.streams().handle(BENCH_ECHO_PROTOCOL, (stream) => { echoBack(stream) })
    return true
  },

  /** `n` round trips of `bytes` bytes on a bare libp2p stream to `peer` (which runs `rawEcho`): the floor under a remote call between the same two nodes. */
  rawRoundTrip: async (node, a) => {
    const n = a.n as number
    const stream = await node.mesh.streams().newStream(a.peer as string, BENCH_ECHO_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
    return await echoRoundTrips(stream, n, (a.bytes as number | undefined) ?? 24, (a.warmup as number | undefined) ?? Math.min(1_000, n))
  },

  /** Arms this process's `sink` pool tally for `count` casts; send after it answers. */
  sinkArm: (_node, a) => {
    armSink(a.count as number)
    return true
  },

  /** Waits (at most `timeoutMs`) for the armed count of casts to reach `sink` workers here; the time from the first to the last. */
  awaitSink: async (_node, a) => {
    const t = sinkTally
    const complete = t.seen >= t.target || await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false) }, (a.timeoutMs as number | undefined) ?? 60_000)
      t.done = () => { clearTimeout(timer); resolve(true) }
    })
    return { complete, received: t.seen, ms: complete ? t.lastAt - t.firstAt : NaN }
  },

  /**
   * Calls `msg` to `workers` ids of `pool` another node owns (activated first), round robin,
   * at a fixed `rate` per second for `seconds` whatever the replies do; latencies from
   * when each call was due (see `fixedRate`).
   */
  fixedRateCalls: async (node, a) => {
    const msg = a.msg ?? 'inc'
    const refs = await remoteRefs(node, a)
    return await fixedRate((i) => refs[i % refs.length].call(msg), { rate: a.rate as number, seconds: a.seconds as number })
  },

  /**
   * Calls to ids picked uniformly at random, `inFlight` at a time, for `seconds`, counted
   * per second of wall time: calls, errors and a latency histogram each second (buckets
   * 5% wide from 10 µs), so a harness can merge any window of any nodes into quantiles.
   * `stopTraffic` ends it early.
   */
  trafficSeries: async (node, a) => {
    const n = a.n as number
    return await series(node, a, () => Math.floor(Math.random() * n))
  },

  /**
   * The same, with ids picked by a Zipf law (`s`, default 1.0: the k-th most popular id
   * is asked k times less often than the first), popular ids spread over the id space, and
   * one message in `castEvery` a cast (`cast` instead of `msg`), counted apart.
   */
  zipfTraffic: async (node, a) => {
    const n = a.n as number
    const zipf = zipfOf(n, (a.s as number | undefined) ?? 1)
    // rank r is id (r * stride) mod n: the hot ids land all over the ring
    return await series(node, a, () => (zipf() * ZIPF_STRIDE) % n)
  },

  /**
   * This process's memory after full collections (the collector is reached through V8's
   * flags, so the node needs no --expose-gc): RSS and heap in bytes.
   */
  memory: () => {
    const gc = fullGc()
    for (let i = 0; i < 3; i++) gc()
    const m = process.memoryUsage()
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }
  },

  /** Indices i of `prefix`i (0 <= i < n) whose owner in this node's view is `peer`. */
  ownedBy: (node, a) => {
    const placement = node.placement()
    const out: number[] = []
    for (let i = 0; i < (a.n as number); i++) if (placement.ownerOf(a.pool as string, `${a.prefix as string}${i}`) === a.peer) out.push(i)
    return out
  },

  /**
   * Calls `msg` on every id `prefix`i of `indices`, `inFlight` at a time, round after round,
   * until a round in which every call succeeded; resolves with when that round began (wall
   * clock, ms) and the failures of the rounds before. The ids are reachable from that moment.
   */
  sweepUntilReachable: async (node, a) => {
    const ids = (a.indices as number[]).map(i => `${a.prefix as string}${i}`)
    const deadline = performance.now() + ((a.timeoutMs as number | undefined) ?? 60_000)
    const errors: Record<string, number> = {}
    let rounds = 0
    for (;;) {
      const began = Date.now()
      rounds++
      let failed = 0
      let next = 0
      const loop = async (): Promise<void> => {
        while (next < ids.length) {
          const id = ids[next++]
          try {
            await node.ref(a.pool as string, id).call(a.msg ?? 'get', { timeoutMs: 2_000 })
          } catch (err) {
            failed++
            countError(errors, err)
          }
        }
      }
      await Promise.all(Array.from({ length: (a.inFlight as number | undefined) ?? 256 }, loop))
      if (failed === 0) return { reachableAt: began, rounds, errors }
      if (performance.now() > deadline) return { reachableAt: null, rounds, errors }
    }
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
