/**
 * The ring scenario: lookup throughput of the placement ring against `hashring` as
 * shipped (md5) and two reference designs, plus build time and the ids a join moves.
 * Runs from source, so no build is needed: `node --import tsx bench/ring.bench.ts`.
 */
import HashRing from 'hashring'
import { seededRandom } from '../packages/core/src/index.js'
import { RendezvousHash, SortedArrayRing, WeightedRing, forgetSortedRings } from '../packages/ring/src/index.js'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link ringBench}. */
export interface RingBenchOptions {
  /** Node counts to measure. Default [3, 10, 100, 1000]. */
  nodes?: number[]
  /**
   * Up to this many nodes every implementation runs; above it only the ring placement uses
   * (uncached, and cached over hot ids), since the reference designs and the other
   * variants add minutes at 1,000 nodes and no new finding. Default 100.
   */
  allUpTo?: number
  /** Distinct ids looked up per pass. Default 200,000. */
  keys?: number
  /** No progress lines on stderr. */
  quiet?: boolean
}

type Impl = 'hashring-md5' | 'weighted-uncached' | 'weighted-cached' | 'weighted-uncached-hot' | 'weighted-cached-hot' | 'sorted-array' | 'rendezvous'

/** Distinct ids in the hot set: traffic where a few thousand workers take most messages. */
const HOT_IDS = 4_096

interface Lookup {
  ownerOf: (id: string) => string | undefined
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const TIMED_PASSES = 5
const WARMUP_KEYS = 20_000

// Results flow here so the optimiser cannot drop a lookup whose result is unused.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- written and never read, by design
let sink = 0

function tokens (count: number, seed: number, prefix: string, length: number): string[] {
  const random = seededRandom(seed)
  const out = new Set<string>()
  while (out.size < count) {
    let s = prefix
    for (let i = 0; i < length; i++) s += BASE58[Math.floor(random.next() * BASE58.length)]
    out.add(s)
  }
  return [...out]
}

// Weights 1 and 2 alternating, by position.
function weightsOf (nodes: string[]): Map<string, number> {
  return new Map(nodes.map((n, i) => [n, i % 2 === 0 ? 1 : 2]))
}

function elapsedNs (start: bigint): number {
  return Number(process.hrtime.bigint() - start)
}

// One loop per shape of lookup, so each call site stays monomorphic and no
// implementation pays for another's inline-cache misses.
function passHashring (ring: HashRing, keys: string[], from: number, to: number): number {
  let acc = 0
  for (let i = from; i < to; i++) acc += (ring.get(keys[i]) as string).length
  return acc
}

function passWeighted (ring: WeightedRing, keys: string[], from: number, to: number): number {
  let acc = 0
  for (let i = from; i < to; i++) acc += (ring.ownerOf(keys[i]) as string).length
  return acc
}

function passSorted (ring: SortedArrayRing, keys: string[], from: number, to: number): number {
  let acc = 0
  for (let i = from; i < to; i++) acc += (ring.ownerOf(keys[i]) as string).length
  return acc
}

function passRendezvous (ring: RendezvousHash, keys: string[], from: number, to: number): number {
  let acc = 0
  for (let i = from; i < to; i++) acc += (ring.ownerOf(keys[i]) as string).length
  return acc
}

/**
 * Fastest ns per lookup over a few full passes, after warm-up passes over part of the
 * keys. The fastest, not the median: on a shared machine, other work only ever adds time.
 */
function timeLookups (pass: (from: number, to: number) => number, keys: number): number {
  for (let r = 0; r < 3; r++) sink += pass(0, Math.min(WARMUP_KEYS, keys))
  const samples: number[] = []
  for (let r = 0; r < TIMED_PASSES; r++) {
    const start = process.hrtime.bigint()
    sink += pass(0, keys)
    samples.push(elapsedNs(start) / keys)
  }
  return Math.min(...samples)
}

/**
 * A ring with its points sorted: a ring sorts them at its first lookup, which a build's
 * time must include. Sorted from nothing: a ring is otherwise made from one sorted lately
 * (see `joinMs`).
 */
function builtRing (weights: Map<string, number>, options: { cacheSize?: number } = {}): WeightedRing {
  forgetSortedRings()
  const ring = new WeightedRing(weights, options)
  ring.ownerOf('')
  return ring
}

/** Median build time in ms: a few builds, fewer when one is slow. */
function timeBuild (build: () => unknown): number {
  const samples: number[] = []
  const budget = process.hrtime.bigint()
  while (samples.length < 5 && (samples.length === 0 || elapsedNs(budget) < 1e9)) {
    const start = process.hrtime.bigint()
    build()
    samples.push(elapsedNs(start) / 1e6)
  }
  samples.sort((a, b) => a - b)
  return samples[samples.length >> 1]
}

/** Median ms to build the ring of `grown` right after the ring of `weights`, which it is made from: what a node pays when one member joins. */
function joinMs (weights: Map<string, number>, grown: Map<string, number>): number {
  const samples: number[] = []
  // the first ones warm the compiler up
  for (let i = 0; i < 9; i++) {
    builtRing(weights)
    const start = process.hrtime.bigint()
    new WeightedRing(grown).ownerOf('')
    samples.push(elapsedNs(start) / 1e6)
  }
  samples.sort((a, b) => a - b)
  return samples[samples.length >> 1]
}

/** Share of `keys` whose owner differs between two placements, and how many of those went elsewhere than `joined`. */
function moved (before: Lookup, after: Lookup, keys: string[], joined: string): { share: number, elsewhere: number } {
  let count = 0
  let elsewhere = 0
  for (const k of keys) {
    const a = after.ownerOf(k)
    if (a !== before.ownerOf(k)) {
      count++
      if (a !== joined) elsewhere++
    }
  }
  return { share: count / keys.length, elsewhere }
}

/**
 * Runs the ring scenario: for each node count (weights 1 and 2 alternating) and each
 * implementation, build time, lookups per second and the share of ids moved when one
 * more node joins, against its ideal (the new node's weight share, 1/(N+1) when equal).
 */
export async function ringBench (opts: RingBenchOptions = {}): Promise<ScenarioResult> {
  const nodeCounts = opts.nodes ?? [3, 10, 100, 1000]
  const allUpTo = opts.allUpTo ?? 100
  const keyCount = opts.keys ?? 200_000
  const keys = tokens(keyCount, 1, 'worker:', 14)
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  const log = (line: string): void => { if (opts.quiet !== true) process.stderr.write(`ring: ${line}\n`) }

  for (const n of nodeCounts) {
    const all = tokens(n + 1, 1000 + n, '12D3KooW', 44)
    const nodes = all.slice(0, n)
    const joined = all[n]
    const weights = weightsOf(nodes)
    const grown = weightsOf(all)
    let total = 0
    for (const w of grown.values()) total += w
    const ideal = (grown.get(joined) as number) / total
    const hashringServers = (w: Map<string, number>): Record<string, { weight: number }> =>
      Object.fromEntries([...w].map(([id, weight]) => [id, { weight }]))

    const measure = (impl: Impl, build: () => unknown, lookupNs: number, move: { share: number, elsewhere: number }): void => {
      const buildMs = timeBuild(build)
      const row = {
        nodes: n,
        impl,
        'build ms': round(buildMs, 2),
        'lookups/s': Math.round(1e9 / lookupNs),
        'ns/lookup': round(lookupNs, 1),
        'moved %': round(move.share * 100, 2),
        'ideal %': round(ideal * 100, 2),
        'moved elsewhere': move.elsewhere
      }
      rows.push(row)
      const at = `ring.${impl}.n${n}`
      figures.push(
        { name: `${at}.lookups_per_s`, value: row['lookups/s'], unit: 'ops/s' },
        { name: `${at}.ns_per_lookup`, value: row['ns/lookup'], unit: 'ns' },
        { name: `${at}.build_ms`, value: row['build ms'], unit: 'ms' },
        {
          name: `${at}.moved_on_join`,
          value: row['moved %'],
          unit: '%',
          goal: `≈ ${row['ideal %']}% (new node's weight share), all to the new node`
        }
      )
      log(`${n} nodes, ${impl}: ${row['ns/lookup']} ns/lookup, build ${row['build ms']} ms, moved ${row['moved %']}% (ideal ${row['ideal %']}%)`)
    }

    const every = n <= allUpTo
    if (every) {
      const ring = new HashRing(hashringServers(weights))
      const ns = timeLookups((from, to) => passHashring(ring, keys, from, to), keyCount)
      const asLookup = (r: HashRing): Lookup => ({ ownerOf: id => r.get(id) })
      const mv = moved(asLookup(new HashRing(hashringServers(weights))), asLookup(new HashRing(hashringServers(grown))), keys, joined)
      measure('hashring-md5', () => new HashRing(hashringServers(weights)), ns, mv)
    }
    const weightedMove = moved(
      new WeightedRing(weights, { cacheSize: 0 }), new WeightedRing(grown, { cacheSize: 0 }), keys, joined)
    {
      const ring = new WeightedRing(weights, { cacheSize: 0 })
      const ns = timeLookups((from, to) => passWeighted(ring, keys, from, to), keyCount)
      measure('weighted-uncached', () => builtRing(weights, { cacheSize: 0 }), ns, weightedMove)
      const ms = round(joinMs(weights, grown), 2)
      figures.push({ name: `ring.weighted.n${n}.join_build_ms`, value: ms, unit: 'ms' })
      log(`${n} nodes, weighted: the ring after one join, made from the ring before, in ${ms} ms`)
    }
    if (every) {
      // The default cache over 200k distinct ids: mostly misses, the cache's worst case.
      const ring = new WeightedRing(weights)
      sink += passWeighted(ring, keys, 0, keyCount)
      const ns = timeLookups((from, to) => passWeighted(ring, keys, from, to), keyCount)
      measure('weighted-cached', () => builtRing(weights), ns, weightedMove)
    }
    // The same number of lookups over a hot set that the default cache holds.
    const hot = Array.from({ length: keyCount }, (_, i) => keys[i % HOT_IDS])
    if (every) {
      const ring = new WeightedRing(weights, { cacheSize: 0 })
      const ns = timeLookups((from, to) => passWeighted(ring, hot, from, to), keyCount)
      measure('weighted-uncached-hot', () => builtRing(weights, { cacheSize: 0 }), ns, weightedMove)
    }
    {
      const ring = new WeightedRing(weights)
      sink += passWeighted(ring, hot, 0, keyCount)
      const ns = timeLookups((from, to) => passWeighted(ring, hot, from, to), keyCount)
      measure('weighted-cached-hot', () => builtRing(weights), ns, weightedMove)
    }
    if (every) {
      const ring = new SortedArrayRing(weights)
      const ns = timeLookups((from, to) => passSorted(ring, keys, from, to), keyCount)
      const mv = moved(ring, new SortedArrayRing(grown), keys, joined)
      measure('sorted-array', () => new SortedArrayRing(weights), ns, mv)
    }
    if (every) {
      const ring = new RendezvousHash(weights)
      const ns = timeLookups((from, to) => passRendezvous(ring, keys, from, to), keyCount)
      const mv = moved(ring, new RendezvousHash(grown), keys, joined)
      measure('rendezvous', () => new RendezvousHash(weights), ns, mv)
    }
  }

  return {
    scenario: 'ring',
    rows,
    figures,
    notes: [
      `${keyCount.toLocaleString('en-US')} distinct ids, node weights 1 and 2 alternating; ns/lookup is the fastest of ${TIMED_PASSES} full passes after a warm-up.`,
      `weighted-*: the ring placement uses (points radix-sorted into typed arrays, the continuum hashring builds from them; build ms sorts from nothing, ring.weighted.nN.join_build_ms is the ring after one join made from the ring before, as a node makes it); -cached with the default direct-mapped owner cache (65,536 slots), -uncached with none; -hot: the same number of lookups over ${HOT_IDS.toLocaleString('en-US')} hot ids.`,
      'moved %: ids whose owner changes when one more node joins; ideal %: the new node\'s weight share; moved elsewhere: moved ids that did not go to the new node.',
      ...(nodeCounts.some(n => n > allUpTo) ? [`Above ${allUpTo} nodes only weighted-uncached and weighted-cached-hot run (the ring placement uses, at its worst and at its best); build ms is then a single build when one takes over a second.`] : [])
    ]
  }
}

await runAlone(import.meta.url, async () => await ringBench({}))
