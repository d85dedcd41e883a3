/**
 * Index of the first position at or after `hash` in a sorted ring of positions, wrapping
 * past the last to 0: the owner rule of every consistent-hash ring here (and hashring's
 * own `find`). `positions` must not be empty.
 */
export function pointAtOrAfter (positions: Uint32Array, hash: number): number {
  const n = positions.length
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (positions[mid] < hash) lo = mid + 1
    else hi = mid
  }
  return lo === n ? 0 : lo
}
