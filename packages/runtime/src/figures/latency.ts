/**
 * A compact latency histogram: log-scaled buckets, four per doubling (each about 19%
 * wide), from 1 µs to about 70 minutes. Recording is an index computation and an
 * increment; quantiles are read from the counts, accurate to within one bucket.
 */
const PER_DOUBLING = 4
const BUCKETS = 32 * PER_DOUBLING

/** Counts of durations in log-scaled buckets. */
export class LatencyHistogram {
  // doubles, not 32-bit counts: a histogram that adds up every turn since a pool started
  // passes 2^32 in about an hour at a million turns a second
  readonly counts = new Float64Array(BUCKETS)
  total = 0

  /** Records one duration in milliseconds. */
  record (ms: number): void {
    const us = ms * 1000
    const i = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log2(us) * PER_DOUBLING))
    this.counts[i]++
    this.total++
  }

  /** Adds another histogram's counts to this one. */
  add (other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i]
    this.total += other.total
  }

  /** Takes `earlier`'s counts away (never below zero): what was recorded since that snapshot. */
  subtract (earlier: LatencyHistogram): void {
    let total = 0
    for (let i = 0; i < BUCKETS; i++) {
      this.counts[i] = this.counts[i] > earlier.counts[i] ? this.counts[i] - earlier.counts[i] : 0
      total += this.counts[i]
    }
    this.total = total
  }

  /** The non-empty buckets as `[index, count, index, count, ...]`: small on the wire. */
  toSparse (): number[] {
    const out: number[] = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) out.push(i, this.counts[i])
    return out
  }

  /** A histogram from {@link toSparse}'s form; entries that are not a bucket index and a count are skipped, as from a peer. */
  static fromSparse (sparse: unknown): LatencyHistogram {
    const h = new LatencyHistogram()
    if (!Array.isArray(sparse)) return h
    for (let k = 0; k + 1 < sparse.length; k += 2) {
      const i = sparse[k] as unknown
      const c = sparse[k + 1] as unknown
      if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= BUCKETS || !Number.isInteger(c) || (c as number) < 0) continue
      h.counts[i as number] += c as number
      h.total += c as number
    }
    return h
  }

  /** Forgets every count. */
  reset (): void {
    this.counts.fill(0)
    this.total = 0
  }

  /** The duration (ms, the upper bound of its bucket) below which a fraction `q` of records fall; 0 when empty. */
  quantile (q: number): number {
    if (this.total === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.total))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return 2 ** (i / PER_DOUBLING) / 1000
    }
    return 2 ** ((BUCKETS - 1) / PER_DOUBLING) / 1000
  }
}
