import { expect } from 'chai'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { quietLengthPrefixes } from '../src/quiet-length-prefix.js'

/** Noise's length prefix: 2 bytes, big-endian; throws on fewer, as Noise's does. */
function uint16 (calls: { empty: number }): (data: { byteLength: number, get: (i: number) => number }) => number {
  return (data) => {
    if (data.byteLength === 0) calls.empty++
    if (data.byteLength < 2) throw new RangeError('Could not decode int16BE')
    return (data.get(0) << 8) | data.get(1)
  }
}

/** A varint (LEB128) prefix, as libp2p's default decoder reads it. */
function varint (n: number): number[] {
  const out: number[] = []
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return out
}

/** Deterministic pseudo-random numbers, so a failure repeats. */
function random (seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
}

/** `frames` with their prefixes, cut into chunks of random sizes (some empty), fed to `decoder`: what it yields. */
function feed (decoder: LengthPrefixedDecoder, wire: number[], next: () => number): number[][] {
  const out: number[][] = []
  for (let at = 0; at < wire.length;) {
    const size = Math.floor(next() * 40)
    for (const frame of decoder.decode(Uint8Array.from(wire.slice(at, at + size)))) out.push([...frame.subarray()])
    at += size
  }
  return out
}

describe('quietLengthPrefixes: libp2p\'s length-prefixed decoder without an error thrown per chunk', () => {
  before(() => { quietLengthPrefixes() })

  it('yields the same frames, however the bytes are cut, and never asks the length of an empty buffer', () => {
    const next = random(7)
    const frames = Array.from({ length: 300 }, () => Array.from({ length: Math.floor(next() * 70) + 1 }, () => Math.floor(next() * 256)))
    const wire = frames.flatMap(f => [f.length >> 8, f.length & 0xff, ...f])
    const calls = { empty: 0 }
    const decoder = new LengthPrefixedDecoder({ lengthDecoder: uint16(calls) as never, encodingLength: () => 2 })
    expect(feed(decoder, wire, next)).to.deep.equal(frames)
    // without the shim, every chunk that ends on a frame's end asks (and the decoder throws)
    expect(calls.empty).to.equal(0)
  })

  it('does the same with the default varint prefix, lengths of one and two bytes', () => {
    const next = random(11)
    const frames = Array.from({ length: 200 }, () => Array.from({ length: Math.floor(next() * 300) + 1 }, () => Math.floor(next() * 256)))
    const wire = frames.flatMap(f => [...varint(f.length), ...f])
    expect(feed(new LengthPrefixedDecoder(), wire, next)).to.deep.equal(frames)
  })

  it('leaves alone a decoder whose prefix could take no byte', () => {
    const calls = { empty: 0 }
    const decoder = new LengthPrefixedDecoder({ lengthDecoder: uint16(calls) as never, encodingLength: (n: number) => n === 0 ? 0 : 2 })
    expect([...decoder.decode(Uint8Array.from([0, 1, 9]))].map(f => [...f.subarray()])).to.deep.equal([[9]])
    expect(calls.empty).to.equal(1)
  })
})
