/**
 * libp2p's length-prefixed decoder without a thrown error per chunk.
 *
 * Why: `LengthPrefixedDecoder` of `@libp2p/utils` (under Noise's frames on every
 * connection, and every length-prefixed stream) loops over what it holds, and once it has
 * cut out the last whole frame it asks its length decoder for the next length of an empty
 * buffer. Noise's 2-byte decoder, like a varint's, throws a `RangeError` there, which the
 * loop catches to stop. Building that error and its stack trace was the largest item in
 * the profile of a round trip on a bare libp2p stream (11% of its CPU), and it comes once
 * per chunk received on each side: a sequential echo took 84-88 µs in one process with
 * the error gone against 106-112 µs with it.
 *
 * The shim answers 0 for an empty buffer instead of asking the decoder. The loop then
 * needs the prefix of a frame of length 0 (at least one byte, see `encodingLength`), which
 * an empty buffer lacks, and stops just the same: nothing else changes. A decoder whose
 * prefix could take no byte is left as it is (the loop could then spin on an empty frame).
 */
import { LengthPrefixedDecoder } from '@libp2p/utils'

const QUIET = Symbol('simplepool.quietLengthDecoder')

/** What the shim reads of a decoder (private fields of libp2p's class). */
interface Decoder {
  lengthDecoder: (data: { byteLength: number }) => number
  encodingLength: (length: number) => number
  [QUIET]?: true
}

let installed = false

/** Installs the shim on libp2p's decoder (once a process; each decoder is wrapped at its first chunk). */
export function quietLengthPrefixes (): void {
  if (installed) return
  installed = true
  const proto = LengthPrefixedDecoder.prototype as unknown as { decode: (this: Decoder, buf: unknown) => Generator<unknown> }
  const decode = proto.decode
  // (a libp2p whose decoder looks otherwise is left as it is: only slower)
  if (typeof decode !== 'function') return
  proto.decode = function (this: Decoder, buf: unknown) {
    if (this[QUIET] !== true) {
      this[QUIET] = true
      const lengthOf = this.lengthDecoder
      if (typeof lengthOf === 'function' && typeof this.encodingLength === 'function' && this.encodingLength(0) >= 1) {
        this.lengthDecoder = (data) => data.byteLength === 0 ? 0 : lengthOf(data)
      }
    }
    return decode.call(this, buf)
  }
}
