// The parts of `hashring` (which ships no types) that the weighted ring relies on.
declare module 'hashring' {
  interface HashRingNode {
    value: number
    server: string
  }

  type HashRingServers = string | string[] | Record<string, { weight?: number, vnodes?: number } | number>

  class HashRing {
    constructor (
      servers?: HashRingServers,
      algorithm?: string | ((key: string) => ArrayLike<number>),
      options?: Record<string, unknown>
    )

    /** The continuum, sorted by `value`. */
    ring: HashRingNode[]
    size: number
    get (key: string): string | undefined
    /** Index in `ring` of the first point at or after `hashValue`, wrapping to 0. */
    find (hashValue: number): number
    hashValue (key: string): number
  }

  export = HashRing
}
