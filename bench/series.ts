/**
 * Per-second traffic series from the nodes' load generators (`trafficSeries`,
 * `zipfTraffic`), merged over nodes and windows of wall time.
 */

/** One node's series: per second of wall time since `startedAt`, calls, casts, errors and a latency histogram. */
export interface Series {
  startedAt: number
  calls: number[]
  casts?: number[]
  errors: number[]
  errorNames: Record<string, number>
  hist: Uint32Array
  buckets: number
}

/** What a window of every node's series comes to. */
export interface Window {
  seconds: number
  calls: number
  casts: number
  errors: number
  perSecond: number
  p50: number
  p99: number
  p999: number
}

/** The latency at quantile `q` of a histogram of 5%-wide buckets from 10 µs (the bucket's upper edge), in ms. */
export function quantile (hist: ArrayLike<number>, q: number): number {
  let total = 0
  for (let k = 0; k < hist.length; k++) total += hist[k]
  if (total === 0) return NaN
  let seen = 0
  for (let k = 0; k < hist.length; k++) {
    seen += hist[k]
    if (seen >= q * total) return 0.01 * 1.05 ** (k + 1)
  }
  return NaN
}

/**
 * Every node's whole seconds inside [from, to) (wall-clock ms) merged; `perSecond` counts
 * calls and casts. A second with nothing in it counts (a stall is a figure too): keep `to`
 * before the generators stopped.
 */
export function windowOf (series: Series[], from = -Infinity, to = Infinity): Window {
  const hist = new Array<number>(series[0]?.buckets ?? 0).fill(0)
  let calls = 0
  let casts = 0
  let errors = 0
  let seconds = 0
  for (const s of series) {
    let covered = 0
    for (let i = 0; i < s.calls.length; i++) {
      const at = s.startedAt + i * 1000
      if (at < from || at + 1000 > to) continue
      covered++
      calls += s.calls[i]
      casts += s.casts?.[i] ?? 0
      errors += s.errors[i]
      for (let k = 0; k < s.buckets; k++) hist[k] += s.hist[i * s.buckets + k]
    }
    seconds = Math.max(seconds, covered)
  }
  return { seconds, calls, casts, errors, perSecond: seconds > 0 ? (calls + casts) / seconds : NaN, p50: quantile(hist, 0.5), p99: quantile(hist, 0.99), p999: quantile(hist, 0.999) }
}

/** Error names summed over nodes. */
export function errorNames (series: Series[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of series) for (const [k, v] of Object.entries(s.errorNames)) out[k] = (out[k] ?? 0) + v
  return out
}

/**
 * Every second's figures over all nodes (seconds aligned by wall clock, x in seconds since
 * `t0`): messages per second, call p50 and p99.
 */
export function overTime (series: Series[], t0: number): { msgs: Array<[number, number]>, p50: Array<[number, number]>, p99: Array<[number, number]> } {
  const bySecond = new Map<number, { msgs: number, hist: number[] }>()
  for (const s of series) {
    for (let i = 0; i < s.calls.length; i++) {
      const at = Math.round((s.startedAt + i * 1000 - t0) / 1000)
      let b = bySecond.get(at)
      if (b === undefined) {
        b = { msgs: 0, hist: new Array<number>(s.buckets).fill(0) }
        bySecond.set(at, b)
      }
      b.msgs += s.calls[i] + (s.casts?.[i] ?? 0)
      for (let k = 0; k < s.buckets; k++) b.hist[k] += s.hist[i * s.buckets + k]
    }
  }
  const seconds = [...bySecond.keys()].sort((a, b) => a - b)
  return {
    msgs: seconds.map(t => [t, (bySecond.get(t) as { msgs: number }).msgs]),
    p50: seconds.map(t => [t, quantile((bySecond.get(t) as { hist: number[] }).hist, 0.5)]),
    p99: seconds.map(t => [t, quantile((bySecond.get(t) as { hist: number[] }).hist, 0.99)])
  }
}
