import { expect } from 'chai'
import { ENVELOPE_VERSION } from '@simplepool/core'
import { FrameDecoder, Kind, checkEnvelope, decodeFrameBody, encodeFrame } from '../src/index.js'

function frames (decoder: FrameDecoder, chunks: Uint8Array[]): unknown[][] {
  const out: unknown[][] = []
  for (const c of chunks) decoder.push(c, (body) => { out.push(decodeFrameBody(body)) })
  return out
}

describe('frames', () => {
  const batch = [[ENVELOPE_VERSION, Kind.Cast, { a: 1 }], [ENVELOPE_VERSION, Kind.Call, 7, 'x'], [ENVELOPE_VERSION, Kind.Reply, 7, null]]

  it('round-trip a batch of envelopes', () => {
    expect(frames(new FrameDecoder(1 << 20), [encodeFrame(batch)])).to.deep.equal([batch])
  })

  it('reassemble frames split at every byte boundary, and several frames in one chunk', () => {
    const one = encodeFrame(batch)
    const two = encodeFrame([[ENVELOPE_VERSION, Kind.Cast, 'second']])
    const all = Buffer.concat([one, two])
    for (let cut = 1; cut < all.length; cut++) {
      const got = frames(new FrameDecoder(1 << 20), [all.subarray(0, cut), all.subarray(cut)])
      expect(got).to.have.length(2)
      expect(got[0]).to.deep.equal(batch)
    }
    const bytewise = frames(new FrameDecoder(1 << 20), Array.from(all, b => new Uint8Array([b])))
    expect(bytewise).to.have.length(2)
  })

  it('accept an iterable of chunks (a Uint8ArrayList)', () => {
    const f = encodeFrame(batch)
    const d = new FrameDecoder(1 << 20)
    const out: unknown[] = []
    d.push([f.subarray(0, 3), f.subarray(3)], (body) => { out.push(decodeFrameBody(body)) })
    expect(out).to.deep.equal([batch])
  })

  it('refuse an oversized frame from its header alone', () => {
    const d = new FrameDecoder(1_000)
    const header = Buffer.alloc(4)
    header.writeUInt32BE(1_001, 0)
    expect(() => { d.push(header, () => {}) }).to.throw(/exceeds the limit/).with.property('name', 'InvalidMessageError')
  })

  it('refuse a body that is not cbor, or not an array', () => {
    expect(() => decodeFrameBody(new Uint8Array([0xff]))).to.throw().with.property('name', 'InvalidMessageError')
    expect(() => decodeFrameBody(new Uint8Array([0x01]))).to.throw(/not a cbor array/)
  })
})

describe('checkEnvelope', () => {
  it('accepts each kind in its shape', () => {
    expect(() => checkEnvelope([1, Kind.Cast, 'x'])).to.not.throw()
    expect(() => checkEnvelope([1, Kind.Call, 1, 'x'])).to.not.throw()
    expect(() => checkEnvelope([1, Kind.Reply, 1, undefined])).to.not.throw()
    expect(() => checkEnvelope([1, Kind.Error, 1, { name: 'E', message: 'm' }])).to.not.throw()
  })

  const bad: Array<[string, unknown]> = [
    ['a non-array', { v: 1 }],
    ['an unknown version', [2, Kind.Cast, 'x']],
    ['an unknown kind', [1, 9, 'x']],
    ['a cast with extra items', [1, Kind.Cast, 'x', 'y']],
    ['a call without id', [1, Kind.Call, 'x']],
    ['a negative id', [1, Kind.Call, -1, 'x']],
    ['an error without a name', [1, Kind.Error, 1, { message: 'm' }]]
  ]
  for (const [what, e] of bad) {
    it(`refuses ${what} with InvalidMessageError`, () => {
      expect(() => checkEnvelope(e)).to.throw().with.property('name', 'InvalidMessageError')
    })
  }
})
