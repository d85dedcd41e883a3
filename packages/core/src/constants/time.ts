/**
 * Deadlines and timers, shared by every layer.
 */

/** A call's deadline when the caller gives none. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000

/** Resolution of the deadline wheel: deadlines fire up to this much late, never early. */
export const DEFAULT_WHEEL_RESOLUTION_MS = 10

/** The longest delay a timer takes, and so the longest deadline anything may have (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1
