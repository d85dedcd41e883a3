import { InvalidMessageError } from '@simplepool/core'

/** The bytes of a length prefix: a 4-byte big-endian body length. */
const PREFIX = 4

/** A message on a witness link: its length, then its bytes. */
export function frame (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREFIX + body.byteLength)
  new DataView(out.buffer).setUint32(0, body.byteLength)
  out.set(body, PREFIX)
  return out
}

/**
 * Splits what a stream delivers, in chunks of any size, into the messages it carries.
 * Chunks are kept as they come and each message is copied out once, whatever the chunks'
 * sizes (a peer writing a byte at a time costs a copy per message, not per byte).
 */
export class MessageReader {
  private chunks: Uint8Array[] = []
  private total = 0
  /** The length of the message being read, once its prefix is in; -1 before. */
  private need = -1

  /** @param maxBytes - A message longer than this ends the stream: `push` throws `InvalidMessageError`. */
  constructor (private readonly maxBytes: number) {}

  /** Takes a chunk; returns every message it completes, in order. */
  push (chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk)
      this.total += chunk.byteLength
    }
    for (;;) {
      if (this.need < 0) {
        if (this.total < PREFIX) return out
        const prefix = this.take(PREFIX)
        this.need = new DataView(prefix.buffer, prefix.byteOffset, PREFIX).getUint32(0)
        if (this.need > this.maxBytes) throw new InvalidMessageError(`witness message of ${this.need} bytes exceeds ${this.maxBytes}`)
      }
      if (this.total < this.need) return out
      out.push(this.take(this.need))
      this.need = -1
    }
  }

  /** The next `n` bytes (n ≤ total), as one array. */
  private take (n: number): Uint8Array {
    const first = this.chunks[0]
    let out: Uint8Array
    if (n === 0) {
      out = new Uint8Array(0)
    } else if (first.byteLength >= n) {
      out = first.subarray(0, n)
      if (first.byteLength === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
    } else {
      out = new Uint8Array(n)
      let at = 0
      while (at < n) {
        const c = this.chunks[0]
        const used = Math.min(c.byteLength, n - at)
        out.set(c.subarray(0, used), at)
        at += used
        if (used === c.byteLength) this.chunks.shift()
        else this.chunks[0] = c.subarray(used)
      }
    }
    this.total -= n
    return out
  }
}
