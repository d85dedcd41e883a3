/**
 * Defaults, one place. Each is the value a service uses when its init leaves a field out.
 */

/** Listen on loopback, any free port. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** The gossip topic every node's membership record is published on. */
export const MEMBERSHIP_TOPIC = '/simplepool/membership/1'

/**
 * How often a node publishes its record. Every record is received (and relayed) by every
 * member, so this sets the idle cost of membership: at 250 ms a 3-node cluster idled at
 * about 7% of a core per node, at 500 ms about half that.
 */
export const DEFAULT_HEARTBEAT_MS = 500

/**
 * The most membership records a node should receive per second. Records go from every
 * node to every node, so past `DEFAULT_MAX_RECORDS_PER_SECOND * heartbeat` members (10 at
 * the defaults) the heartbeat stretches with the cluster instead: 1 s at 20 nodes, 5 s at
 * 100. Measured on a 2-core machine, an idle node spends about 1% of a core plus 0.6% per
 * record it receives each second (relays and the libp2p stack included): about 13% at
 * this bound, whatever the cluster's size. A hung node is then found in four of its own
 * heartbeats; a killed one still in milliseconds, by its closed connection.
 */
export const DEFAULT_MAX_RECORDS_PER_SECOND = 20

/** A peer that has sent no record for this long (two heartbeats) is suspect. */
export const DEFAULT_SUSPECT_AFTER_MS = 1_000

/**
 * A peer that has sent no record for this long (four heartbeats) is down: a hung process
 * (SIGSTOP) within about 2.1 s, under the 3 s the cluster promises, and one heartbeat
 * delayed by a busy event loop is not enough to lose a member.
 */
export const DEFAULT_DOWN_AFTER_MS = 2_000

/**
 * After a peer's connection closes, how long the one redial may take before the peer is
 * down. A killed process refuses it at once and is down in milliseconds; a connection
 * that only dropped comes back within this window. (A peer that is down is dialled again,
 * at most once a second, while others still relay its records.)
 */
export const DEFAULT_RECONNECT_WINDOW_MS = 500

/** How long a single dial may take before it is given up (a wrong cluster key hangs). */
export const DEFAULT_DIAL_TIMEOUT_MS = 3_000

/** Members that are down are forgotten after this long (unless they come back). */
export const DEFAULT_FORGET_AFTER_MS = 60_000

/** The protocol of the direct message streams. */
export const MESSAGE_PROTOCOL = '/simplepool/msg/1.0.0'

/** Wire version of an envelope; anything else is refused. */
export const ENVELOPE_VERSION = 1

/** A frame larger than this closes the stream with `InvalidMessageError`. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024

/** Envelopes encoded into one frame at most: big enough to batch, small enough to interleave. */
export const DEFAULT_MAX_ENVELOPES_PER_FRAME = 1024

/**
 * Replies queued while one frame of calls is being handled that are sent before the
 * frame is done, so the caller starts on them while the callee handles the rest: with
 * 256 calls in flight this took pipelined calls from 184k/s to 263-288k/s.
 */
export const EARLY_REPLY_FLUSH_ENVELOPES = 64

/** Envelopes queued to one peer before a send fails with `OverloadedError`. */
export const DEFAULT_MAX_QUEUED_PER_PEER = 65_536

/** Calls awaiting a reply from one peer before a new call fails with `OverloadedError`. */
export const DEFAULT_MAX_PENDING_CALLS_PER_PEER = 65_536

/** A call's deadline when the caller gives none. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000

/** Resolution of the deadline wheel: deadlines fire up to this much late, never early. */
export const DEFAULT_WHEEL_RESOLUTION_MS = 10

/** The longest delay a timer takes, and so the longest deadline anything may have (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1
