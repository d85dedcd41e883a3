import { Decoder, Encoder } from 'cbor-x'
import { InvalidMessageError } from '@simplepool/core'
import { FrameReader, NotAnArrayError } from './frame-reader.js'
import { FrameWriter } from './frame-writer.js'

/** Bytes of the length prefix in front of every frame: a big-endian uint32. */
export const FRAME_HEADER_BYTES = 4

// Records off: they pay only with a structure list every process agrees on.
// Plain typed arrays: a Uint8Array payload travels as cbor bytes, not a tagged array.
const encoder = new Encoder({ useRecords: false, tagUint8Array: false })
const decoder = new Decoder({ useRecords: false })
const writer = new FrameWriter(encoder)
const reader = new FrameReader(decoder)

/**
 * Encodes a batch of envelopes as one frame: a 4-byte length and one cbor array. One
 * encode call per frame rather than per message is what makes batching cheap; the
 * transport's own writer does the common values (see frame-writer.ts), cbor-x the rest.
 */
export function encodeFrame (envelopes: unknown[]): Uint8Array {
  return writer.frame(envelopes, FRAME_HEADER_BYTES)
}

/** A writer of frames of its own (a channel's open frame), on the encoder the rest of the wire uses. */
export function newFrameWriter (initialBytes: number): FrameWriter {
  return new FrameWriter(encoder, initialBytes)
}

/** Decodes a frame body into its envelopes; throws `InvalidMessageError` if it is not a cbor array. */
export function decodeFrameBody (body: Uint8Array): unknown[] {
  let value: unknown
  try {
    value = reader.read(body)
  } catch (err) {
    throw new InvalidMessageError(`frame is not valid cbor: ${(err as Error).message}`)
  }
  if (!Array.isArray(value)) throw new InvalidMessageError('frame is not a cbor array of envelopes')
  return value
}

/**
 * Decodes a frame body into its envelopes, flat (see `FrameReader.rows`): for each, its
 * item count, then its items. Throws `InvalidMessageError` if it is not a cbor array.
 */
export function decodeFrameRows (body: Uint8Array): unknown[] {
  try {
    return reader.rows(body)
  } catch (err) {
    if (err instanceof NotAnArrayError) throw new InvalidMessageError('frame is not a cbor array of envelopes')
    throw new InvalidMessageError(`frame is not valid cbor: ${(err as Error).message}`)
  }
}

/**
 * Splits a byte stream into frame bodies. The length is checked before any body byte is
 * buffered, so an oversized frame costs nothing but the four bytes that announce it.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = []
  private length = 0
  private readonly maxFrameBytes: number

  constructor (maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /**
   * Adds received bytes and calls `onFrame` for each complete frame body. Throws
   * `InvalidMessageError` on a frame over the limit; the stream is then beyond repair.
   */
  push (data: Uint8Array | Iterable<Uint8Array>, onFrame: (body: Uint8Array) => void): void {
    if (data instanceof Uint8Array) {
      this.append(data)
    } else {
      for (const chunk of data) this.append(chunk)
    }
    while (this.length >= FRAME_HEADER_BYTES) {
      const size = this.peekLength()
      if (size > this.maxFrameBytes) {
        throw new InvalidMessageError(`frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes}`)
      }
      if (size === 0) throw new InvalidMessageError('empty frame')
      if (this.length < FRAME_HEADER_BYTES + size) return
      this.consume(FRAME_HEADER_BYTES)
      onFrame(this.consume(size))
    }
  }

  private append (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.chunks.push(chunk)
    this.length += chunk.byteLength
  }

  private peekLength (): number {
    const first = this.chunks[0]
    if (first.byteLength >= FRAME_HEADER_BYTES) {
      return ((first[0] << 24) >>> 0) + (first[1] << 16) + (first[2] << 8) + first[3]
    }
    const head = this.peek(FRAME_HEADER_BYTES)
    return ((head[0] << 24) >>> 0) + (head[1] << 16) + (head[2] << 8) + head[3]
  }

  private peek (n: number): Uint8Array {
    const out = new Uint8Array(n)
    let off = 0
    for (const c of this.chunks) {
      const take = Math.min(n - off, c.byteLength)
      out.set(c.subarray(0, take), off)
      off += take
      if (off === n) break
    }
    return out
  }

  /** Removes and returns the next `n` bytes; a view, without copying, when they lie in one chunk. */
  private consume (n: number): Uint8Array {
    this.length -= n
    const first = this.chunks[0]
    if (first.byteLength > n) {
      this.chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    if (first.byteLength === n) {
      this.chunks.shift()
      return first
    }
    const out = new Uint8Array(n)
    let off = 0
    while (off < n) {
      const c = this.chunks[0]
      const take = Math.min(n - off, c.byteLength)
      out.set(c.subarray(0, take), off)
      off += take
      if (take === c.byteLength) this.chunks.shift()
      else this.chunks[0] = c.subarray(take)
    }
    return out
  }
}
