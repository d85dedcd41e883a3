import '@simplepool/core/polyfill'
import { expect } from 'chai'
import { systemClock } from '@simplepool/core'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { HandshakeWitness } from '../src/handshake-witness.js'
import { createLinkHost } from '../src/host.js'
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

  it('yields the same frames, however the bytes are cut, and asks the length of an empty buffer once, not at every frame\'s end', () => {
    const next = random(7)
    const frames = Array.from({ length: 300 }, () => Array.from({ length: Math.floor(next() * 70) + 1 }, () => Math.floor(next() * 256)))
    const wire = frames.flatMap(f => [f.length >> 8, f.length & 0xff, ...f])
    const calls = { empty: 0 }
    const decoder = new LengthPrefixedDecoder({ lengthDecoder: uint16(calls) as never, encodingLength: () => 2 })
    expect(feed(decoder, wire, next)).to.deep.equal(frames)
    // once only, at the first chunk, to learn that it throws there; without the shim, every
    // chunk that ends on a frame's end asks (and the decoder throws)
    expect(calls.empty).to.equal(1)
  })

  it('does the same with the default varint prefix, lengths of one and two bytes', () => {
    const next = random(11)
    const frames = Array.from({ length: 200 }, () => Array.from({ length: Math.floor(next() * 300) + 1 }, () => Math.floor(next() * 256)))
    const wire = frames.flatMap(f => [...varint(f.length), ...f])
    const decoder = new LengthPrefixedDecoder()
    const own = (decoder as unknown as { lengthDecoder: unknown }).lengthDecoder
    expect(feed(decoder, wire, next)).to.deep.equal(frames)
    // its varint decoder throws on an empty buffer too: it was wrapped
    expect((decoder as unknown as { lengthDecoder: unknown }).lengthDecoder).to.not.equal(own)
  })

  it('leaves alone a decoder whose prefix could take no byte, and one whose length decoder does not throw a RangeError on an empty buffer', () => {
    const calls = { empty: 0 }
    let asked = 0
    // (bounded: wrapped, this decoder would spin on an empty frame for ever)
    const decoder = new LengthPrefixedDecoder({ lengthDecoder: uint16(calls) as never, encodingLength: (n: number) => { if (++asked > 100) throw new Error('spins'); return n === 0 ? 0 : 2 } })
    expect([...decoder.decode(Uint8Array.from([0, 1, 9]))].map(f => [...f.subarray()])).to.deep.equal([[9]])
    expect(calls.empty).to.equal(1)
    const strict = new LengthPrefixedDecoder({ lengthDecoder: ((data: { byteLength: number }) => { if (data.byteLength === 0) throw new TypeError('no bytes'); return 1 }) as never, encodingLength: () => 1 })
    const own = (strict as unknown as { lengthDecoder: unknown }).lengthDecoder
    expect(() => [...strict.decode(Uint8Array.from([1, 7]))]).to.throw(TypeError)
    expect((strict as unknown as { lengthDecoder: unknown }).lengthDecoder).to.equal(own)
  })

  it('is what Noise cuts a real connection\'s frames with: every decoder under an echo between two hosts is quiet', async function () {
    this.timeout(20_000)
    const seen: unknown[] = []
    const proto = LengthPrefixedDecoder.prototype as unknown as { decode: (this: unknown, buf: unknown) => unknown }
    const decode = proto.decode
    proto.decode = function (this: unknown, buf: unknown) {
      seen.push(this)
      return decode.call(this, buf)
    }
    const hosts = await Promise.all([0, 1].map(async () => await createLinkHost({ listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], witness: new HandshakeWitness(systemClock), allow: ['/ip4/127.0.0.1/ipcidr/32'] })))
    try {
      await Promise.all(hosts.map(async h => { await h.start() }))
      await hosts[1].handle('/test/echo/1', (stream) => { stream.addEventListener('message', (evt) => { stream.send(evt.data) }) })
      const stream = await hosts[0].dialProtocol(multiaddr(hosts[1].getMultiaddrs()[0].toString()), '/test/echo/1', { signal: AbortSignal.timeout(10_000) })
      for (let i = 0; i < 20; i++) {
        const back = new Promise<void>((resolve) => { stream.addEventListener('message', () => { resolve() }, { once: true }) })
        stream.send(Uint8Array.from([i, 1, 2, 3]))
        await back
      }
      expect(seen.length).to.be.above(20)
      for (const d of seen) expect((d as Record<symbol, unknown>)[Symbol.for('simplepool.quietLengthPrefix')], 'a decoder the shim had not looked at').to.equal(true)
      // and each of them was wrapped: Noise's 2-byte decoder throws on an empty buffer
      for (const d of new Set(seen)) expect(String((d as { lengthDecoder: unknown }).lengthDecoder)).to.match(/byteLength\s*===\s*0/)
    } finally {
      proto.decode = decode
      await Promise.all(hosts.map(async h => { await h.stop() }))
    }
  })
})
