/**
 * MurmurHash3, the hash every placement decision (the ring's points and lookups) and the
 * choice of a member's witnesses go through. It must give the same answer on every node
 * and every run, so it is a fixed, seedable algorithm rather than anything
 * process-dependent, and it must be cheap because every routed message hashes an id.
 */

/**
 * MurmurHash3 (x86, 32-bit) of a string, taken over its UTF-16LE encoding: two code
 * units form one 32-bit block, an odd last code unit is a two-byte tail. This is exactly
 * `murmur3_32(Buffer.from(key, 'utf16le'), seed)`, so another runtime can reproduce it,
 * yet it reads code units straight from the string and allocates nothing.
 *
 * @param key - The string to hash.
 * @param seed - A 32-bit seed; different seeds give independent-looking hashes.
 * @returns An unsigned 32-bit integer.
 */
export function murmur3 (key: string, seed = 0): number {
  const len = key.length
  const blocks = len & ~1
  let h = seed | 0
  let i = 0
  for (; i < blocks; i += 2) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < len) {
    let k = key.charCodeAt(i)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
  }
  // The length mixed in is in bytes, as the byte-oriented reference does.
  h ^= len * 2
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
