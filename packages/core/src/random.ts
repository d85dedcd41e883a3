/**
 * Randomness reaches placement, membership and routing through this interface, never
 * through `Math.random`, so a failing seed can replay exactly.
 */

/** A source of uniform numbers in [0, 1). */
export interface Random {
  next: () => number
}

/** A small, fast, seeded generator (mulberry32). Not for cryptography. */
export function seededRandom (seed: number): Random {
  let a = seed >>> 0
  return {
    next () {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
}

/** The process's own randomness, for production wiring. */
export const systemRandom: Random = { next: () => Math.random() }

/** Fisher-Yates shuffle in place: unbiased, unlike `sort(() => random - 0.5)`. */
export function shuffle<T> (items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1))
    const t = items[i]
    items[i] = items[j]
    items[j] = t
  }
  return items
}
