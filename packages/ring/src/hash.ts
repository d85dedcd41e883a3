/**
 * The ring's hash: MurmurHash3 (in `@simplepool/core`, which the mesh's choice of
 * witnesses shares), and its digest in the shape `hashring` takes, for the tests and
 * benchmarks that compare the two.
 */
import { murmur3 } from '@simplepool/core'

export { murmur3 }

// One buffer for every call: `hashring` reads the four bytes the moment the hash
// returns and keeps nothing, so sharing it saves an allocation per ring point.
const digestBytes = new Uint8Array(4)

/**
 * {@link murmur3} in the shape `hashring` expects of a custom hash: it calls
 * `algorithm(key)` and, with `replicas: 1`, builds its 32-bit point as
 * `x[3] << 24 | x[2] << 16 | x[1] << 8 | x[0]`. Writing the hash little-endian therefore
 * makes every ring point equal `murmur3(key)`, which lets lookups call {@link murmur3}
 * directly.
 *
 * The returned array is shared and overwritten by the next call; read it at once.
 *
 * @param key - The string `hashring` wants hashed (a `${node}-${i}` point label).
 * @returns The four bytes of `murmur3(key)`, least significant first.
 */
export function murmur3Digest (key: string): Uint8Array {
  const h = murmur3(key)
  digestBytes[0] = h
  digestBytes[1] = h >>> 8
  digestBytes[2] = h >>> 16
  digestBytes[3] = h >>> 24
  return digestBytes
}
