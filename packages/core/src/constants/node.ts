/**
 * The node's defaults and tuning: joining, drains, stops, the target band, health, and
 * what a node records for its operators. A default is what an option left out takes; a tuning constant is fixed,
 * and says here why it has its value.
 */

/**
 * How long a node given bootstrap addresses waits to hear from a member of the cluster
 * before its start fails (`JoinTimeoutError`), in ms. It serves nothing meanwhile: a node
 * that heard no member may be cut off from the cluster, or misconfigured (a wrong address
 * or cluster key), and one that served alone would hold copies of workers the cluster holds.
 */
export const DEFAULT_JOIN_TIMEOUT_MS = 30_000

/** How often a joining node looks at its view, in ms. */
export const SETTLE_POLL_MS = 50

/**
 * How long a joining node waits for a member that may hold workers to ask, and then to
 * hear from the holders it names: past the down deadline (2 s at the default heartbeat,
 * up to 10 members), a holder it has not heard from is marked down by that member too,
 * and its workers come back from `load`. (In bigger clusters the heartbeat, and the down
 * deadline with it, stretch while this wait does not: a holder silent for longer is not
 * waited for.)
 */
export const SETTLE_PEERS_MAX_MS = 3_000

/** How long `drain` waits for a node to empty by default, in ms: ten minutes holds 1.2 million workers at the default handoff budget. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10 * 60_000

/** How often `drain` asks the drained node how many workers are left, in ms. */
export const DRAIN_POLL_MS = 200

/** How often a drain logs how many workers are left, at most, in ms (a watcher's progress bar). */
export const DRAIN_PROGRESS_MS = 1_000

/** How long a stop hands workers to the other nodes before it saves what is left, by default, in ms. */
export const DEFAULT_STOP_DRAIN_TIMEOUT_MS = 30_000

/** How often a stop looks whether its workers have left, in ms. */
export const STOP_DRAIN_POLL_MS = 50

/**
 * How long a stop that sees no other node serving its pools waits for a record from every
 * other member, sent after the stop began, before it believes that view, in ms. A view
 * can be stale (an undrain whose record is still on its way), and a stop that believed it
 * would save and drop workers another node would take. Four default heartbeats: a member
 * silent for longer is on its way to being marked down.
 */
export const STOP_FRESH_VIEW_MAX_MS = 2_000

/** A target change smaller than this share of the announced target moves nothing: nudging a target costs no handoff. */
export const TARGET_BAND = 0.05

/** A node back from a stall asks about the stall and this much before it (its last record may be that old), in ms. */
export const MARKED_DOWN_MARGIN_MS = 5_000

/** How long an event-loop delay window lasts before `health()` starts a new one, in ms. */
export const LOOP_WINDOW_MS = 10_000

/** Event-loop delay p99 at which a whole node is `degraded`, in ms. */
export const NODE_DEGRADED_LOOP_DELAY_MS = 200

/** Event-loop delay p99 at which a whole node is `critical`, in ms. */
export const NODE_CRITICAL_LOOP_DELAY_MS = 1_000

/** Events a node sends a watcher per question: the newest, when more were logged since its last. */
export const WATCH_EVENTS_MAX = 200
