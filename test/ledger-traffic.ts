import type { Cluster, NodeHandle } from '@simplepool/testing'

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

/** What {@link killUnderTraffic} found: each id's value after, and the ids that broke a rule. */
export interface KillOutcome {
  /** Each id's value after, in id order. */
  live: number[]
  /** Ids whose value is below the increments acknowledged to them, or above those sent (at most five). */
  wrong: Array<{ i: number, v: number, acked: number, failed: number }>
  /** How many ids were off in all. */
  off: number
  /** Increments acknowledged while the victims died. */
  acked: number
  /** Ids live on two running nodes (at most five). */
  twice: number[]
}

/**
 * `inc` traffic from `callers` to ids `prefix`0..n-1 of `pool` for 4 s; 1.5 s in, every
 * node of `victims` is killed (SIGKILL) and waited for as marked down; then 2 s more of
 * traffic and the handoffs settled. Every error of the traffic but `NodeUnavailableError`
 * during the kill, or any after, fails (with the latest failures). Then each id's value
 * against what was acknowledged to it (one that failed in flight may have been kept or
 * not), and which ids live on two nodes.
 */
export async function killUnderTraffic (cluster: Cluster, callers: NodeHandle[], victims: NodeHandle[], pool: string, prefix: string, n: number): Promise<KillOutcome> {
  const running = ledgerTraffic(callers, prefix, n, 4, pool)
  await new Promise(resolve => setTimeout(resolve, 1_500))
  for (const v of victims) v.kill('SIGKILL')
  for (const v of victims) await callers[0].waitForEvent(e => e.name === 'member:down' && e.detail.peerId === v.peerId, 10_000, `${v.name} marked down`)
  const during = await running
  const unexpected = Object.keys(during.errors).filter(name => name !== 'NodeUnavailableError')
  if (unexpected.length > 0) throw new Error(`traffic failed with ${unexpected.join(', ')}: ${JSON.stringify(during.latest.slice(-3))}`)
  const after = await ledgerTraffic(callers, prefix, n, 2, pool)
  if (Object.keys(after.errors).length > 0) throw new Error(`traffic after failed: ${JSON.stringify(after.errors)} ${JSON.stringify(after.latest.slice(-3))}`)
  await settled(cluster.running, 20_000)
  const live = (await callers[0].request<Array<number | null>>('callEach', { pool, prefix, n, msg: 'get' }, 30_000)).map(v => v ?? 0)
  const off = live.map((v, i) => ({ i, v, acked: during.acks[i] + after.acks[i], failed: during.failed[i] }))
    .filter(x => x.v < x.acked || x.v > x.acked + x.failed)
  const epochs = await Promise.all(cluster.running.map(async node => await node.request<Array<number | null>>('localEpochs', { pool, prefix, n })))
  return {
    live,
    wrong: off.slice(0, 5),
    off: off.length,
    acked: during.acks.reduce((x, y) => x + y, 0),
    twice: live.map((_, i) => i).filter(i => epochs.filter(e => e[i] !== null).length > 1).slice(0, 5)
  }
}
