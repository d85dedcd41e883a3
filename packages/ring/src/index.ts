/**
 * SimplePool placement: which node owns each worker. One weighted consistent-hash ring
 * per pool, built from a membership snapshot (weight = a serving member's target), pure
 * and immutable, with an owner cache per ring that survives snapshots that move nothing.
 *
 * {@link Placement} is the face the runtime uses; {@link WeightedRing} is one pool's ring;
 * {@link murmur3} is the hash behind both. {@link SortedArrayRing} and
 * {@link RendezvousHash} are reference implementations kept for benchmarks and tests.
 *
 * @example
 * ```ts
 * import { Placement } from '@simplepool/ring'
 *
 * let placement = Placement.fromSnapshot(membership.snapshot())
 * const owner = placement.ownerOf('chat', 'room:7') // a peer id, or undefined
 * if (owner === membership.snapshot().self) {
 *   // this node runs worker 'room:7'
 * }
 * membership.addEventListener('membership:change', (evt) => {
 *   placement = Placement.fromSnapshot(evt.detail, placement)
 * })
 * ```
 *
 * @packageDocumentation
 */
export * from './hash.js'
export * from './weights.js'
export * from './ring.js'
export { forgetSortedRings } from './continuum.js'
export * from './placement.js'
export * from './sorted-ring.js'
export * from './rendezvous.js'
