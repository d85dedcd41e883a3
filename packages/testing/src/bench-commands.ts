import { benchMark, benchRead, statsNow, statsSince } from './process-meter.js'
import type { StatsDelta } from './process-meter.js'
import type { TestNode } from './test-node.js'
import { flood, percentile } from './samples.js'
import { BENCH_ECHO_PROTOCOL, echoBack, echoRoundTrips } from './echo-round-trips.js'

type Args = Record<string, unknown>

/** The protocol of raw benchmark streams: bytes only, no framing or codec of ours on the receiving side. */
export const BENCH_RAW_PROTOCOL = '/simplepool/bench-raw/1.0.0'

export { BENCH_ECHO_PROTOCOL }

/** Bytes of the big-endian length in front of every raw frame and every raw record. */
const RAW_PREFIX_BYTES = 4

interface CastSink {
  target: number
  seen: number
  firstAt: number
  lastAt: number
  statsAtStart: StatsDelta
  done?: () => void
}

interface RawSink {
  target: number
  bytes: number
  firstAt: number
  lastAt: number
  done?: () => void
}

// One of each per process: a benchmark drives one receiver at a time.
let castSink: CastSink | undefined
let rawSink: RawSink | undefined
let benchHandlersInstalled = false
let rawHandlerInstalled = false
let echoHandlerInstalled = false

/** Counts casts and echoes calls, cheaply: a benchmark must not measure its own handler. */
function installBenchHandlers (node: TestNode): void {
  if (benchHandlersInstalled) return
  benchHandlersInstalled = true
  node.transport.setHandlers({
    onCast: () => {
      const sink = castSink
      if (sink == null) return
      // the clock is read twice per run, not per cast: performance.now() would cost more than the handler
      if (++sink.seen === 1) sink.firstAt = performance.now()
      if (sink.seen === sink.target) {
        sink.lastAt = performance.now()
        sink.done?.()
      }
    },
    // the same echo the test handlers give, so calls keep working after a cast benchmark
    onCall: (payload) => {
      const p = payload as { op?: string, value?: unknown } | null
      return p?.op === 'echo' ? p.value : payload
    }
  })
}

/** The shape of a raw flood, computed the same way by sender and receiver. */
function rawPlan (a: Args): { frames: number, records: number, frameBytes: number, totalBytes: number, batch: number, recordBytes: number } {
  const n = a.n as number
  const batch = Math.max(1, a.batch as number)
  const recordBytes = a.recordBytes as number
  const frames = Math.ceil(n / batch)
  const frameBytes = RAW_PREFIX_BYTES + batch * (RAW_PREFIX_BYTES + recordBytes)
  return { frames, records: frames * batch, frameBytes, totalBytes: frames * frameBytes, batch, recordBytes }
}

/** One pre-built frame: a length, then `batch` records each with its own length, as the transport's frames carry a header per frame and per envelope. */
function rawFrame (batch: number, recordBytes: number): Uint8Array {
  const frame = Buffer.alloc(RAW_PREFIX_BYTES + batch * (RAW_PREFIX_BYTES + recordBytes), 0x61)
  frame.writeUInt32BE(frame.byteLength - RAW_PREFIX_BYTES, 0)
  for (let i = 0, off = RAW_PREFIX_BYTES; i < batch; i++, off += RAW_PREFIX_BYTES + recordBytes) frame.writeUInt32BE(recordBytes, off)
  return frame
}

async function waitUntil (done: () => boolean, arm: (resolve: () => void) => void, timeoutMs: number): Promise<boolean> {
  if (done()) return true
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { resolve(false) }, timeoutMs)
    arm(() => { clearTimeout(timer); resolve(true) })
  })
}

/** Requests a harness child answers for benchmarks: floods and timed call loops. */
export const benchCommands: Record<string, (node: TestNode, args: Args) => unknown> = {
  benchMark,
  benchRead,

  /** Arms the cast counter of this node for `count` casts; call before the sender starts. */
  castSink: (node, a) => {
    installBenchHandlers(node)
    castSink = { target: a.count as number, seen: 0, firstAt: 0, lastAt: 0, statsAtStart: statsNow(node) }
    return true
  },

  /**
   * Waits until the armed count of casts has arrived and reports the receiving side's
   * time from the first to the last, and the frames they came in.
   */
  awaitCasts: async (node, a) => {
    const sink = castSink
    if (sink == null) throw new Error('awaitCasts before castSink')
    const complete = await waitUntil(() => sink.seen >= sink.target, (resolve) => { sink.done = resolve }, (a.timeoutMs as number | undefined) ?? 30_000)
    return { complete, received: sink.seen, ms: complete ? sink.lastAt - sink.firstAt : NaN, stats: statsSince(node, sink.statsAtStart) }
  },

  /**
   * Sends `n` casts of a `payloadBytes` Uint8Array to `peer` as fast as the queue takes
   * them; on `OverloadedError` it lets a turn pass and retries. Reports the sender's time
   * to hand every cast to the transport, not to deliver it.
   */
  castFlood: async (node, a) => {
    const peer = a.peer as string
    const n = a.n as number
    const payload = new Uint8Array((a.payloadBytes as number | undefined) ?? 100).fill(0x61)
    return await flood(n, () => { node.transport.cast(peer, payload) })
  },

  /**
   * Arms this node's raw sink for the flood described by the same `{ n, recordBytes, batch }`
   * `rawFlood` gets; registers the raw protocol on first use. Counts bytes only.
   */
  rawSink: async (node, a) => {
    const plan = rawPlan(a)
    rawSink = { target: plan.totalBytes, bytes: 0, firstAt: 0, lastAt: 0 }
    if (!rawHandlerInstalled) {
      rawHandlerInstalled = true
      await node.mesh.libp2p.handle(BENCH_RAW_PROTOCOL, (stream) => {
        stream.addEventListener('message', (evt) => {
          const sink = rawSink
          if (sink == null) return
          if (sink.bytes === 0) sink.firstAt = performance.now()
          sink.bytes += evt.data.byteLength
          if (sink.bytes >= sink.target && sink.lastAt === 0) {
            sink.lastAt = performance.now()
            sink.done?.()
          }
        })
      }, { maxInboundStreams: 16 })
    }
    return true
  },

  /** Waits until the armed raw flood has fully arrived; reports bytes and the receiving side's first-to-last time. */
  awaitRaw: async (_node, a) => {
    const sink = rawSink
    if (sink == null) throw new Error('awaitRaw before rawSink')
    const complete = await waitUntil(() => sink.lastAt !== 0, (resolve) => { sink.done = resolve }, (a.timeoutMs as number | undefined) ?? 30_000)
    return { complete, bytes: sink.bytes, ms: complete ? sink.lastAt - sink.firstAt : NaN }
  },

  /**
   * The ceiling under the transport: one libp2p stream of our own protocol, written with
   * pre-built frames of `batch` length-prefixed records of `recordBytes`, honouring
   * `send()`/`onDrain()` backpressure. No encode on this side, no decode on the other.
   */
  rawFlood: async (node, a) => {
    const plan = rawPlan(a)
    const frame = rawFrame(plan.batch, plan.recordBytes)
    const stream = await node.mesh.newStream(a.peer as string, BENCH_RAW_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
    let drains = 0
    const started = performance.now()
    try {
      for (let i = 0; i < plan.frames; i++) {
        if (!stream.send(frame)) {
          drains++
          await stream.onDrain()
        }
      }
      const ms = performance.now() - started
      await stream.close()
      return { records: plan.records, bytes: plan.totalBytes, frames: plan.frames, ms, drains }
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  },

  /** Makes this node echo every byte it gets on the raw round-trip protocol. */
  rawEcho: async (node) => {
    if (echoHandlerInstalled) return true
    echoHandlerInstalled = true
    await node.mesh.libp2p.handle(BENCH_ECHO_PROTOCOL, (stream) => {
      echoBack(stream)
    }, { maxInboundStreams: 16 })
    return true
  },

  /**
   * The latency floor under calls: `n` round trips of `bytes` bytes, one at a time, on a
   * bare libp2p stream to a peer running `rawEcho`. Same percentiles as `callLatency`.
   */
  rawRoundTrip: async (node, a) => {
    const n = a.n as number
    const stream = await node.mesh.newStream(a.peer as string, BENCH_ECHO_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
    return await echoRoundTrips(stream, n, (a.bytes as number | undefined) ?? 24, (a.warmup as number | undefined) ?? Math.min(1_000, n))
  },

  /**
   * `n` calls one after another, each awaited, after `warmup` unmeasured ones. Reports
   * latency percentiles in milliseconds from the caller's clock.
   */
  callLatency: async (node, a) => {
    const peer = a.peer as string
    const n = a.n as number
    const warmup = (a.warmup as number | undefined) ?? Math.min(1_000, n)
    const payload = a.payload ?? { op: 'echo', value: 1 }
    for (let i = 0; i < warmup; i++) await node.transport.call(peer, payload)
    const samples = new Float64Array(n)
    const before = statsNow(node)
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await node.transport.call(peer, payload)
      samples[i] = performance.now() - t0
    }
    const stats = statsSince(node, before)
    let sum = 0
    for (const s of samples) sum += s
    samples.sort()
    return {
      n,
      mean: sum / n,
      p50: percentile(samples, 0.5),
      p99: percentile(samples, 0.99),
      p999: percentile(samples, 0.999),
      max: samples[n - 1],
      stats
    }
  },

  /**
   * `n` calls with `inFlight` outstanding at all times: each of `inFlight` loops sends its
   * next call as soon as its last one settles. Reports calls per second and how the calls
   * and replies were framed.
   */
  callPipelined: async (node, a) => {
    const peer = a.peer as string
    const n = a.n as number
    const inFlight = (a.inFlight as number | undefined) ?? 256
    const payload = a.payload ?? { op: 'echo', value: 1 }
    let issued = 0
    const failures: Record<string, number> = {}
    const loop = async (): Promise<void> => {
      while (issued < n) {
        issued++
        try {
          await node.transport.call(peer, payload)
        } catch (err) {
          const k = (err as Error).name
          failures[k] = (failures[k] ?? 0) + 1
        }
      }
    }
    const before = statsNow(node)
    const started = performance.now()
    await Promise.all(Array.from({ length: Math.min(inFlight, n) }, loop))
    const ms = performance.now() - started
    return { n, ms, perSecond: n / (ms / 1000), failures, stats: statsSince(node, before) }
  }
}
