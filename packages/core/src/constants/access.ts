/** Limits of the access rules' bookkeeping of refusals. */

/** A peer refused again within this many ms is counted, not announced again: one `access:deny` event per peer per this span, saying how many it covers. */
export const ACCESS_EVENT_INTERVAL_MS = 1_000

/** Peers whose refusals are counted under their own id; refusals of further peers are counted together, under `(other)`, so a flood of identities cannot grow the counters. */
export const ACCESS_COUNTED_PEERS = 256

/** Peers whose rights a node keeps worked out; past it the cache is dropped and filled again (rights are worked out from the rules, never lost). */
export const ACCESS_CACHED_PEERS = 4_096
