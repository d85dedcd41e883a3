/**
 * The handoff's defaults and tuning: how fast workers move to their new owners, how big
 * a message, how long the claim window. One word for the mechanism: handoff (operators
 * see it as a "migration" in events and metrics).
 */

/** Workers a node hands to their new owners per second at most, so a join or a drain never stalls traffic. */
export const DEFAULT_MIGRATIONS_PER_SECOND = 2_000

/** Handoff messages awaiting their answer at once, per node. */
export const DEFAULT_HANDOFFS_IN_FLIGHT = 16

/**
 * How long a pool's ring must stay still before the workers whose owner moved are handed
 * over, in ms: churn within it (a node that flaps, a target set and set back) moves
 * nothing twice, and messages do not wait for it (a new owner claims at once).
 */
export const DEFAULT_REBALANCE_DELAY_MS = 500

/**
 * How long after a ring change a new activation first asks whoever may still hold its id
 * for it, in ms: longer than any handoff backlog takes to drain at the default budget.
 */
export const DEFAULT_CLAIM_WINDOW_MS = 60_000

/** Workers of one pool to one node per handoff message: a few hundred KB with 1 KB states, well inside a frame. */
export const HANDOFF_BATCH = 256

/** The most workers a handoff message may carry on arrival; more is a malformed message. */
export const MAX_HANDOFF_WORKERS = 10_000

/** Activations looked at per pump while finding those whose owner moved: a few ms of work at most. */
export const HANDOFF_SCAN_PER_PUMP = 5_000

/** How often the handoff pumps while it has work, in ms. */
export const HANDOFF_PUMP_MS = 10

/**
 * A worker with messages waiting is handed over once they ran (sent on behind the handoff,
 * they could run after what reached the new owner straight), but after this long of trying
 * it goes with them: a worker that never empties its mailbox still moves.
 */
export const HANDOFF_MAILBOX_WAIT_MS = 1_000

/** A handoff message that timed out is sent this many times in all, `HANDOFF_RETRY_MS` × try apart. */
export const HANDOFF_TRIES = 3
export const HANDOFF_RETRY_MS = 500
/**
 * Workers whose handoff message failed for good (refused whole, or past its last try) are
 * looked at again after this many ms: they stay live here meanwhile, and if they still
 * belong elsewhere they go then. Without it they waited for the next ring change, while
 * their owner, asked for them, started fresh copies once its claim window had closed.
 */
export const HANDOFF_FAILED_RETRY_MS = 2_000

/** How often a handoff under way reports its progress, in ms. */
export const HANDOFF_PROGRESS_MS = 1_000

/** How long a claimed worker that is busy may take to come between turns before the claim is answered 'mine', in ms. */
export const CLAIM_WAIT_MS = 2_000

/**
 * Claims answered 'mine' (the holder's ring has not moved yet; it will within a
 * heartbeat) are asked again this many times, this far apart, before the worker starts
 * from `load`: 3 s, above the heartbeat at which the holder's view catches up.
 */
export const CLAIM_ATTEMPTS = 12
export const CLAIM_RETRY_MS = 250

/**
 * For this long after the ring moved, a claim does not trust the worker counts members
 * reported: a count rides the heartbeat (500 ms), so a member that activated a worker a
 * moment before it saw the change (it did not yet know the new owner was up) still
 * reports none. Three heartbeats: the counts read after it were sent after the change.
 */
export const CLAIM_COUNTS_GRACE_MS = 1_500

/**
 * Handoffs taken in are remembered for this many figure samples (seconds), in two
 * generations: a resend whose first answer was lost is answered from memory for 15 to
 * 30 s, longer than the resends of one message take (the last goes 11.5 s after the
 * first: `HANDOFF_TRIES` timeouts of `DEFAULT_CALL_TIMEOUT_MS` and the waits between), so
 * a resend of a worker taken and moved on is answered "handed here already", not
 * `forgotten`.
 */
export const HANDED_IN_AGE_SAMPLES = 15

/**
 * How long an owner waits for a successor to acknowledge a replica of a worker's state, in
 * ms. A successor that does not answer in time (down, cut off) is passed over for that
 * turn (counted as a replica missed): the ring soon names another, and a call is not held
 * past what a hung peer costs.
 */
export const REPLICA_TIMEOUT_MS = 2_000

/**
 * Replicas of one pool to one node per put message: the turns that ended in one go of
 * the run queue travel together, up to this many workers or this many bytes of state.
 */
export const REPLICA_BATCH = 256

/**
 * Workers a node starts from their replicas per handoff pump (`HANDOFF_PUMP_MS`), after
 * their owner was lost: 10,000 a second. A message starts its worker at once meanwhile;
 * faster, the starts crowd out the calls (at a million workers over three nodes, every
 * sampled worker answered 7 s after a kill at this rate, 16 s at five times it, both
 * measured while the ring change's walk still stood the node still; 1.1-1.24 s since).
 */
export const REPLICA_STARTS_PER_PUMP = 100

/**
 * Replicas and live workers of replicated pools a node looks at per turn of its event loop
 * after a ring change (see `Replicator.ringChanged`): a few ms of work. Looked at all at
 * once, 330,000 of each took 3.5 s on one node of three holding a million workers, and the
 * node, silent that long, was marked down by the other and dropped every copy at its fence.
 */
export const REPLICA_WALK_PER_TURN = 2_000
export const REPLICA_BATCH_BYTES = 256 * 1024

/**
 * How long a node keeps a replica after it stopped being one of the worker's successors,
 * in ms. It passes the replica on to the successors at once, and keeps its own meanwhile:
 * views move one node at a time, and a successor of one view may not be one of the next,
 * or stand still before the owner sends it anything.
 */
export const REPLICA_LINGER_MS = 10_000
