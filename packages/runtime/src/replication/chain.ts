import type { Placement } from '@simplepool/ring'

/**
 * The worker's owner on the pool's ring and the `n` nodes after it (the owners it would
 * have if the owner, then the first of them, left): where its copy and its replicas belong.
 */
export function chainOf (placement: Placement | undefined, pool: string, id: string, n: number): string[] {
  const ring = placement?.ring(pool)
  const owner = ring?.ownerOf(id)
  if (ring === undefined || owner === undefined) return []
  const chain = [owner]
  const first = n > 0 ? ring.ownerWithout(id, owner) : undefined
  if (first !== undefined && first !== owner) chain.push(first)
  if (n > 1 && first !== undefined) {
    const second = ring.ownerWithout(id, owner, first)
    if (second !== undefined && !chain.includes(second)) chain.push(second)
  }
  return chain
}

/**
 * Where `self` sends a worker's replicas, given its `chain`: its successors, or, while it
 * runs the worker without owning it (a handoff under way), its owner and the successors
 * but `self`, `n` of them.
 */
export function successorsIn (chain: readonly string[], self: string, n: number): string[] {
  return chain[0] === self ? chain.slice(1) : chain.filter(node => node !== self).slice(0, n)
}
