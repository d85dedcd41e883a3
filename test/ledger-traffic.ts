import type { NodeHandle } from '@simplepool/testing'

/** What steady `inc` traffic on the ledger pool came to, per id, over every calling node. */
export interface Traffic {
  acks: number[]
  failed: number[]
  errors: Record<string, number>
  /** Per calling node: calls answered and failed in buckets of `bucketMs` from `t0` (Date.now()). */
  timelines: Timeline[]
  /** The latest failures over every calling node: when (Date.now()), the error's name and message. */
  latest: Array<{ at: number, name: string, message: string }>
}

/** When one node's calls were answered and failed. */
export interface Timeline {
  t0: number
  bucketMs: number
  ok: number[]
  failed: number[]
}

/** The wall-clock end of the last bucket in `timeline` with a failed call before `before` (undefined if none failed). */
export function lastFailure (timeline: Timeline, before = Infinity): number | undefined {
  const b = timeline.failed.findLastIndex((k, i) => k > 0 && timeline.t0 + i * timeline.bucketMs < before)
  return b < 0 ? undefined : timeline.t0 + (b + 1) * timeline.bucketMs
}

/** `inc` calls on ids `prefix0`..`prefix(n-1)` of the ledger pool (or `pool`) from every node in `nodes` at once, 32 in flight each, for `seconds`. */
export async function ledgerTraffic (nodes: NodeHandle[], prefix: string, n: number, seconds: number, pool = 'ledger'): Promise<Traffic> {
  const results = await Promise.all(nodes.map(async node =>
    await node.request<Omit<Traffic, 'timelines' | 'latest'> & { timeline: Timeline, latest: Array<[number, string, string]> }>('incTraffic', { pool, prefix, n, seconds, concurrency: 32 }, (seconds + 30) * 1000)))
  const latest = results.flatMap(r => r.latest.map(([ms, name, message]) => ({ at: r.timeline.t0 + ms, name, message }))).sort((a, b) => a.at - b.at)
  const out: Traffic = { acks: new Array<number>(n).fill(0), failed: new Array<number>(n).fill(0), errors: {}, timelines: results.map(r => r.timeline), latest }
  for (const r of results) {
    r.acks.forEach((k, i) => { out.acks[i] += k })
    r.failed.forEach((k, i) => { out.failed[i] += k })
    for (const [name, k] of Object.entries(r.errors)) out.errors[name] = (out.errors[name] ?? 0) + k
  }
  return out
}

/** Waits until every node has handed over what it had to; fails rather than go on with a migration stuck. */
export async function settled (nodes: NodeHandle[], timeoutMs: number): Promise<void> {
  for (const node of nodes) {
    const deadline = Date.now() + timeoutMs
    let left = await node.request<number>('migrationBacklog')
    while (left > 0) {
      if (Date.now() > deadline) throw new Error(`${node.name} still has ${left} workers to hand over`)
      await new Promise(resolve => setTimeout(resolve, 100))
      left = await node.request<number>('migrationBacklog')
    }
  }
}
