/**
 * libp2p's length-prefixed decoder without an error thrown per chunk received.
 *
 * Why: `LengthPrefixedDecoder` of `@libp2p/utils`, which Noise uses to cut the encrypted
 * frames of every connection out of what arrives, loops over what it holds, and once it
 * has cut out the last whole frame it asks its length decoder for the length of an empty
 * buffer. Noise's 2-byte decoder, like the default varint one, throws a `RangeError`
 * there, which the loop catches to stop. So every chunk that ends on a frame's end (in
 * request and response traffic, nearly every chunk) built an error and its stack trace:
 * the largest item in the profile of a round trip on a bare libp2p stream (a sixth of
 * its CPU), and a sequential echo in one process took 84-88 µs with the error gone
 * against 106-112 µs with it.
 *
 * The shim answers 0 for an empty buffer instead of asking the decoder. The loop then
 * needs the prefix of a frame of length 0 (at least one byte, see `encodingLength`), which
 * an empty buffer lacks, and stops just as it did: nothing is yielded or consumed. It is
 * applied to a decoder only when that is exactly what happened before: its prefix takes at
 * least a byte, and its length decoder throws a `RangeError` on an empty buffer (tried
 * once, at the decoder's first chunk, while its buffer is still empty). The change is to
 * libp2p's class, so it holds for every libp2p host of the process that shares this copy
 * of `@libp2p/utils`.
 */
import { LengthPrefixedDecoder } from '@libp2p/utils'

/** Marks a decoder looked at, and the patched `decode` (shared by every copy of this file a process loads). */
const QUIET = Symbol.for('simplepool.quietLengthPrefix')

/** What the shim reads of a decoder (private fields of libp2p's class). */
interface Decoder {
  buffer: { byteLength: number }
  lengthDecoder: (this: unknown, data: { byteLength: number }) => number
  encodingLength: (length: number) => number
  [QUIET]?: true
}

type Decode = ((this: Decoder, buf: unknown) => Generator<unknown>) & { [QUIET]?: true }

/** Installs the shim on libp2p's decoder (once a process; each decoder is looked at on its first chunk). */
export function quietLengthPrefixes (): void {
  const proto = LengthPrefixedDecoder.prototype as unknown as { decode: Decode }
  const decode = proto.decode
  // (installed already; or a libp2p whose decoder looks otherwise: left as it is, only slower)
  if (typeof decode !== 'function' || decode[QUIET] === true) return
  const quiet: Decode = function (this: Decoder, buf: unknown) {
    if (this[QUIET] !== true) {
      this[QUIET] = true
      if (throwsOnEmpty(this)) {
        const lengthOf = this.lengthDecoder
        this.lengthDecoder = function (this: unknown, data) { return data.byteLength === 0 ? 0 : lengthOf.call(this, data) }
      }
    }
    return decode.call(this, buf)
  }
  quiet[QUIET] = true
  proto.decode = quiet
}

/** Whether the decoder, asked the length of its (still empty) buffer, throws a `RangeError`, and its prefix takes a byte at least. */
function throwsOnEmpty (d: Decoder): boolean {
  if (typeof d.lengthDecoder !== 'function' || typeof d.encodingLength !== 'function' || d.buffer?.byteLength !== 0) return false
  try {
    if (!(d.encodingLength(0) >= 1)) return false
    d.lengthDecoder(d.buffer)
  } catch (err) {
    return err instanceof RangeError
  }
  return false
}
