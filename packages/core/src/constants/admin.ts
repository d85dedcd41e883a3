/**
 * The admin API's bounds and rhythms: what a node keeps for its operators, and how often
 * it asks the others while someone watches.
 */

/** Events a node keeps for a client that reconnects (`Last-Event-ID`). */
export const EVENT_LOG_KEEP = 1_000

/** A comment on every open event stream this often, in ms, so proxies and clients see it alive. */
export const EVENT_KEEPALIVE_MS = 15_000

/** Event streams open at once per log: each costs a socket and a write per event. */
export const MAX_EVENT_STREAMS = 64

/** Worker failures logged per pool per second; the rest are counted. */
export const FAILURE_EVENTS_PER_SECOND = 20

/** Moves onto a node it remembers: at the default budget of 2,000 handoffs a second, the last few seconds of a rebalance, and hours of a quiet cluster. */
export const MOVE_LOG_KEEP = 8_192

/** How often a watched cluster is asked for its figures, in ms. */
export const WATCH_TICK_MS = 1_000

/** Ticks' totals kept for a tab that opens later, so its charts start with the last 5 minutes watched. */
export const WATCH_HISTORY = 300

/** Two answers of a member further apart than this (ms) make no rate: the watch was idle between them. */
export const WATCH_MAX_INTERVAL_MS = 3 * WATCH_TICK_MS

/** Node rows a watch page may ask for at most, and what a watcher that names none is sent at most. */
export const WATCH_ROWS_MAX = 1_000

/** The largest request body the admin API reads: targets and drains are small. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024

/** Bytes an event stream may have waiting unsent: past this the client is not reading, and is cut off rather than buffered for. */
export const MAX_UNSENT_EVENT_BYTES = 1 << 20

/** How long the admin API waits for another node's answer before it reports the node unreachable, in ms. */
export const ASK_TIMEOUT_MS = 2_000

/**
 * Questions the admin API has out to other nodes at once, for one request: a cluster of a
 * hundred is asked sixteen at a time, not a hundred streams opened in one turn (each a
 * dial where no connection is open), all within the one {@link ASK_TIMEOUT_MS}.
 */
export const ASK_CONCURRENCY = 16
