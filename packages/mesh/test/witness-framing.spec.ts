import { expect } from 'chai'
import { MessageReader, frame } from '../src/witness/witness-framing.js'

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs)

describe('witness framing', () => {
  it('gives back each message whole, however the stream cuts the bytes: whole, a byte at a time, or several in one chunk', () => {
    const messages = [bytes(1, 2, 3), bytes(), bytes(9), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)]
    const wire = Uint8Array.from(messages.flatMap(m => [...frame(m)]))
    for (const cut of [wire.byteLength, 1, 2, 3, 5, 7, 64]) {
      const reader = new MessageReader(1024)
      const got: Uint8Array[] = []
      for (let at = 0; at < wire.byteLength; at += cut) got.push(...reader.push(wire.subarray(at, at + cut)))
      expect(got.map(m => [...m]), `chunks of ${cut}`).to.deep.equal(messages.map(m => [...m]))
    }
  })

  it('refuses a length over the limit as soon as the prefix is in, with InvalidMessageError', () => {
    const reader = new MessageReader(16)
    expect(reader.push(frame(new Uint8Array(16))).length).to.equal(1)
    expect(() => reader.push(bytes(0, 0, 0, 17))).to.throw(/17 bytes exceeds 16/).with.property('name', 'InvalidMessageError')
  })
})
