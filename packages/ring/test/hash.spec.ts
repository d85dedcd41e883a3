import { expect } from 'chai'
import { murmur3, murmur3Digest } from '../src/index.js'
import { workerIds } from './fixtures.js'

// The textbook byte-oriented MurmurHash3 x86_32, to pin `murmur3` to the published algorithm.
function referenceMurmur3 (bytes: Uint8Array, seed: number): number {
  let h = seed >>> 0
  const blocks = bytes.length & ~3
  const mix = (k: number): number => Math.imul((Math.imul(k, 0xcc9e2d51) << 15) | (Math.imul(k, 0xcc9e2d51) >>> 17), 0x1b873593)
  for (let i = 0; i < blocks; i += 4) {
    h ^= mix(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  let k = 0
  const rest = bytes.length & 3
  if (rest >= 3) k ^= bytes[blocks + 2] << 16
  if (rest >= 2) k ^= bytes[blocks + 1] << 8
  if (rest >= 1) h ^= mix(k ^ bytes[blocks])
  h ^= bytes.length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

describe('murmur3', () => {
  it('the reference implementation matches published MurmurHash3 x86_32 vectors', () => {
    const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1')
    expect(referenceMurmur3(ascii(''), 0)).to.equal(0)
    expect(referenceMurmur3(ascii(''), 1)).to.equal(0x514e28b7)
    expect(referenceMurmur3(ascii('test'), 0x9747b28c)).to.equal(0x704b81dc)
    expect(referenceMurmur3(ascii('Hello, world!'), 0x9747b28c)).to.equal(0x24884cba)
    expect(referenceMurmur3(ascii('The quick brown fox jumps over the lazy dog'), 0x9747b28c)).to.equal(0x2fa826cd)
  })

  it('equals MurmurHash3 x86_32 over the UTF-16LE bytes of the string, for odd and even lengths and any seed', () => {
    const samples = ['', 'a', 'ab', 'abc', 'abcd', 'é', '日本語', '🙂x', '12D3KooWabc-17', ...workerIds(500, 3)]
    for (const s of samples) {
      for (const seed of [0, 1, 0x9747b28c, -5]) {
        expect(murmur3(s, seed), `${s} / ${seed}`).to.equal(referenceMurmur3(Buffer.from(s, 'utf16le'), seed))
      }
    }
  })

  it('returns unsigned 32-bit integers', () => {
    for (const s of workerIds(2000, 4)) {
      const h = murmur3(s)
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).to.equal(true)
    }
  })

  it('avalanches: changing one character flips about half of the 32 bits', () => {
    let flipped = 0
    let trials = 0
    for (const s of workerIds(5000, 5)) {
      const i = s.length >> 1
      const t = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 1) + s.slice(i + 1)
      let x = (murmur3(s) ^ murmur3(t)) >>> 0
      while (x !== 0) { flipped += x & 1; x >>>= 1 }
      trials++
    }
    const mean = flipped / trials
    expect(mean).to.be.within(15.5, 16.5)
  })
})

describe('murmur3Digest', () => {
  it('gives hashring the bytes that make its point equal murmur3(key)', () => {
    for (const s of workerIds(1000, 6)) {
      const x = murmur3Digest(s)
      // hashring's hashValueHash(x[3], x[2], x[1], x[0]) with replicas: 1
      const point = ((x[3] << 24) | (x[2] << 16) | (x[1] << 8) | x[0]) >>> 0
      expect(point).to.equal(murmur3(s))
    }
  })

  it('reuses one buffer rather than allocating per call', () => {
    expect(murmur3Digest('a')).to.equal(murmur3Digest('b'))
  })
})
