import { expect } from 'chai'
import { Decoder, Encoder } from 'cbor-x'
import { seededRandom } from '@simplepool/core'
import { FrameReader, NotAnArrayError } from '../src/frame-reader.js'
import { FrameWriter } from '../src/frame-writer.js'

const encoder = new Encoder({ useRecords: false, tagUint8Array: false })
const decoder = new Decoder({ useRecords: false })
const reader = new FrameReader(decoder)

/** What cbor-x's decoder makes of `bytes`, or the error's name. */
function theirs (bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes)
  } catch (err) {
    return `throws ${(err as Error).name}`
  }
}

function ours (bytes: Uint8Array): unknown {
  try {
    return reader.read(bytes)
  } catch (err) {
    return `throws ${(err as Error).name}`
  }
}

describe('FrameReader', () => {
  const values: unknown[] = [
    0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 1.8e15, -1, -24, -25, -256, -257, -(2 ** 32), -(2 ** 32) - 1,
    -0, 1.5, 0.1, NaN, Infinity, -Infinity, '', 'a', 'x'.repeat(32), 'x'.repeat(33), 'x'.repeat(70_000), 'é', '日本語 text', '😀',
    true, false, null, undefined, [], [[1, [2, [3]]]], { a: 1, b: ['x', { c: null }] }, {}, { é: 1, 2: 'two' },
    new Uint8Array([1, 2, 3]), new Uint8Array(0), Buffer.from('bytes'),
    new Map([['k', 1]]), new Map<unknown, unknown>([[1, 'one']]), new Date(0), 12_345_678_901_234n, new Float64Array([1.5]), new Set([1])
  ]

  it('reads what cbor-x encodes as cbor-x reads it, tags and other rare values included', () => {
    for (const v of values) {
      const bytes = encoder.encode([1, 2, v])
      expect(ours(bytes), `value ${String(v)}`).to.deep.equal(theirs(bytes))
    }
  })

  it('reads what the frame writer writes back to the values written', () => {
    const writer = new FrameWriter(encoder)
    const random = seededRandom(7)
    for (let i = 0; i < 300; i++) {
      const envelope = [1, 1, [1, 'pool', `id-${Math.floor(random.next() * 1e9)}`, { op: 'set', v: random.next(), n: Math.floor(random.next() * 1e6), tags: ['a', 'ü'] }, 1, 0]]
      const body = writer.frame([envelope], 4).subarray(4)
      expect(reader.read(body)).to.deep.equal([envelope])
    }
  })

  it('half-precision floats', () => {
    for (const [bytes, value] of [[[0xf9, 0x3c, 0x00], 1], [[0xf9, 0xc0, 0x00], -2], [[0xf9, 0x7c, 0x00], Infinity], [[0xf9, 0x00, 0x01], 2 ** -24], [[0xf9, 0x7b, 0xff], 65_504]] as const) {
      expect(reader.read(new Uint8Array(bytes))).to.equal(value)
    }
    expect(reader.read(new Uint8Array([0xf9, 0x7e, 0x00]))).to.be.NaN
  })

  it('turns a __proto__ key into __proto_, as cbor-x does, and pollutes no prototype', () => {
    // {"__proto__": {"polluted": true}} written by hand
    const bytes = Buffer.concat([Buffer.from([0xa1, 0x69]), Buffer.from('__proto__'), Buffer.from([0xa1, 0x68]), Buffer.from('polluted'), Buffer.from([0xf5])])
    const o = reader.read(bytes) as Record<string, unknown>
    expect(o).to.deep.equal(theirs(bytes))
    expect(Object.getPrototypeOf(o)).to.equal(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
  })

  it('refuses malformed bytes without allocating what a length claims', () => {
    const bad: number[][] = [
      [], [0x82, 0x01], [0x78], [0x62, 0x61], [0x5a, 0xff, 0xff, 0xff, 0xff],
      // an array, a map and a string that claim four billion items in five bytes
      [0x9a, 0xff, 0xff, 0xff, 0xff], [0xba, 0xff, 0xff, 0xff, 0xff], [0x7a, 0xff, 0xff, 0xff, 0xff],
      [0x01, 0x02], [0x1c], [0xfb, 0x00]
    ]
    for (const b of bad) expect(() => reader.read(new Uint8Array(b)), `bytes ${b.join(',')}`).to.throw()
  })

  it('refuses nested arrays whose claims add up to more than the frame, before allocating them', () => {
    // 3,000 arrays, each claiming 16,380 items: alone each claim fits the frame, together they would take 49 M slots
    const nested = Buffer.concat([Buffer.alloc(3_000 * 3).map((_, i) => [0x99, 0x3f, 0xfc][i % 3]), Buffer.alloc(16_380, 0)])
    const used = process.memoryUsage().heapUsed
    expect(() => reader.read(nested)).to.throw(/claim more items/)
    expect(process.memoryUsage().heapUsed - used).to.be.below(50 * 1024 * 1024)
    // one level claiming nearly all of it is fine
    expect((reader.read(Buffer.concat([Buffer.from([0x99, 0x03, 0xe8]), Buffer.alloc(1_000, 0)])) as unknown[]).length).to.equal(1_000)
  })

  it('is still whole after a frame it refused', () => {
    expect(() => reader.read(new Uint8Array([0x82, 0x01]))).to.throw()
    expect(reader.read(encoder.encode(['after', 1]))).to.deep.equal(['after', 1])
  })

  it('reads random bytes, where it reads them at all, as cbor-x does', () => {
    const random = seededRandom(11)
    let agreed = 0
    for (let i = 0; i < 3_000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(random.next() * 12)).map(() => Math.floor(random.next() * 256))
      const mine = ours(bytes)
      const cborx = theirs(bytes)
      // where cbor-x reads one value out of more bytes, this reader refuses the frame (a frame is exactly one value)
      if (typeof mine === 'string' && mine.startsWith('throws')) continue
      expect(mine, `bytes ${Array.from(bytes).join(',')}`).to.deep.equal(cborx)
      agreed++
    }
    expect(agreed).to.be.greaterThan(50)
  })

  describe('rows', () => {
    /** What `rows` should give for a value read whole: each item's length and items (-1 and the item for a non-array). */
    const flat = (v: unknown[]): unknown[] => v.flatMap(x => Array.isArray(x) ? [x.length, ...x] : [-1, x])

    it('gives each envelope of a frame flat, as read whole, on the fast path and through cbor-x', () => {
      const frames: unknown[][] = [
        [],
        [[1, 1, [1, 'sink', 'r-1', 'inc', 1, 0]], [1, 2, 7, { a: [1, 2] }], [1, 3, 7, 42]],
        // not arrays among them, and an empty one
        [[1, 1, 'x'], 'loose', 5, [], [null, true]],
        // a tag (a Date) and a 64-bit integer: cbor-x reads the whole frame
        [[1, 3, 1, new Date(0)], [1, 3, 2, 2n ** 60n], 'tail']
      ]
      for (const f of frames) {
        const body = encoder.encode(f)
        expect(reader.rows(body), JSON.stringify(f, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)).to.deep.equal(flat(reader.read(body) as unknown[]))
      }
      // a long inner array (past the short head): read as any item
      const long = [Array.from({ length: 40 }, (_, i) => i)]
      expect(reader.rows(encoder.encode(long))).to.deep.equal(flat(long))
    })

    it('refuses a body that is not one array, by name, and malformed ones as read does', () => {
      expect(() => reader.rows(encoder.encode({ not: 'an array' }))).to.throw(NotAnArrayError)
      expect(() => reader.rows(encoder.encode('text'))).to.throw(NotAnArrayError)
      // an inner array that claims more items than the frame has bytes
      expect(() => reader.rows(new Uint8Array([0x81, 0x97, 0x01]))).to.throw(/unexpected end|claim/)
      // bytes after the array
      expect(() => reader.rows(new Uint8Array([0x81, 0x80, 0x00]))).to.throw(/after the end/)
      // and it is whole afterwards
      expect(reader.rows(encoder.encode([[1, 2]]))).to.deep.equal([2, 1, 2])
    })

    it('reads a frame in a tag (self-described CBOR) through cbor-x, as read does', () => {
      const tagged = Uint8Array.from([0xd9, 0xd9, 0xf7, 0x81, 0x83, 0x01, 0x01, 0x63, 0x61, 0x62, 0x63])
      expect(reader.read(tagged)).to.deep.equal([[1, 1, 'abc']])
      expect(reader.rows(tagged)).to.deep.equal([3, 1, 1, 'abc'])
    })
  })
})
