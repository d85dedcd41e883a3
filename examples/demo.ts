/**
 * SimplePool at work: node processes on 127.0.0.1 form a cluster, activate 100,000
 * long-lived workers of two pools (chat rooms and IoT devices, see
 * packages/simplepool/src/demo-pools.ts), and
 * take traffic from a load generator inside every node while a live table shows each
 * node's health. Then every node stops gracefully and the demo sums up.
 *
 *   npm run demo                                  # 3 nodes, 100,000 workers, 15 s of traffic
 *   npm run demo -- --nodes 4 --workers 20000 --seconds 5
 *   npm run demo -- --quiet                       # one line a second, for CI logs
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import type { NodeHealth } from 'simplepool'
// the demo's pools ship in the package (`simplepool demo` runs them too); `npm run demo`
// builds it first, so every node process loads the compiled module as it is, no tsx
import { SITES, trafficMix } from 'simplepool/demo-pools'

const POOLS_MODULE = fileURLToPath(import.meta.resolve('simplepool/demo-pools'))

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    workers: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '15' },
    quiet: { type: 'boolean', default: false }
  }
})
const nodes = intOption('nodes', opts.nodes, 1)
// below two rooms per site, device alarms would activate rooms beyond the ones counted
const workers = intOption('workers', opts.workers, 2 * SITES)
const seconds = intOption('seconds', opts.seconds, 1)
// redrawing in place only makes sense on a terminal: a log file would keep every frame
const live = opts.quiet !== true && process.stdout.isTTY
const roomCount = Math.floor(workers / 2)
const deviceCount = workers - roomCount

/** Ids per spawnMany request: small enough for a smooth progress line, big enough to batch well. */
const SPAWN_CHUNK = 5_000
/**
 * Messages each node's load generator keeps in flight: enough for the transport to batch
 * well. Three nodes share two cores, so more would only lengthen queues and latency.
 */
const CONCURRENCY = 32

function intOption (name: string, text: string | undefined, min: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${String(text)}`)
    process.exit(2)
  }
  return n
}

const t0 = performance.now()
const secs = (from = t0): string => `${((performance.now() - from) / 1000).toFixed(1)} s`
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const short = (peerId: string): string => `…${peerId.slice(-6)}`

// plain ANSI: clear the line, move the cursor up n lines, hide and show the cursor
const CLEAR = '\x1b[2K\r'
const up = (n: number): string => n > 0 ? `\x1b[${n}A` : ''
if (live) {
  process.stdout.write('\x1b[?25l')
  process.once('exit', () => { process.stdout.write('\x1b[?25h') })
}

let cluster: Cluster | undefined
// Ctrl-C: kill the node processes at once rather than leave them to notice we are gone
process.once('SIGINT', () => {
  console.log('\ninterrupted')
  void (cluster?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
})

console.log(`SimplePool demo: ${nodes} node processes on 127.0.0.1, ${fmt(workers)} workers ` +
  `(${fmt(roomCount)} chat rooms, ${fmt(deviceCount)} IoT devices), ${seconds} s of traffic`)
try {
  // each node's target is its even share: its weight on the rings, and the yardstick of its health
  const targets = { 'chat-room': Math.ceil(roomCount / nodes), 'iot-device': Math.ceil(deviceCount / nodes) }
  // a generous start timeout: a busy 2-core machine may take seconds to start a node
  cluster = await startCluster({ nodes, targets, poolsModule: POOLS_MODULE, startTimeoutMs: 30_000 })
  console.log(`cluster up in ${secs()}: ${cluster.nodes.map(n => `${n.name} ${short(n.peerId)}`).join(', ')}`)
  await activate(cluster.nodes)
  const traffic = await runTraffic(cluster.nodes)
  await stopAndSummarize(cluster, traffic)
} catch (err) {
  console.error(`\ndemo failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
} finally {
  // whatever did not stop gracefully is killed, so no node process outlives the demo
  await cluster?.stop()
}

/**
 * Activates every worker with spawnMany, in chunks: each node takes the next chunk as
 * soon as it is done with its last. A chunk's ids belong to every node, so each node both
 * asks and activates, and the progress line moves between chunks.
 */
async function activate (members: NodeHandle[]): Promise<void> {
  const chunks: Array<{ pool: string, prefix: string, from: number, n: number }> = []
  for (const [pool, prefix, count] of [['chat-room', 'room-', roomCount], ['iot-device', 'dev-', deviceCount]] as const) {
    for (let from = 0; from < count; from += SPAWN_CHUNK) chunks.push({ pool, prefix, from, n: Math.min(SPAWN_CHUNK, count - from) })
  }
  const started = performance.now()
  let done = 0
  let alive = 0
  let shownAt = 0
  const show = (final: boolean): void => {
    const rate = done / Math.max(0.001, (performance.now() - started) / 1000)
    const text = `activating workers ${fmt(done).padStart(7)} / ${fmt(workers)}  ${(100 * done / workers).toFixed(0).padStart(3)}%  ${fmt(rate)}/s`
    if (live) process.stdout.write(CLEAR + text + (final ? '\n' : ''))
    else if (final || (done < workers && performance.now() - shownAt >= 1_000)) {
      console.log(text)
      shownAt = performance.now()
    }
  }
  await Promise.all(members.map(async (n) => {
    for (let c = chunks.shift(); c !== undefined; c = chunks.shift()) {
      const r = await n.request<{ live: number }>('spawnMany', { ...c, timeoutMs: 30_000 }, 60_000)
      done += c.n
      alive += r.live
      show(false)
    }
  }))
  show(true)
  console.log(`${fmt(alive)} workers live after ${secs(started)}`)
}

interface Traffic { calls: number, casts: number, errors: Record<string, number>, seconds: number, p50Ms: number, p99Ms: number }
interface Pulse { health: NodeHealth, turns: number, at: number }
interface Row { name: string, peer: string, workers: number, target: number, rate: number, failures: number, p99: number, status: string, why: string }

/**
 * Starts the load generator in every node and, once a second until they are done, asks
 * every node for its health and draws the table.
 */
async function runTraffic (members: NodeHandle[]): Promise<Traffic[]> {
  const pulseAll = async (): Promise<Array<Pulse | undefined>> =>
    await Promise.all(members.map(async n => await n.request<Pulse>('pulse', {}, 2_000).catch(() => undefined)))
  console.log('msgs/s: turns run (calls, casts, ticks); fail/min: handler errors in the last minute; p99: turn time')
  let before = await pulseAll()
  const mix = trafficMix(roomCount, deviceCount)
  const started = performance.now()
  let finished = false
  const results = Promise.all(members.map(async n =>
    await n.request<Traffic>('mixedTraffic', { mix, seconds, concurrency: CONCURRENCY }, seconds * 1000 + 30_000)))
  results.then(() => { finished = true }, () => { finished = true })
  let drawn = 0
  while (!finished) {
    await untilDoneOr(results, 1_000)
    const pulses = await pulseAll()
    const rows = pulses.map((p, i) => row(members[i], p, before[i]))
    before = pulses.map((p, i) => p ?? before[i])
    const elapsed = Math.min(seconds, (performance.now() - started) / 1000)
    if (live) {
      const lines = table(rows, `traffic ${elapsed.toFixed(0).padStart(3)} s / ${seconds} s`)
      // a line wider than the terminal would wrap and throw the cursor arithmetic off
      const width = (process.stdout.columns ?? 120) - 1
      process.stdout.write(up(drawn) + lines.map(l => CLEAR + l.slice(0, width) + '\n').join(''))
      drawn = lines.length
    } else {
      console.log(oneLine(rows, elapsed))
    }
  }
  return await results
}

/** Waits `ms`, or less if `p` settles first; leaves no timer behind either way. */
async function untilDoneOr (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p.catch(() => {}), new Promise(resolve => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

/** A node's row. msgs/s is worked out here, over the last second: `health()` averages over 10 s, which would lag the whole run. */
function row (n: NodeHandle, p: Pulse | undefined, before: Pulse | undefined): Row {
  const blank = { name: n.name, peer: short(n.peerId), workers: 0, target: 0, rate: 0, failures: 0, p99: 0, why: '' }
  if (p === undefined) return { ...blank, status: 'no answer' }
  const pools = Object.values(p.health.pools)
  const sum = (f: (x: (typeof pools)[number]) => number): number => pools.reduce((s, x) => s + f(x), 0)
  return {
    ...blank,
    workers: sum(x => x.active),
    target: sum(x => x.target),
    rate: before === undefined ? 0 : (p.turns - before.turns) / Math.max(0.001, (p.at - before.at) / 1000),
    failures: sum(x => x.failuresPerMin),
    p99: Math.max(...pools.map(x => x.p99Ms)),
    status: p.health.status,
    why: p.health.reasons.join('; ')
  }
}

function table (rows: Row[], title: string): string[] {
  const cols = (c: string[]): string => [c[0].padEnd(8), c[1].padEnd(8), ...c.slice(2, 7).map(x => x.padStart(9)), ' ' + c[7]].join(' ')
  const total = { workers: 0, target: 0, rate: 0, failures: 0, p99: 0 }
  for (const r of rows) {
    total.workers += r.workers
    total.target += r.target
    total.rate += r.rate
    total.failures += r.failures
    total.p99 = Math.max(total.p99, r.p99)
  }
  const cells = (r: Row | typeof total): string[] => [fmt(r.workers), fmt(r.target), fmt(r.rate), fmt(r.failures), r.p99.toFixed(3)]
  return [
    title,
    cols(['node', 'peer', 'workers', 'target', 'msgs/s', 'fail/min', 'p99 ms', 'status']),
    ...rows.map(r => cols([r.name, r.peer, ...cells(r), r.status])),
    cols(['total', '', ...cells(total), '']),
    // always one line for the reasons, so every frame has as many lines as the one before
    rows.filter(r => r.why !== '').map(r => `${r.name}: ${r.why}`).join(' | ')
  ]
}

function oneLine (rows: Row[], elapsed: number): string {
  const rate = rows.reduce((s, r) => s + r.rate, 0)
  const failures = rows.reduce((s, r) => s + r.failures, 0)
  const p99 = Math.max(...rows.map(r => r.p99))
  return `traffic ${elapsed.toFixed(0).padStart(3)} s: ${fmt(rate)} msgs/s, ${fmt(failures)} fail/min, p99 ${p99.toFixed(3)} ms; ` +
    rows.map(r => `${r.name} ${fmt(r.workers)} ${r.status}${r.why !== '' ? ` (${r.why})` : ''}`).join(', ')
}

/** Counts, then a graceful stop of every node (each deactivates its workers and leaves), then the summary. */
async function stopAndSummarize (cluster: Cluster, traffic: Traffic[]): Promise<void> {
  const seed = cluster.nodes[0]
  const counts = await Promise.all(['chat-room', 'iot-device'].map(async pool => await seed.request<{ ok: boolean, value?: number }>('count', { pool })))
  const siteRooms = await seed.request<Array<{ alarms: number } | null>>('callEach', { pool: 'chat-room', prefix: 'room-', n: SITES, msg: { type: 'get' } })
  const stopping = performance.now()
  await Promise.all(cluster.nodes.map(async n => { await n.stop(10_000) }))
  const stopTime = secs(stopping)

  const calls = traffic.reduce((s, t) => s + t.calls, 0)
  const casts = traffic.reduce((s, t) => s + t.casts, 0)
  const took = Math.max(...traffic.map(t => t.seconds))
  const errors: Record<string, number> = {}
  for (const t of traffic) for (const [k, v] of Object.entries(t.errors)) errors[k] = (errors[k] ?? 0) + v
  const { EmptyMessageError: expected = 0, ...others } = errors
  const [rooms, devices] = counts.map(c => c.ok ? fmt(c.value ?? 0) : 'unknown')
  const total = counts.every(c => c.ok) ? fmt(counts.reduce((s, c) => s + (c.value ?? 0), 0)) : 'unknown'
  const worst = (k: 'p50Ms' | 'p99Ms'): string => Math.max(...traffic.map(t => t[k])).toFixed(2)
  const clean = cluster.nodes.filter(n => n.exitCode === 0).length

  console.log('\nsummary')
  console.log(`  workers (count)  ${total}: ${rooms} chat rooms + ${devices} IoT devices`)
  console.log(`  messages         ${fmt(calls + casts)} in ${took.toFixed(1)} s (${fmt((calls + casts) / took)}/s): ${fmt(calls)} calls, ${fmt(casts)} casts`)
  console.log(`  call latency     p50 ${worst('p50Ms')} ms, p99 ${worst('p99Ms')} ms (the slowest node's)`)
  console.log(`  errors           ${fmt(expected)} EmptyMessageError (the empty 'say's, on purpose); ` +
    (Object.keys(others).length === 0 ? 'no others' : `others: ${JSON.stringify(others)}`))
  console.log(`  device alarms    ${fmt(siteRooms.reduce((s, r) => s + (r?.alarms ?? 0), 0))}, cast by device ticks into the ${SITES} site rooms`)
  console.log(`  stop             ${clean} of ${cluster.nodes.length} nodes stopped gracefully (exit code 0) in ${stopTime}`)
  console.log(`  total time       ${secs()}`)
}
