import { expect } from 'chai'
import { Decoder } from 'cbor-x'
import { ENVELOPE_VERSION } from '@simplepool/core'
import { Kind } from '../src/envelope.js'
import { encodeFrame } from '../src/frame-codec.js'
import { Outbox, Unqueued } from '../src/outbox.js'
import type { OutFrame, QueuedAt } from '../src/outbox.js'

const decoder = new Decoder({ useRecords: false })

/** Every frame the outbox has, in order. */
function drain (box: Outbox): OutFrame[] {
  const out: OutFrame[] = []
  for (let f = box.next(); f !== undefined; f = box.next()) out.push(f)
  return out
}

/** A frame's envelopes, read back; its length prefix checked. */
function envelopes (frame: OutFrame): unknown[] {
  const view = new DataView(frame.bytes.buffer, frame.bytes.byteOffset, frame.bytes.byteLength)
  expect(view.getUint32(0)).to.equal(frame.bytes.byteLength - 4)
  const body = decoder.decode(frame.bytes.subarray(4)) as unknown[]
  expect(body).to.have.length(frame.envelopes)
  return body
}

const at = (): QueuedAt => ({ seq: -1, start: 0, end: 0 })

describe('Outbox', () => {
  it('writes the same bytes as a frame encoded from the envelopes at once', () => {
    const box = new Outbox(1 << 20, 1024)
    box.add(Kind.Cast, undefined, [1, 'sink', 'r-1', 'inc', 1, 0])
    box.add(Kind.Call, 7, [2, 'counter', 'r-2', { n: 'é' }, 1, 0, 30_000])
    box.add(Kind.Reply, 3, 42)
    const frames = drain(box)
    expect(frames).to.have.length(1)
    const expected = encodeFrame([
      [ENVELOPE_VERSION, Kind.Cast, [1, 'sink', 'r-1', 'inc', 1, 0]],
      [ENVELOPE_VERSION, Kind.Call, 7, [2, 'counter', 'r-2', { n: 'é' }, 1, 0, 30_000]],
      [ENVELOPE_VERSION, Kind.Reply, 3, 42]
    ])
    expect(Buffer.from(frames[0].bytes).equals(Buffer.from(expected))).to.equal(true)
    expect(frames[0].casts).to.equal(1)
    expect(box.count).to.equal(0)
  })

  it('seals a frame at maxEnvelopes, and one that would pass the byte limit before the envelope that would pass it', () => {
    const byCount = new Outbox(1 << 20, 10)
    for (let i = 0; i < 25; i++) byCount.add(Kind.Cast, undefined, i)
    expect(drain(byCount).map(f => envelopes(f))).to.deep.equal([
      Array.from({ length: 10 }, (_, i) => [ENVELOPE_VERSION, Kind.Cast, i]),
      Array.from({ length: 10 }, (_, i) => [ENVELOPE_VERSION, Kind.Cast, i + 10]),
      Array.from({ length: 5 }, (_, i) => [ENVELOPE_VERSION, Kind.Cast, i + 20])
    ])
    const bySize = new Outbox(1_000, 1024)
    const text = 'x'.repeat(300)
    for (let i = 0; i < 7; i++) bySize.add(Kind.Cast, undefined, [i, text])
    const frames = drain(bySize)
    for (const f of frames) expect(f.bytes.byteLength - 4).to.be.at.most(1_000)
    expect(frames.flatMap(f => envelopes(f)).map(e => ((e as unknown[])[2] as unknown[])[0])).to.deep.equal([0, 1, 2, 3, 4, 5, 6])
    expect(frames.map(f => f.envelopes)).to.deep.equal([3, 3, 1])
  })

  it('refuses by name a message too big for a frame alone or one it cannot encode, and keeps the rest', () => {
    const box = new Outbox(1_000, 1024)
    box.add(Kind.Cast, undefined, 'before')
    expect(() => { box.add(Kind.Call, 1, 'x'.repeat(2_000)) }).to.throw(Unqueued, /exceeds the frame limit of 1000/)
    expect(() => { box.add(Kind.Call, 2, Symbol('not on the wire')) }).to.throw(Unqueued, /cannot be encoded/)
    box.add(Kind.Cast, undefined, 'after')
    expect(box.count).to.equal(2)
    expect(drain(box).flatMap(f => envelopes(f))).to.deep.equal([[ENVELOPE_VERSION, Kind.Cast, 'before'], [ENVELOPE_VERSION, Kind.Cast, 'after']])
  })

  it('cuts a call out of its frame before the frame leaves, in the open frame and in sealed ones', () => {
    const box = new Outbox(1 << 20, 4)
    const calls = Array.from({ length: 10 }, () => at())
    for (let i = 0; i < 10; i++) box.add(Kind.Call, i, `call ${i}`, calls[i])
    // frames 0 (ids 0-3) and 1 (4-7) are sealed, ids 8-9 are in the open one
    for (const i of [0, 2, 3, 5, 9]) expect(box.cut(calls[i])).to.equal(true)
    const frames = drain(box)
    expect(frames.map(f => f.envelopes)).to.deep.equal([1, 3, 1])
    expect(frames.map(f => envelopes(f).map(e => (e as unknown[])[2]))).to.deep.equal([[1], [4, 6, 7], [8]])
    // the frame left: too late to cut
    expect(box.cut(calls[1])).to.equal(false)
  })

  it('a frame whose every envelope was cut leaves nothing to write', () => {
    const box = new Outbox(1 << 20, 1024)
    const a = at()
    const b = at()
    box.add(Kind.Call, 1, 'a', a)
    box.add(Kind.Call, 2, 'b', b)
    box.cut(a)
    box.cut(b)
    const frames = drain(box)
    expect(frames.map(f => f.envelopes)).to.deep.equal([0])
    expect(box.count).to.equal(0)
  })

  it('clear forgets everything and counts the casts it held', () => {
    const box = new Outbox(1 << 20, 3)
    for (let i = 0; i < 5; i++) box.add(Kind.Cast, undefined, i)
    box.add(Kind.Call, 1, 'call')
    expect(box.clear()).to.equal(5)
    expect(box.count).to.equal(0)
    expect(box.next()).to.equal(undefined)
    box.add(Kind.Cast, undefined, 'again')
    expect(drain(box).flatMap(f => envelopes(f))).to.deep.equal([[ENVELOPE_VERSION, Kind.Cast, 'again']])
  })

  it('takes a message as big as the frame limit allows, to the byte, and says the size of one over it', () => {
    const limit = 1_000
    // a body of one envelope [1, 1, bytes(n)]: array head 1, envelope head 1, version 1, kind 1, bytes head 3, n
    const fits = new Outbox(limit, 1024)
    fits.add(Kind.Cast, undefined, new Uint8Array(limit - 7))
    expect(drain(fits)[0].bytes.byteLength - 4).to.equal(limit)
    expect(() => { new Outbox(limit, 1024).add(Kind.Cast, undefined, new Uint8Array(limit - 6)) }).to.throw(Unqueued, /message of 1001 bytes exceeds the frame limit of 1000/)
  })

  it('refuses by name a message sent from inside the encoding of another, which stays whole', () => {
    const box = new Outbox(1 << 20, 1)
    let inner: unknown
    const payload = {
      x: 1,
      get y () {
        try {
          box.add(Kind.Cast, undefined, 'side')
        } catch (err) {
          inner = err
        }
        return 2
      },
      z: 3
    }
    box.add(Kind.Cast, undefined, payload)
    expect(inner).to.be.instanceOf(Unqueued)
    expect((inner as Error).message).to.match(/while another to the same peer was being encoded/)
    expect(drain(box).flatMap(f => envelopes(f))).to.deep.equal([[ENVELOPE_VERSION, Kind.Cast, { x: 1, y: 2, z: 3 }]])
  })
})
