/**
 * The runtime's defaults and tuning: turns, routing, spawning, passivation, fencing and
 * figures. A default is what an option left out takes; a tuning constant is fixed, and
 * says here why it has its value.
 */

/** A pool's target on a node that names none: its weight on the ring, and the base of its limits. */
export const DEFAULT_POOL_TARGET = 100_000

/** Messages waiting in one worker's mailbox before more are refused with `OverloadedError`. */
export const DEFAULT_MAILBOX_LIMIT = 10_000

/** How many nodes a message may be forwarded through when views of the ring disagree. */
export const DEFAULT_MAX_HOPS = 3

/** Resolution of the runtime's timing wheel (idle deadlines and ticks), in ms. */
export const DEFAULT_TIMING_WHEEL_MS = 100

/** Active workers over target at which a pool is `degraded`, as a multiple of its target. */
export const DEFAULT_SOFT_LIMIT_RATIO = 1.25

/** Active workers over target at which a pool is `critical`, as a multiple of its target. */
export const DEFAULT_HARD_LIMIT_RATIO = 1.5

/** Ids spawned per batch of `spawnMany`, between which the event loop is yielded. */
export const DEFAULT_SPAWN_BATCH = 1_000

/** Remote `spawnMany` batches in flight at once, over all peers: enough to keep every owner busy, few enough not to fill a queue. */
export const SPAWN_BATCHES_IN_FLIGHT = 8

/**
 * Turns one activation takes before the others in the run queue get theirs: long enough
 * that a busy worker's burst costs one scheduling, short enough that it cannot starve them.
 */
export const TURNS_PER_RUN = 64

/** One turn in this many (a mask: 2^n - 1) is timed for the latency figures: timing every turn would cost more than a short turn. */
export const LATENCY_SAMPLE_MASK = 7

/**
 * How long drains of the run queue may hold the event loop before they yield to timers
 * and sockets, in ms: local calls answer within the same turn, yet heartbeats and the
 * network are never starved for longer than this.
 */
export const SCHEDULER_SLICE_MS = 8

/** Forwarding hints sent to one sender for one pool, at most one per this many ms: advice, not a message per message. */
export const HINT_INTERVAL_MS = 1_000

/**
 * Epochs hand out this many numbers per millisecond of wall time: an activation anywhere
 * later than another gets a larger epoch, as long as clocks agree to within a moment; a
 * node can start 1,024 activations a millisecond before it runs ahead of the clock, and a
 * worker of a pool with `load` moved (each handoff adds one) still ranks below one loaded
 * from the store a millisecond later unless it moved 1,024 times since its own load.
 */
export const EPOCHS_PER_MS = 1024

/**
 * An epoch from another node more than this far (in ms of wall time) ahead of this node's
 * clock is refused: only a clock a day wrong or a forgery makes one, and taken in it would
 * raise every epoch after it, toward the end of the safe integers where epochs stop
 * comparing (a worker's state in a handoff, a replica, a member's record).
 */
export const EPOCH_AHEAD_MAX_MS = 86_400_000

/** How often pool figures are sampled for their rates, in ms (the one timer of the figures). */
export const SAMPLE_MS = 1_000

/** How often the stall guard's timer notes that the event loop turns, in ms: a tenth of the shortest stall it must notice. */
export const STALL_BEAT_MS = 100

/** How long a node back from a stall waits for the others to say whether they marked it down, in ms. */
export const FENCE_ASK_TIMEOUT_MS = 2_000

/**
 * After the first member said yes to a node back from a stall, how long that question
 * still waits for the others' answers, in ms. Each answer counts as heard, and the lease
 * on a majority is looked at as the fence ends: without them, the node found its records
 * of the others as old as the stall, fenced again for isolation and refused calls for a
 * tenth of a second. Short, since a member across a cut just healed may answer only when
 * its connection's backoff ends.
 */
export const FENCE_ASK_STRAGGLE_MS = 250

/** Saves a stopping node runs at once: enough to keep a store busy, few enough not to flood it. */
export const SHUTDOWN_SAVES_IN_FLIGHT = 256

/** Workers looked at between two yields of the event loop when a long loop runs over all of them (a stop, eager recovery). */
export const WORKERS_PER_YIELD = 8_192

/** Drains of the run queue between two looks at the clock for the slice (a mask: 2^n - 1): a loop of local calls drains once per call, and a clock read costs more than a short drain. */
export const SCHEDULER_CLOCK_EVERY_MASK = 15

/** Turns between two looks at the clock within a drain: a deadline is judged at most this many turns late. */
export const SCHEDULER_TURNS_PER_CLOCK = 64

/** One-second samples of a pool's counters kept for its rates: a minute and one. */
export const FIGURE_SAMPLES = 61

/** How long each of a pool's two latency histograms covers before the older is dropped, in ms: quantiles cover the last 30 to 60 s. */
export const LATENCY_ROTATE_MS = 30_000

/** How far back `health()`'s per-second rates (spawns, messages) look, in ms: smooth enough to read, recent enough to act on. */
export const RATE_WINDOW_MS = 10_000

/** (sender, pool) pairs remembered for hint pacing before they are all forgotten: a bound on memory, not a budget. */
export const MAX_HINTED_SENDERS = 10_000

/**
 * How long after a pool's ring moved a sender keeps its order to workers whose owner
 * moved (see the runtime's SendOrder), in ms: longer than a message sent just before the
 * move can wait on the owner before, short of being marked down (then the stall's fence
 * refuses it, as its sender was told).
 */
export const ORDER_WINDOW_MS = 3_000

/**
 * How long after this node last sent anything to a peer a message of its may still wait
 * there, in ms: in the mailbox of a worker being handed on, behind a handoff that is tried
 * again (seed 417: a cast waited 9.5 s so). Within the window, a barrier goes down a route
 * before that this node sent down within this long; in a busy cluster every route is.
 */
export const ORDER_SENT_MS = 30_000

/**
 * How long a barrier down a sender's route before may take, in ms, before what it holds
 * fails rather than overtake what may still be on its way there. Longer than the defaults
 * take to mark a node standing still down (its barriers are refused then, and what they
 * held goes), and than a connection across a cut just healed may take to carry anything
 * (the kernel's retransmission backoff: up to about 3.2 s after a cut of 6 s; with 2 s,
 * calls sent just after a heal failed 2.5 to 3 s after it). Short of the default call
 * timeout: a held call fails with this node's reason, not a bare TimeoutError.
 */
export const ORDER_BARRIER_TIMEOUT_MS = 4_000

/**
 * How long a message that would go straight back to the node that sent it on waits for
 * this node's view to move instead (see the runtime's ViewWait), in ms: the news that
 * moved the sender's view (a leave, a drain, a target) reaches every node well within it.
 */
export const VIEW_WAIT_MS = 500

/** Messages that may wait for a node's view at once: past it, they go back at once, as before (a bound on memory). */
export const MAX_VIEW_WAITS = 10_000

/**
 * What a node's lease on a majority leaves to spare, in ms (see the runtime's
 * QuorumLease): the lease is the others' down deadline for this node less one of its own
 * heartbeats (their last record of it may be that much older than its last of them) and
 * this margin, for timers that fire late on a loaded machine and the 100 ms between
 * looks. With the defaults (down after 2 s, a record every 500 ms): a 1 s lease.
 */
export const DEFAULT_LEASE_MARGIN_MS = 500

/** How often a node with messages held for barriers looks at their deadlines, in ms (its one timer for them). */
export const ORDER_SWEEP_MS = 100
