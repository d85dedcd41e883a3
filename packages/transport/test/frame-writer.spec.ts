import { expect } from 'chai'
import { Decoder, Encoder } from 'cbor-x'
import { seededRandom } from '@simplepool/core'
import { FrameWriter } from '../src/frame-writer.js'

const encoder = new Encoder({ useRecords: false, tagUint8Array: false })
const decoder = new Decoder({ useRecords: false })

/** The frame's body decoded, and the same values through cbor-x alone. */
function both (values: unknown[]): { ours: unknown, theirs: unknown, bytes: Uint8Array } {
  const frame = new FrameWriter(encoder, 16).frame(values, 4)
  const body = frame.subarray(4)
  expect(Buffer.from(frame).readUInt32BE(0)).to.equal(body.byteLength)
  return { ours: decoder.decode(body), theirs: decoder.decode(encoder.encode(values)), bytes: body }
}

describe('FrameWriter', () => {
  const edges: unknown[] = [
    0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -24, -25, -256, -257,
    -65_536, -65_537, -(2 ** 32), -(2 ** 32) - 1, -0, 1.5, -2.25, 0.1, NaN, Infinity, -Infinity,
    '', 'a', 'x'.repeat(23), 'x'.repeat(24), 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(300), 'x'.repeat(70_000),
    'é', 'naïve café', '日本語', '😀 emoji', 'a'.repeat(63) + 'é', '\u0000\u007f',
    // lone surrogates, short and long: read back as cbor-x's own bytes read
    'a\udc00b', '\ud800', 'x'.repeat(70) + '\udbff', '😀'.slice(0, 1),
    true, false, null, undefined,
    [], [[[]]], [1, 'two', [3, null]], { a: 1, b: 'x', c: [true, { d: undefined }] }, {},
    { 'key with é': 1, 2: 'numeric key' },
    new Uint8Array([1, 2, 3]), new Uint8Array(0), Buffer.from('bytes'), new Uint8Array(300).fill(7),
    new Map([['k', 1]]), new Date(0), new Float64Array([1.5]), 12_345_678_901_234n
  ]

  it('writes every kind of value so cbor-x reads back what its own encoder would give', () => {
    for (const v of edges) {
      const { ours, theirs } = both([v])
      expect(ours, `value ${String(v)}`).to.deep.equal(theirs)
    }
  })

  // (objects differ: cbor-x gives every map a 2-byte length, this writer the shortest)
  it('writes the same bytes as cbor-x for envelopes of small integers and ASCII strings', () => {
    const envelopes = [[1, 1, [1, 'sink', 'r-12345', 'inc', 1, 0]], [1, 2, 77, [2, 'counter', 'x'.repeat(40), 'é', 1, 0, 30_000]]]
    const { bytes } = both(envelopes)
    expect(Buffer.from(bytes).equals(Buffer.from(encoder.encode(envelopes)))).to.equal(true)
  })

  it('grows its buffer across frames of any size and never hands out a view of it', () => {
    const w = new FrameWriter(encoder, 8)
    const first = w.frame([['x'.repeat(10_000)]], 4)
    const second = w.frame([[1, 2, 3]], 4)
    expect(decoder.decode(first.subarray(4))).to.deep.equal([['x'.repeat(10_000)]])
    expect(decoder.decode(second.subarray(4))).to.deep.equal([[1, 2, 3]])
  })

  it('round-trips random nested values as cbor-x does', () => {
    const random = seededRandom(42)
    const pick = <T>(xs: T[]): T => xs[Math.floor(random.next() * xs.length)]
    const gen = (depth: number): unknown => {
      const r = random.next()
      if (depth > 3 || r < 0.5) {
        return pick<() => unknown>([
          () => Math.floor(random.next() * 2 ** 34) - 2 ** 33,
          () => Math.floor(random.next() * 300),
          () => random.next() * 1000,
          () => 'id-' + Math.floor(random.next() * 1e6).toString(36),
          () => String.fromCharCode(...Array.from({ length: Math.floor(random.next() * 80) }, () => Math.floor(random.next() * 0x3000))),
          // any UTF-16 unit, surrogates (paired or not) included
          () => String.fromCharCode(...Array.from({ length: Math.floor(random.next() * 80) }, () => Math.floor(random.next() * 0x10000))),
          () => null,
          () => random.next() < 0.5,
          () => new Uint8Array(Math.floor(random.next() * 40)).fill(9)
        ])()
      }
      if (r < 0.75) return Array.from({ length: Math.floor(random.next() * 6) }, () => gen(depth + 1))
      return Object.fromEntries(Array.from({ length: Math.floor(random.next() * 5) }, (_, i) => [`k${i}`, gen(depth + 1)]))
    }
    for (let i = 0; i < 500; i++) {
      const values = Array.from({ length: 1 + Math.floor(random.next() * 8) }, () => gen(0))
      const { ours, theirs } = both(values)
      expect(ours).to.deep.equal(theirs)
    }
  })

  it('passes an error of the fallback on, and the next frame is whole', () => {
    const w = new FrameWriter(encoder, 64)
    expect(() => w.frame([[1, 'a'], Symbol('s')], 4)).to.throw()
    expect(decoder.decode(w.frame([[2, 'b']], 4).subarray(4))).to.deep.equal([[2, 'b']])
  })
})
