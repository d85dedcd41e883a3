/**
 * The remote scenario: messages between two processes on 127.0.0.1, SimplePool beside
 * moleculer with its TCP transporter (request/response between two brokers) and beside a
 * bare `net.Socket` writing the same framed bytes SimplePool's transport writes (the floor
 * no library can beat). For each: one-way messages/s, requests/s with 256 in flight, and
 * call latency at a fixed 10,000 calls/s. Every peer runs in the same invocation, one after
 * another, each in two fresh processes.
 * Needs the build (`npm run bench` does it): `npm run bench -- --scenario remote`.
 */
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { ENVELOPE_VERSION } from '@simplepool/core'
import { Op } from '@simplepool/runtime'
import { startCluster } from '@simplepool/testing'
import type { FixedRateResult, NodeHandle } from '@simplepool/testing'
import { Kind, encodeFrame } from '@simplepool/transport'
import { PeerProcess } from './peers/peer-process.js'
import { accessCost } from './access-cost.js'
import { median, repeated, round } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link remoteBench}. */
export interface RemoteBenchOptions {
  /** One-way messages per measured run. Default 1,000,000. */
  casts?: number
  /** Requests per measured run of the pipelined request rate. Default 100,000. */
  requests?: number
  /** Fixed call rate of the latency runs, per second. Default 10,000. */
  rate?: number
  /** Seconds of each fixed-rate run. Default 5. */
  seconds?: number
  /** Calls of each sequential run (one at a time, each awaited). Default 20,000. */
  sequential?: number
  /** Measured runs of each figure. Default 3. */
  runs?: number
  quiet?: boolean
}

const IN_FLIGHT = 256
const WORKERS = 10_000
/** Envelopes per frame the transport writes when its queue is full, and so per raw write. */
const PER_FRAME = 1024
/** Unmeasured runs go first until the rate climbs less than this from one run to the next (JIT, heaps). */
const WARM = 1.05
const MAX_WARMUPS = 6

/** Latency percentiles of a run, in ms. */
interface Quantiles { p50: number, p99: number, p999: number }
interface Rates { oneWay: number[], requests: number[], latency: FixedRateResult[], sequential: Quantiles[] }
/** Bytes the caller's process allocated per call, per measured run, and those of the benchmark's loop alone. */
interface Garbage { pipelined: number[], sequential: number[], pipelinedLoop: number[], sequentialLoop: number[] }
/** Share of wall time each process's main thread was busy (event-loop utilisation), sender first. */
interface Busy { sender: number[], receiver: number[] }
interface RawRates { oneWay: number[], decoded: number[], latency: FixedRateResult[], sequential: Quantiles[] }

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

/** Bytes per call of each run with the loop's own taken out. */
function ownBytes (g: Garbage, k: 'pipelined' | 'sequential'): number[] {
  const loop = k === 'pipelined' ? g.pipelinedLoop : g.sequentialLoop
  return g[k].map((b, i) => b - loop[i])
}

/** Runs `run` unmeasured until its rate stops climbing, then `runs` times measured. */
async function measured (label: string, runs: number, run: () => Promise<number>, log: (s: string) => void): Promise<number[]> {
  let previous = 0
  for (let i = 0; i < MAX_WARMUPS; i++) {
    const rate = await run()
    log(`${label}: warm-up ${i + 1}: ${Math.round(rate).toLocaleString('en-US')}/s`)
    if (previous > 0 && rate < previous * WARM) break
    previous = rate
  }
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    out.push(await run())
    log(`${label}: run ${i + 1}: ${Math.round(out[i]).toLocaleString('en-US')}/s`)
  }
  return out
}

async function latencyRuns (label: string, runs: number, run: (seconds: number) => Promise<FixedRateResult>, seconds: number, log: (s: string) => void): Promise<FixedRateResult[]> {
  await run(1) // warm-up at the same rate
  const out: FixedRateResult[] = []
  for (let i = 0; i < runs; i++) {
    const r = await run(seconds)
    const failed = Object.values(r.errors).reduce((a, b) => a + b, 0)
    if (failed > 0) throw new Error(`${label}: calls failed at a fixed rate: ${JSON.stringify(r.errors)}`)
    log(`${label}: ${Math.round(r.sentPerSecond).toLocaleString('en-US')} calls/s sent, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`)
    out.push(r)
  }
  return out
}

/** One unmeasured run of `run`, then `runs` measured. */
async function sequentialRuns (label: string, runs: number, run: () => Promise<Quantiles>, log: (s: string) => void): Promise<Quantiles[]> {
  await run()
  const out: Quantiles[] = []
  for (let i = 0; i < runs; i++) {
    const q = await run()
    log(`${label}: p50 ${q.p50.toFixed(3)} ms, p99 ${q.p99.toFixed(3)} ms, p99.9 ${q.p999.toFixed(3)} ms`)
    out.push(q)
  }
  return out
}

async function simplepool (o: Required<RemoteBenchOptions>, log: (s: string) => void): Promise<Rates & { busy: Busy, stream: Quantiles[], garbage: Garbage }> {
  const cluster = await startCluster({ nodes: 2, pools: ['sink', 'counter'] })
  try {
    const [a, b]: NodeHandle[] = cluster.nodes
    const busy: Busy = { sender: [], receiver: [] }
    const garbage: Garbage = { pipelined: [], sequential: [], pipelinedLoop: [], sequentialLoop: [] }
    const oneWay = await measured('simplepool one-way', o.runs, async () => {
      await b.request('sinkArm', { count: o.casts })
      await Promise.all([a.request('benchMark'), b.request('benchMark')])
      const [, seen] = await Promise.all([
        a.request('remoteCasts', { pool: 'sink', n: o.casts, workers: WORKERS }, 120_000),
        b.request<{ complete: boolean, received: number, ms: number }>('awaitSink', { timeoutMs: 100_000 }, 120_000)
      ])
      if (!seen.complete) throw new Error(`only ${seen.received} of ${o.casts} casts reached their workers`)
      const [ua, ub] = await Promise.all([a.request<{ elu: number }>('benchRead'), b.request<{ elu: number }>('benchRead')])
      busy.sender.push(ua.elu)
      busy.receiver.push(ub.elu)
      return o.casts / (seen.ms / 1000)
    }, log)
    const requests = await measured('simplepool requests', o.runs, async () => {
      const r = await a.request<{ perSecond: number, failures: Record<string, number>, bytesPerCall: number, loopBytesPerCall: number }>('remoteCalls', { pool: 'counter', calls: o.requests, inFlight: IN_FLIGHT, workers: WORKERS }, 120_000)
      if (Object.keys(r.failures).length > 0) throw new Error(`simplepool calls failed: ${JSON.stringify(r.failures)}`)
      garbage.pipelined.push(r.bytesPerCall)
      garbage.pipelinedLoop.push(r.loopBytesPerCall)
      return r.perSecond
    }, log)
    const latency = await latencyRuns('simplepool fixed rate', o.runs, async (seconds) =>
      await a.request<FixedRateResult>('fixedRateCalls', { pool: 'counter', rate: o.rate, seconds, workers: WORKERS }, seconds * 1000 + 60_000), o.seconds, log)
    const sequential = await sequentialRuns('simplepool sequential', o.runs, async () => {
      const r = await a.request<Quantiles & { failures: Record<string, number>, bytesPerCall: number, loopBytesPerCall: number }>('remoteCalls', { pool: 'counter', calls: o.sequential, inFlight: 1, workers: WORKERS }, 120_000)
      if (Object.keys(r.failures).length > 0) throw new Error(`simplepool calls failed: ${JSON.stringify(r.failures)}`)
      garbage.sequential.push(r.bytesPerCall)
      garbage.sequentialLoop.push(r.loopBytesPerCall)
      return r
    }, log)
    // the floor under it: the same round trips on a bare libp2p stream between the same two nodes (Noise, Yamux; no transport, no runtime)
    await b.request('rawEcho')
    const stream = await sequentialRuns('libp2p stream sequential', o.runs, async () =>
      await a.request<Quantiles>('rawRoundTrip', { peer: b.peerId, n: o.sequential, bytes: wireFrames().call.byteLength }, 120_000), log)
    // the measured runs are the last ones
    return { oneWay, requests, latency, sequential, stream, busy: { sender: busy.sender.slice(-o.runs), receiver: busy.receiver.slice(-o.runs) }, garbage: { pipelined: garbage.pipelined.slice(-o.runs), sequential: garbage.sequential.slice(-o.runs), pipelinedLoop: garbage.pipelinedLoop.slice(-o.runs), sequentialLoop: garbage.sequentialLoop.slice(-o.runs) } }
  } finally {
    await cluster.stop()
  }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  await new Promise(resolve => server.close(resolve))
  if (addr === null || typeof addr === 'string') throw new Error('no free port')
  return addr.port
}

async function moleculer (o: Required<RemoteBenchOptions>, log: (s: string) => void): Promise<Omit<Rates, 'oneWay'>> {
  const server = PeerProcess.start(here('./peers/moleculer-peer.ts'), 'moleculer server')
  const client = PeerProcess.start(here('./peers/moleculer-peer.ts'), 'moleculer client')
  try {
    const [ps, pc] = [await freePort(), await freePort()]
    const urls = [`127.0.0.1:${ps}/server`, `127.0.0.1:${pc}/client`]
    await server.request('start', { nodeID: 'server', port: ps, urls, serve: true })
    await client.request('start', { nodeID: 'client', port: pc, urls, serve: false })
    const requests = await measured('moleculer requests', o.runs, async () => {
      const r = await client.request<{ perSecond: number, failed: number }>('requests', { n: o.requests, inFlight: IN_FLIGHT, ids: WORKERS }, 300_000)
      if (r.failed > 0) throw new Error(`${r.failed} moleculer requests failed`)
      return r.perSecond
    }, log)
    const latency = await latencyRuns('moleculer fixed rate', o.runs, async (seconds) =>
      await client.request<FixedRateResult>('fixedRate', { rate: o.rate, seconds, ids: WORKERS }, seconds * 1000 + 60_000), o.seconds, log)
    const sequential = await sequentialRuns('moleculer sequential', o.runs, async () => {
      const r = await client.request<Quantiles & { failed: number }>('requests', { n: o.sequential, inFlight: 1, ids: WORKERS }, 300_000)
      if (r.failed > 0) throw new Error(`${r.failed} moleculer requests failed`)
      return r
    }, log)
    await Promise.all([client.request('stop'), server.request('stop')])
    return { requests, latency, sequential }
  } finally {
    await Promise.all([client.stop(), server.stop()])
  }
}

/** The frames SimplePool's transport writes: a cast of 'inc' to a worker, 1,024 to a frame; a call alone in its frame. */
function wireFrames (): { cast: Uint8Array, castBytes: number, call: Uint8Array } {
  const cast = [ENVELOPE_VERSION, Kind.Cast, [Op.Cast, 'sink', 'r-12345', 'inc', 1, 0]]
  const frame = encodeFrame(Array.from({ length: PER_FRAME }, () => cast))
  const call = encodeFrame([[ENVELOPE_VERSION, Kind.Call, 12345, [Op.Call, 'counter', 'r-12345', 'inc', 1, 0, 30_000]]])
  return { cast: frame, castBytes: (frame.byteLength - 4) / PER_FRAME, call }
}

async function rawSocket (o: Required<RemoteBenchOptions>, log: (s: string) => void): Promise<RawRates> {
  const listener = PeerProcess.start(here('./peers/socket-peer.ts'), 'socket listener')
  const sender = PeerProcess.start(here('./peers/socket-peer.ts'), 'socket sender')
  try {
    const port = await listener.request<number>('listen')
    await sender.request('connect', { port })
    const { cast, call } = wireFrames()
    const frames = Math.ceil(o.casts / PER_FRAME)
    const flood = (decode: boolean) => async (): Promise<number> => {
      await listener.request('arm', { frames, decode })
      const [, seen] = await Promise.all([
        sender.request('flood', { frame: Buffer.from(cast).toString('base64'), frames }, 120_000),
        listener.request<{ complete: boolean, frames: number, envelopes: number, ms: number }>('awaitFrames', { timeoutMs: 100_000 }, 120_000)
      ])
      if (!seen.complete) throw new Error(`only ${seen.frames} of ${frames} raw frames arrived`)
      if (decode && seen.envelopes !== frames * PER_FRAME) throw new Error(`${seen.envelopes} envelopes decoded, expected ${frames * PER_FRAME}`)
      return (frames * PER_FRAME) / (seen.ms / 1000)
    }
    const oneWay = await measured('raw socket one-way', o.runs, flood(false), log)
    const decoded = await measured('raw socket one-way, decoded', o.runs, flood(true), log)
    await listener.request('arm', { frames: 0 })
    const latency = await latencyRuns('raw socket fixed rate', o.runs, async (seconds) =>
      await sender.request<FixedRateResult>('fixedRate', { frame: Buffer.from(call).toString('base64'), rate: o.rate, seconds }, seconds * 1000 + 60_000), o.seconds, log)
    const sequential = await sequentialRuns('raw socket sequential', o.runs, async () =>
      await sender.request<Quantiles>('sequential', { frame: Buffer.from(call).toString('base64'), n: o.sequential }, 120_000), log)
    return { oneWay, decoded, latency, sequential }
  } finally {
    await Promise.all([sender.stop(), listener.stop()])
  }
}

/** SimplePool, then moleculer, then the raw socket, each in two fresh processes. */
export async function remoteBench (opts: RemoteBenchOptions = {}): Promise<ScenarioResult> {
  const o: Required<RemoteBenchOptions> = {
    casts: opts.casts ?? 1_000_000,
    requests: opts.requests ?? 100_000,
    rate: opts.rate ?? 10_000,
    seconds: opts.seconds ?? 5,
    sequential: opts.sequential ?? 20_000,
    runs: opts.runs ?? 3,
    quiet: opts.quiet ?? false
  }
  const log = (line: string): void => { if (!o.quiet) process.stderr.write(`remote: ${line}\n`) }
  const sp = await simplepool(o, log)
  let mol: Omit<Rates, 'oneWay'> | undefined
  let molSkipped = ''
  try {
    mol = await moleculer(o, log)
  } catch (err) {
    // the peer is the yardstick, not the subject: without it SimplePool's figures still stand
    molSkipped = (err as Error).message
    log(`moleculer skipped: ${molSkipped}`)
  }
  const raw = await rawSocket(o, log)
  const access = await accessCost({ requests: o.requests, runs: o.runs, inFlight: IN_FLIGHT, workers: WORKERS }, log)
  // per run, the share of the calls/s the rules took: runs side by side share the machine's state
  const accessShare = access.open.map((x, i) => 1 - access.ruled[i] / x)

  const med = (xs: number[] | undefined): number | undefined => xs === undefined || xs.length === 0 ? undefined : median(xs)
  const q = (rs: FixedRateResult[] | undefined, k: 'p50' | 'p99' | 'p999'): number[] | undefined => rs?.map(r => r[k])
  const spOneWay = median(sp.oneWay)
  const rawOneWay = median(raw.oneWay)
  const rawDecoded = median(raw.decoded)
  const spReq = median(sp.requests)
  const molReq = med(mol?.requests)
  const oneWayRatio = spOneWay / rawOneWay
  const reqRatio = molReq === undefined ? undefined : spReq / molReq
  const cell = (x: number | undefined, digits = 0): number | string => x === undefined || !Number.isFinite(x) ? '' : round(x, digits)
  const yes = (ok: boolean | undefined): string => ok === undefined ? '' : ok ? 'yes' : 'NO'
  const rows = [
    { measure: 'one-way msgs/s (ref.cast to live workers)', simplepool: cell(spOneWay), moleculer: '', 'raw socket': cell(rawOneWay), 'libp2p stream': '', ratio: `${cell(oneWayRatio, 3)} of raw`, goal: '>= 1,000,000', met: yes(spOneWay >= 1_000_000) },
    { measure: `requests/s, ${IN_FLIGHT} in flight, with access rules (runs beside ones without)`, simplepool: cell(median(access.ruled)), moleculer: '', 'raw socket': '', 'libp2p stream': '', ratio: `${cell(median(accessShare) * 100, 1)}% below ${cell(median(access.open))} without`, goal: '<= 2% below', met: yes(median(accessShare) <= 0.02) },
    { measure: 'one-way msgs/s, raw decoded', simplepool: '', moleculer: '', 'raw socket': cell(rawDecoded), 'libp2p stream': '', ratio: `${cell(spOneWay / rawDecoded, 3)} of raw decoded`, goal: '', met: '' },
    { measure: `requests/s, ${IN_FLIGHT} in flight`, simplepool: cell(spReq), moleculer: cell(molReq), 'raw socket': '', 'libp2p stream': '', ratio: reqRatio === undefined ? '' : `${cell(reqRatio, 1)}x moleculer`, goal: '>= 400,000', met: yes(spReq >= 400_000) },
    ...(['pipelined', 'sequential'] as const).map(k => {
      const own = median(ownBytes(sp.garbage, k))
      return {
        measure: `bytes allocated by the caller per call, ${k === 'pipelined' ? `${IN_FLIGHT} in flight` : 'sequential'} (the benchmark's loop's own taken out)`,
        simplepool: cell(own),
        moleculer: '',
        'raw socket': '',
        'libp2p stream': '',
        ratio: `${cell(median(sp.garbage[k]))} with the loop's`,
        goal: '<= 1,024',
        met: yes(own <= 1024)
      }
    }),
    ...(['p50', 'p99', 'p999'] as const).map(k => {
      const ours = med(sp.sequential.map(r => r[k]))
      const theirs = med(mol?.sequential.map(r => r[k]))
      const ratio = ours === undefined || theirs === undefined ? undefined : ours / theirs
      return {
        measure: `sequential call ${k === 'p999' ? 'p99.9' : k} ms`,
        simplepool: cell(ours, 3),
        moleculer: cell(theirs, 3),
        'raw socket': cell(med(raw.sequential.map(r => r[k])), 3),
        'libp2p stream': cell(med(sp.stream.map(r => r[k])), 3),
        ratio: ratio === undefined ? '' : `${cell(ratio, 2)}x moleculer`,
        goal: k === 'p99' ? '< 1 ms, <= 2x moleculer' : '',
        met: k === 'p99' ? yes(ours !== undefined && ours < 1 && (ratio === undefined || ratio <= 2)) : ''
      }
    }),
    ...(['p50', 'p99', 'p999'] as const).map(k => {
      const ours = med(q(sp.latency, k))
      const theirs = med(q(mol?.latency, k))
      return {
        measure: `call ${k === 'p999' ? 'p99.9' : k} ms at ${o.rate.toLocaleString('en-US')}/s`,
        simplepool: cell(ours, 3),
        moleculer: cell(theirs, 3),
        'raw socket': cell(med(q(raw.latency, k)), 3),
        'libp2p stream': '',
        ratio: ours === undefined || theirs === undefined ? '' : `${cell(ours / theirs, 2)}x moleculer`,
        goal: k === 'p99' ? '<= moleculer' : '',
        met: k === 'p99' ? yes(ours === undefined || theirs === undefined ? undefined : ours <= theirs) : ''
      }
    })
  ]

  const figures: Figure[] = [
    repeated('remote.simplepool.one_way_per_s', sp.oneWay, 'msgs/s', 0, '>= 1,000,000'),
    repeated('remote.raw_socket.one_way_per_s', raw.oneWay, 'msgs/s'),
    repeated('remote.raw_socket_decoded.one_way_per_s', raw.decoded, 'msgs/s'),
    { name: 'remote.one_way_vs_raw', value: round(oneWayRatio, 3), unit: 'ratio' },
    { name: 'remote.one_way_vs_raw_decoded', value: round(spOneWay / rawDecoded, 3), unit: 'ratio' },
    repeated('remote.simplepool.requests_per_s', sp.requests, 'calls/s', 0, '>= 400,000'),
    repeated('remote.simplepool.requests_per_s_with_access_rules', access.ruled, 'calls/s'),
    repeated('remote.simplepool.requests_per_s_beside_access_rules', access.open, 'calls/s'),
    repeated('remote.access_rules_cost', accessShare.map(x => x * 100), '%', 1, '<= 2'),
    { name: 'remote.access_check_ns', value: round(access.checkNs, 1), unit: 'ns' },
    { name: 'remote.access_check_share_of_call', value: round(access.checkNs / (1e9 / median(access.open)) * 100, 2), unit: '%', goal: '<= 2' },
    repeated('remote.simplepool.bytes_per_call_pipelined', ownBytes(sp.garbage, 'pipelined'), 'bytes', 0, '<= 1,024'),
    repeated('remote.simplepool.bytes_per_call_sequential', ownBytes(sp.garbage, 'sequential'), 'bytes', 0, '<= 1,024'),
    repeated('remote.simplepool.bytes_per_call_pipelined_with_loop', sp.garbage.pipelined, 'bytes'),
    repeated('remote.simplepool.bytes_per_call_sequential_with_loop', sp.garbage.sequential, 'bytes'),
    ...(mol === undefined ? [] : [repeated('remote.moleculer.requests_per_s', mol.requests, 'calls/s')]),
    ...(reqRatio === undefined ? [] : [{ name: 'remote.requests_vs_moleculer', value: round(reqRatio, 2), unit: 'ratio', goal: '>= 6' }]),
    ...([['simplepool', sp.sequential], ['moleculer', mol?.sequential], ['raw_socket', raw.sequential], ['libp2p_stream', sp.stream]] as const).flatMap(([lib, rs]) =>
      rs === undefined ? [] : (['p50', 'p99', 'p999'] as const).map(k => repeated(`remote.${lib}.sequential_call_${k}_ms`, rs.map(r => r[k]), 'ms', 3))),
    ...([['simplepool', sp.latency], ['moleculer', mol?.latency], ['raw_socket', raw.latency]] as const).flatMap(([lib, rs]) =>
      rs === undefined ? [] : (['p50', 'p99', 'p999'] as const).map(k => repeated(`remote.${lib}.call_${k}_ms_at_fixed_rate`, rs.map(r => r[k]), 'ms', 3)))
  ]
  const list = (xs: number[] | undefined, digits = 0): string => xs === undefined ? '-' : xs.map(x => round(x, digits).toLocaleString('en-US')).join(', ')
  const { castBytes, call } = wireFrames()
  const notes = [
    `Each library in two fresh processes on 127.0.0.1, one after the other in this run; ${o.runs} measured runs of each figure (the table shows medians) after unmeasured runs until the rate climbed less than 5%.`,
    `One-way: ${o.casts.toLocaleString('en-US')} messages a run, counted from the first to the last arrival on the receiver. SimplePool: casts of 'inc' from node 1 to ${WORKERS.toLocaleString('en-US')} workers node 2 owns (a pool whose handler only counts), through libp2p (TCP, Noise, Yamux), decoded and run. Raw socket: the bytes the transport writes for those casts (${PER_FRAME.toLocaleString('en-US')} ${round(castBytes, 1)}-byte cbor envelopes in a length-prefixed frame) written back to back on a bare connection, the receiver reading only the frames' length prefixes; raw decoded: the same, the receiver cutting out every frame and decoding its envelopes with the transport's own codec (no Noise, no Yamux, no routing, no worker). Runs, SimplePool: ${list(sp.oneWay)}; raw: ${list(raw.oneWay)}; raw decoded: ${list(raw.decoded)}. SimplePool's main threads busy (event-loop utilisation) per run, sender/receiver: ${sp.busy.sender.map((x, i) => `${Math.round(x * 100)}%/${Math.round(sp.busy.receiver[i] * 100)}%`).join(', ')}.`,
    `Requests: ${o.requests.toLocaleString('en-US')} a run, ${IN_FLIGHT} always outstanding, round robin over ${WORKERS.toLocaleString('en-US')} ids (SimplePool: a counter worker per id; moleculer: an action keeping a count per id in a Map, JSON serializer, the TCP transporter with a static list of both brokers). Runs, SimplePool: ${list(sp.requests)}; moleculer: ${mol === undefined ? `not run (${molSkipped})` : list(mol.requests)}.`,
    `Fixed rate: ${o.rate.toLocaleString('en-US')} calls/s for ${o.seconds} s a run (after 1 s unmeasured), sent whatever the replies do; each latency counted from when its call was due, not sent, so a stalled sender shows. Raw socket: one ${call.byteLength}-byte frame per call, echoed byte for byte by the listener. p99 per run, SimplePool: ${list(q(sp.latency, 'p99'), 3)}; moleculer: ${list(q(mol?.latency, 'p99'), 3)}; raw: ${list(q(raw.latency, 'p99'), 3)} ms.`
  ]
  notes.push(`Access rules: two more pairs of processes, one with rules (a role of both nodes, granted to host every pool: each node checks the other's right to every call it takes) and one without, up at once; ${o.requests.toLocaleString('en-US')} calls a run at ${IN_FLIGHT} in flight, runs alternated between the pairs after one unmeasured run each. Calls/s without: ${list(access.open)}; with: ${list(access.ruled)}; cost per pair of runs: ${list(accessShare.map(x => x * 100), 1)}% (the machine's drift between two runs is larger than the cost). The check itself, timed in this process over a million calls of \`Access.may\` (a peer and a pool seen before): ${round(access.checkNs, 1)} ns, ${round(access.checkNs / (1e9 / median(access.open)) * 100, 2)}% of the time per call at the median rate without rules.`)
  notes.push(`Garbage: the bytes the caller's process allocated during each measured run of calls (the growth of its heap plus what every collection in between freed, from V8's GC profiler), divided by the calls; then the same for the benchmark's loop alone (the same loop, its latency samples included, over calls that have answered already), taken out. Runs, ${IN_FLIGHT} in flight: ${list(sp.garbage.pipelined)} with the loop, its own ${list(sp.garbage.pipelinedLoop)}; sequential: ${list(sp.garbage.sequential)}, its own ${list(sp.garbage.sequentialLoop)} bytes per call.`)
  notes.push(`Sequential: ${o.sequential.toLocaleString('en-US')} calls a run, one at a time (each sent once the last one's reply is back), after one unmeasured run; latency as the caller saw it. SimplePool: \`ref.call('inc')\` round robin over ${WORKERS.toLocaleString('en-US')} counters node 2 owns; moleculer: \`broker.call('bench.inc')\`; raw socket: one call frame, echoed; libp2p stream: the same bytes echoed on a bare libp2p stream between the same two SimplePool nodes (TCP, Noise, Yamux; no transport, no runtime). p99 per run, SimplePool: ${list(sp.sequential.map(r => r.p99), 3)}; moleculer: ${list(mol?.sequential.map(r => r.p99), 3)}; raw socket: ${list(raw.sequential.map(r => r.p99), 3)}; libp2p stream: ${list(sp.stream.map(r => r.p99), 3)} ms.`)
  return { scenario: 'remote', rows, figures, notes }
}
