import type { SimplePoolNode } from 'simplepool'

type Args = Record<string, unknown>

/** One kind of message in a traffic mix. */
interface MixEntry {
  pool: string
  /** Ids are `prefix` + 0..n-1, picked uniformly. */
  prefix: string
  n: number
  /** Messages to pick from, uniformly. */
  msgs: unknown[]
  /** Relative frequency. @default 1 */
  weight?: number
  /** Cast instead of call. */
  cast?: boolean
}

/** Call latencies kept for quantiles: a uniform sample of every call, however many there were. */
const LATENCY_SAMPLES = 100_000

/**
 * Messages a loop sends before it yields to the event loop. Casts return at once, and a
 * call to a worker on this node is answered in microtasks, so without this a loop could
 * hold the event loop (timers, I/O, the transport's flush) for as long as it runs.
 */
const MESSAGES_PER_TURN = 32

function countError (errors: Record<string, number>, err: unknown): void {
  const k = (err as Error).name ?? 'Error'
  errors[k] = (errors[k] ?? 0) + 1
}

function quantile (sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** Requests for the demo: traffic mixing pools and messages, and figures to draw a live table. */
export const demoCommands: Record<string, (node: SimplePoolNode, args: Args) => unknown> = {
  /**
   * A load generator over several pools: for `seconds`, `concurrency` loops each pick an
   * entry of `mix` by weight, an id and a message, and call (or cast) it. Reports calls,
   * casts, errors by name and call latency from this node's clock.
   */
  mixedTraffic: async (node, a) => {
    const mix = a.mix as MixEntry[]
    const weights = mix.map(e => e.weight ?? 1)
    const total = weights.reduce((x, y) => x + y, 0)
    const end = performance.now() + (a.seconds as number) * 1000
    const errors: Record<string, number> = {}
    const latencies: number[] = []
    let calls = 0
    let casts = 0
    const pick = (): MixEntry => {
      let r = Math.random() * total
      for (let i = 0; i < mix.length; i++) if ((r -= weights[i]) < 0) return mix[i]
      return mix[mix.length - 1]
    }
    const record = (ms: number): void => {
      // reservoir sampling: every call has the same chance to be among the kept ones
      if (latencies.length < LATENCY_SAMPLES) latencies.push(ms)
      else {
        const j = Math.floor(Math.random() * calls)
        if (j < LATENCY_SAMPLES) latencies[j] = ms
      }
    }
    const loop = async (): Promise<void> => {
      let sent = 0
      while (performance.now() < end) {
        if (++sent % MESSAGES_PER_TURN === 0) await new Promise(resolve => setImmediate(resolve))
        const e = pick()
        const msg = e.msgs[Math.floor(Math.random() * e.msgs.length)]
        const id = e.prefix + Math.floor(Math.random() * e.n)
        if (e.cast === true) {
          try { node.ref(e.pool, id).cast(msg); casts++ } catch (err) { countError(errors, err) }
          continue
        }
        const t0 = performance.now()
        try {
          await node.ref(e.pool, id).call(msg)
          calls++
          record(performance.now() - t0)
        } catch (err) {
          countError(errors, err)
        }
      }
    }
    const started = performance.now()
    await Promise.all(Array.from({ length: (a.concurrency as number | undefined) ?? 32 }, loop))
    const seconds = (performance.now() - started) / 1000
    const sorted = Float64Array.from(latencies).sort()
    return { calls, casts, errors, seconds, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) }
  },

  /**
   * This node's `health()`, with turns run so far (calls, casts and ticks, over its
   * pools) and when, so the caller can compute a rate over any interval it likes.
   */
  pulse: (node) => {
    let turns = 0
    for (const pool of node.runtime.poolViews()) turns += pool.counters.turns
    return { health: node.health(), turns, at: performance.now() }
  },

  /** Calls `msg` on ids `prefix` + 0..n-1 of `pool`, all at once; the replies, in id order (null for a failed call). */
  callEach: async (node, a) => {
    const ids = Array.from({ length: a.n as number }, (_, i) => `${a.prefix as string}${i}`)
    return await Promise.all(ids.map(async id => await node.ref(a.pool as string, id).call(a.msg).catch(() => null)))
  }
}
