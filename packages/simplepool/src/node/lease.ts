import { DEFAULT_LEASE_MARGIN_MS } from '@simplepool/core'

/**
 * The lease on a majority (see the runtime's QuorumLease) for a node that sends a record
 * every `heartbeatMs`: the others mark it down after `downAfterMs` of silence, or four of
 * its records, whichever is longer, counted from the last record that reached them,
 * which may be one interval older than the last this node heard of them; less a margin
 * (`DEFAULT_LEASE_MARGIN_MS`, or a quarter of that deadline when it is short), so the
 * lease is always at least half the deadline and two records long.
 */
export function leaseOf (heartbeatMs: number, downAfterMs: number): number {
  const deadline = Math.max(downAfterMs, 4 * heartbeatMs)
  return deadline - heartbeatMs - Math.min(DEFAULT_LEASE_MARGIN_MS, deadline / 4)
}
