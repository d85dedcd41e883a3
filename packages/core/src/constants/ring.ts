/**
 * Placement's tuning. (The points per unit of weight, `BASE_POINTS` in `@simplepool/ring`,
 * are part of the ring's definition, not tuning: every node must use the same, or they
 * place ids differently.)
 */

/** Slots of a ring's owner cache by default: 65,536 hashes, 512 KiB; a hit skips the binary search. */
export const DEFAULT_OWNER_CACHE_SIZE = 65_536
