/**
 * The mesh's defaults and tuning: listening, gossip membership, failure detection, dials.
 * A default is what an option left out takes; a tuning constant is fixed, and says here
 * why it has its value.
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
 * The longest heartbeat interval a node may run with, and a member's record may announce:
 * a member is marked down only after four of its intervals of silence, so a record
 * announcing an hour would keep a dead member's workers from failing over for four (a
 * record past it is refused as malformed; a node given more does not start).
 */
export const MAX_HEARTBEAT_MS = 60_000

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

/** Address ranges exempt from libp2p's inbound dial rate limit (5 a second per address): on loopback every peer is 127.0.0.1. */
export const DEFAULT_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

/** How often liveness deadlines are checked, in ms: a fifth of the shortest suspicion, so a silent peer is marked near its deadline. */
export const MEMBERSHIP_SWEEP_MS = 100

/** How often a member this node could not reach is dialled again while it hears of it, in ms: a healed partition heals the view too. */
export const RECONNECT_BACKOFF_MS = 1_000

/**
 * How long a dial to a member marked down or suspect may take, in ms: the kernel sends
 * the connection's SYN again a second in, so with one such dial at a time a healed link
 * sees a SYN within about a second, where a longer dial left a gap of two (no SYN from one
 * second into a dial until the next one began).
 */
export const REDIAL_TIMEOUT_MS = 2_000

/**
 * Dials past a peer's stale connections (see the mesh's `Connections`) that may fail in a
 * row while the peer is heard before those connections are used again: a peer reached
 * only by its own dials is slow across a healed cut rather than not reached at all.
 */
export const STALE_DIALS_WHILE_ALIVE = 3

/**
 * The first wait before bootstrap addresses are dialled again while this node reaches no
 * member, in ms; it doubles with each retry up to {@link BOOTSTRAP_RETRY_MAX_MS}, and each
 * wait is drawn between half and all of it (see the mesh's `Bootstrap`).
 */
export const BOOTSTRAP_RETRY_MS = 500

/** The longest wait between bootstrap retries, in ms. */
export const BOOTSTRAP_RETRY_MAX_MS = 8_000

/** Streams of one protocol a service may have open to or from one peer at once: the transport needs one; a bound, not a budget. */
export const STREAMS_PER_PROTOCOL = 1024
