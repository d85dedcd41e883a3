import { isServing } from '@simplepool/core'
import { toWireError } from 'simplepool'
import type { SimplePoolNode, SpawnMode, WorkerFailDetail, NodeFenceDetail } from 'simplepool'
import { demoCommands } from './demo-commands.js'
import { rawStreamCommands } from './raw-streams.js'

type Args = Record<string, unknown>
type Command = (node: SimplePoolNode, args: Args) => unknown

/** Worker events seen by this node, by name, and the last failure's detail. */
const seen: Record<string, number> = {}
let lastFail: WorkerFailDetail | undefined
let lastFence: NodeFenceDetail | undefined

/** Counts the node's worker events, for tests that check them. */
export function watchWorkerEvents (node: SimplePoolNode): void {
  for (const name of ['worker:activate', 'worker:passivate', 'worker:fail', 'worker:migrate', 'worker:conflict'] as const) {
    node.addEventListener(name, (evt) => {
      seen[name] = (seen[name] ?? 0) + 1
      if (name === 'worker:fail') lastFail = evt.detail as WorkerFailDetail
    })
  }
  node.addEventListener('node:fence', (evt) => {
    seen['node:fence'] = (seen['node:fence'] ?? 0) + 1
    lastFence = evt.detail
  })
}

async function outcome (p: Promise<unknown>): Promise<{ ok: true, value: unknown } | { ok: false, error: ReturnType<typeof toWireError> }> {
  try {
    return { ok: true, value: await p }
  } catch (err) {
    return { ok: false, error: toWireError(err) }
  }
}

/** The width of incTraffic's timeline buckets. */
const TIMELINE_BUCKET_MS = 100

function idsOf (a: Args): string[] {
  if (Array.isArray(a.ids)) return a.ids as string[]
  const prefix = (a.prefix as string | undefined) ?? 'w-'
  const from = (a.from as number | undefined) ?? 0
  return Array.from({ length: a.n as number }, (_, i) => `${prefix}${from + i}`)
}

function quantile (sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** The requests a harness child running a SimplePool node answers. */
export const nodeCommands: Record<string, Command> = {
  ...(await import('./bench-node-commands.js')).benchNodeCommands,
  ...demoCommands,
  ...rawStreamCommands,
  info: (node) => ({ peerId: node.peerId, addresses: node.addresses, pid: process.pid }),
  /** Where this node's admin HTTP API listens, or null when it has none. */
  adminAddress: (node) => node.adminAddress ?? null,
  snapshot: (node) => {
    const s = node.mesh.snapshot()
    return { version: s.version, members: s.members.map(m => ({ peerId: m.peerId, status: m.status, liveness: m.liveness, pools: m.pools })) }
  },
  serving: (node) => node.mesh.snapshot().members.filter(m => isServing(m)).map(m => m.peerId),
  /** The owner of each id of a pool in this node's view: `ids`, or `prefix` + 0..n-1. */
  owners: (node, a) => idsOf(a).map(id => node.placement().ownerOf(a.pool as string, id) ?? null),
  call: async (node, a) => await outcome((async () => await node.ref(a.pool as string, a.id as string).call(a.msg, { timeoutMs: a.timeoutMs as number | undefined, spawn: a.spawn as boolean | undefined }))()),
  cast: (node, a) => {
    const n = (a.n as number | undefined) ?? 1
    const errors: Record<string, number> = {}
    let sent = 0
    for (let i = 0; i < n; i++) {
      try {
        node.ref(a.pool as string, a.id as string).cast(a.msg, { spawn: a.spawn as boolean | undefined })
        sent++
      } catch (err) {
        const k = (err as Error).name
        errors[k] = (errors[k] ?? 0) + 1
      }
    }
    return { sent, errors }
  },
  /** A message of the runtime's or the node's protocol, as given, straight on the transport: what a misbehaving member could send. */
  rawCall: async (node, a) => await outcome(node.transport.call(a.peer as string, a.payload, { timeoutMs: a.timeoutMs as number | undefined })),
  rawCast: (node, a) => { node.transport.cast(a.peer as string, a.payload); return true },
  spawn: async (node, a) => await outcome(node.spawn(a.pool as string, a.id as string, { mode: a.mode as SpawnMode, timeoutMs: a.timeoutMs as number | undefined })),
  spawnMany: async (node, a) => {
    const started = performance.now()
    const live = await node.spawnMany(a.pool as string, idsOf(a), { mode: a.mode as SpawnMode | undefined, timeoutMs: (a.timeoutMs as number | undefined) ?? 30_000 })
    return { live, ms: performance.now() - started }
  },
  alive: async (node, a) => await node.alive(a.pool as string, a.id as string),
  where: async (node, a) => await node.where(a.pool as string, a.id as string),
  /** Where each id is live, as this node finds it: `node:epoch`, or null. */
  whereEach: async (node, a) => await Promise.all(idsOf(a).map(async (id) => {
    const at = await node.where(a.pool as string, id)
    return at === null ? null : `${at.node}:${at.epoch}`
  })),
  count: async (node, a) => await outcome(node.count(a.pool as string, { local: a.local as boolean | undefined })),
  stopWorker: async (node, a) => await node.stopWorker(a.pool as string, a.id as string),
  health: (node) => node.health(),
  healthOf: async (node, a) => await node.healthOf(a.peer as string),
  members: (node) => node.members(),
  setTargets: async (node, a) => { await node.setTargets(a.peer as string, a.targets as Record<string, number>); return true },
  metrics: async (node) => await node.metrics(),
  events: () => ({ seen: { ...seen }, lastFail, lastFence }),
  /** The epoch of each id's activation on this node, or null where none is live here. */
  localEpochs: (node, a) => {
    const pool = node.runtime.pool(a.pool as string)
    return idsOf(a).map(id => pool?.epochOf(id) ?? null)
  },
  /**
   * A call whose message cbor cannot encode (it holds a function) to a worker on another
   * node (a local call is never encoded), then an ordinary call to the same worker.
   */
  unencodable: async (node, a) => {
    let i = 0
    while (node.placement().ownerOf(a.pool as string, `bad-${i}`) === node.peerId) i++
    const ref = node.ref(a.pool as string, `bad-${i}`)
    const bad = await outcome(ref.call({ op: 'echo', value: { fn: () => 1 } }))
    const after = await outcome(ref.call('inc'))
    return { bad, after }
  },
  /**
   * Sends `n` casts `{ op: 'seq', sender, k }` with k = 0..n-1 to each id, interleaved
   * across ids and spread over turns of the event loop, so ordering is tested under load.
   */
  seq: async (node, a) => {
    const ids = idsOf(a)
    const n = a.count as number
    const sender = a.sender as string
    for (let k = 0; k < n; k++) {
      for (const id of ids) node.ref(a.pool as string, id).cast({ op: 'seq', sender, k })
      if (k % 50 === 49) await new Promise(resolve => setImmediate(resolve))
    }
    return true
  },
  /**
   * A load generator: for `seconds`, `concurrency` loops each pick a random id of `n`
   * and call it (or cast, one message in `castEvery`); reports counts, errors and call latency.
   */
  traffic: async (node, a) => {
    const pool = a.pool as string
    const prefix = (a.prefix as string | undefined) ?? 'w-'
    const n = a.n as number
    const castEvery = (a.castEvery as number | undefined) ?? 0
    const msg = a.msg ?? 'inc'
    const end = performance.now() + (a.seconds as number) * 1000
    const latencies: number[] = []
    const errors: Record<string, number> = {}
    let calls = 0
    let casts = 0
    const loop = async (): Promise<void> => {
      let i = 0
      while (performance.now() < end) {
        const ref = node.ref(pool, prefix + Math.floor(Math.random() * n))
        if (castEvery > 0 && ++i % castEvery === 0) {
          try { ref.cast(msg); casts++ } catch (err) { const k = (err as Error).name; errors[k] = (errors[k] ?? 0) + 1 }
          if (i % 64 === 0) await new Promise(resolve => setImmediate(resolve))
          continue
        }
        const t0 = performance.now()
        try {
          await ref.call(msg)
          calls++
          if (latencies.length < 200_000) latencies.push(performance.now() - t0)
        } catch (err) {
          const k = (err as Error).name
          errors[k] = (errors[k] ?? 0) + 1
        }
      }
    }
    const started = performance.now()
    await Promise.all(Array.from({ length: (a.concurrency as number | undefined) ?? 64 }, loop))
    const s = (performance.now() - started) / 1000
    latencies.sort((x, y) => x - y)
    return { calls, casts, errors, seconds: s, msgsPerSec: (calls + casts) / s, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) }
  },
  drain: async (node, a) => { await node.drain(a.peer as string, { pools: a.pools as string[] | undefined, timeoutMs: a.timeoutMs as number | undefined }); return true },
  undrain: async (node, a) => { await node.undrain(a.peer as string, { pools: a.pools as string[] | undefined }); return true },
  rebalance: async (node, a) => { await node.rebalance(a.pool as string); return true },
  /** Workers this node still has to hand to their new owners. */
  migrationBacklog: (node) => node.runtime.migrationBacklog,
  /**
   * For `seconds`, `concurrency` loops call 'inc' on random ones of `ids` (or `prefix` +
   * 0..n-1) and count the acknowledged increments per id, and when calls went and failed:
   * with nothing else touching those workers, each one's count must end equal to its
   * acknowledged increments, whatever moved.
   */
  incTraffic: async (node, a) => {
    const ids = idsOf(a)
    const n = ids.length
    const acks = new Array<number>(n).fill(0)
    const failed = new Array<number>(n).fill(0)
    const errors: Record<string, number> = {}
    // when calls went and failed, in buckets of TIMELINE_BUCKET_MS from t0 (wall clock, to
    // line up with the parent's cuts and heals)
    const t0 = Date.now()
    const ok: number[] = []
    const bad: number[] = []
    // the latest failures, for a figure's why: [ms from t0, name, message]
    const latest: Array<[number, string, string]> = []
    const bump = (list: number[]): void => {
      const b = Math.floor((Date.now() - t0) / TIMELINE_BUCKET_MS)
      while (list.length <= b) list.push(0)
      list[b]++
    }
    const end = performance.now() + (a.seconds as number) * 1000
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        const i = Math.floor(Math.random() * n)
        try {
          await node.ref(a.pool as string, ids[i]).call('inc')
          acks[i]++
          bump(ok)
        } catch (err) {
          const k = (err as Error).name
          errors[k] = (errors[k] ?? 0) + 1
          failed[i]++
          bump(bad)
          latest.push([Date.now() - t0, k, (err as Error).message.slice(0, 160)])
          if (latest.length > 32) latest.shift()
          // a refusal comes at once: a caller that retried in a tight loop would only burn the CPU the others need
          await new Promise(resolve => setTimeout(resolve, 10))
        }
      }
    }
    await Promise.all(Array.from({ length: (a.concurrency as number | undefined) ?? 32 }, loop))
    return { acks, failed, errors, latest, timeline: { t0, bucketMs: TIMELINE_BUCKET_MS, ok, failed: bad } }
  },
  stop: async (node) => {
    await node.stop()
    setTimeout(() => process.exit(0), 10)
    return true
  }
}
