/**
 * The frame decoder of the hot path, the reading half of frame-writer.ts: reads the CBOR
 * of arrays, strings, numbers, byte strings, string-keyed maps, null, booleans and
 * undefined itself, and hands a frame holding anything else (a tag, an indefinite
 * length, a 64-bit integer, a map with other keys) whole to cbor-x.
 *
 * Why: cbor-x's decoder, like its encoder, is shared by every user in the process, and V8
 * can give up optimizing it; a receiver then decodes frames several times slower, at
 * random from one process to the next. This one reads only frames and stays fast.
 * It gives what cbor-x's decoder (with records off) gives for the same bytes: maps become
 * plain objects, a `__proto__` key becomes `__proto_` (no prototype pollution), byte
 * strings are views into the frame.
 */
import type { Decoder } from 'cbor-x'

/** Thrown inside the reader when a frame needs cbor-x; never leaves it. */
const FALLBACK = new Error('left to cbor-x')

const EMPTY = new Uint8Array(0)
const utf8 = new TextDecoder()
/** Slots `rows` makes ahead at most (a frame of 1,024 envelopes, the default); past them its array grows as it is written. */
const ROWS_PRESIZED = 5 * 1024
/** Short strings are read as a list of char codes, one reused list per length: no allocation but the string. */
const SHORT = 32
const CODES = Array.from({ length: SHORT + 1 }, (_, n) => new Array<number>(n).fill(0))

export class FrameReader {
  private src: Uint8Array = EMPTY
  private view: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer)
  private pos = 0
  private end = 0
  /** Array slots this frame may still make: nested arrays each claiming the rest of the frame must not add up. */
  private budget = 0

  /** @param fallback - The decoder for the frames this reader leaves alone. */
  constructor (private readonly fallback: Decoder) {}

  /** The one CBOR item in `body`; throws on bytes that are not exactly one item. */
  read (body: Uint8Array): unknown {
    this.begin(body)
    try {
      const value = this.item()
      this.atEnd()
      return value
    } catch (err) {
      if (err === FALLBACK) return this.fallback.decode(body)
      throw err
    } finally {
      this.forget()
    }
  }

  /** Starts reading `body`: every item it holds together claims no more array slots than it has bytes. */
  private begin (body: Uint8Array): void {
    this.src = body
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength)
    this.pos = 0
    this.end = body.byteLength
    this.budget = body.byteLength
  }

  /** Throws when bytes are left after the frame's value. */
  private atEnd (): void {
    if (this.pos !== this.end) throw new Error(`${this.end - this.pos} bytes after the end of the frame's value`)
  }

  /** The frame's memory is not held past its decoding (byte strings keep their own views). */
  private forget (): void {
    this.src = EMPTY
    this.view = new DataView(EMPTY.buffer)
  }

  /**
   * The one CBOR array of arrays in `body`, flat: for each inner array its length, then its
   * items (an item that is not an array: -1, then the item). A frame of envelopes read
   * this way makes one array, not one per envelope. Throws as {@link read} does.
   */
  rows (body: Uint8Array): unknown[] {
    this.begin(body)
    try {
      const n = this.arrayHead()
      // sized for envelopes of four items and their lengths: one allocation for the usual frame
      // (not past ROWS_PRESIZED slots: a count claimed by a small hostile frame allocates no more)
      const out = new Array<unknown>(Math.min(n * 5, ROWS_PRESIZED))
      let k = 0
      for (let i = 0; i < n; i++) {
        const b = this.pos < this.end ? this.src[this.pos] : -1
        if (b >= 0x80 && b < 0x98) {
          // the usual envelope: a short array, its items written as they are read
          this.pos++
          const len = b - 0x80
          this.need(len)
          this.budget -= len
          if (this.budget < 0) throw new Error('the frame\'s arrays claim more items than it has bytes')
          out[k++] = len
          for (let j = 0; j < len; j++) out[k++] = this.item()
        } else {
          out.length = k
          pushRow(out, this.item())
          k = out.length
        }
      }
      this.atEnd()
      out.length = k
      return out
    } catch (err) {
      if (err !== FALLBACK) throw err
      const value: unknown = this.fallback.decode(body)
      if (!Array.isArray(value)) throw new NotAnArrayError()
      const out: unknown[] = []
      for (const v of value) pushRow(out, v)
      return out
    } finally {
      this.forget()
    }
  }

  /** The length of the array that starts here; throws `not an array` for any other item. */
  private arrayHead (): number {
    this.need(1)
    const b = this.src[this.pos]
    // a tag around the frame (self-described CBOR): cbor-x reads it, as `read` leaves it to it
    if (b >> 5 === 6) throw FALLBACK
    if (b >> 5 !== 4) throw new NotAnArrayError()
    const info = b & 31
    if (info > 26) throw info === 31 ? FALLBACK : new Error(`reserved additional info ${info}`)
    this.pos++
    const n = this.count(info)
    this.need(n)
    this.budget -= n
    return n
  }

  private need (bytes: number): void {
    if (bytes > this.end - this.pos) throw new Error('unexpected end of the frame')
  }

  private item (): unknown {
    if (this.pos >= this.end) throw new Error('unexpected end of the frame')
    const b = this.src[this.pos++]
    // the usual items first: a small integer, a short string, a short array
    if (b < 0x18) return b
    if (b >= 0x60 && b < 0x78) return this.text(b - 0x60)
    if (b >= 0x80 && b < 0x98) return this.array(b - 0x80)
    const major = b >> 5
    const info = b & 31
    if (major === 7) return this.simple(info)
    if (major === 6 || info > 26) throw info > 27 && info < 31 ? new Error(`reserved additional info ${info}`) : FALLBACK
    const n = this.count(info)
    switch (major) {
      case 0: return n
      case 1: return -1 - n
      case 2: {
        this.need(n)
        const bytes = this.src.subarray(this.pos, this.pos + n)
        this.pos += n
        return bytes
      }
      case 3: return this.text(n)
      case 4: return this.array(n)
      default: {
        this.need(2 * n)
        const o: Record<string, unknown> = {}
        for (let i = 0; i < n; i++) {
          const key = this.item()
          if (typeof key !== 'string') throw FALLBACK
          o[key === '__proto__' ? '__proto_' : key] = this.item()
        }
        return o
      }
    }
  }

  private array (n: number): unknown[] {
    // every item takes a byte at least: a length beyond the frame is a lie, not an
    // allocation; and the slots of all arrays together are bounded by the frame too
    this.need(n)
    this.budget -= n
    if (this.budget < 0) throw new Error('the frame\'s arrays claim more items than it has bytes')
    const a = new Array(n)
    for (let i = 0; i < n; i++) a[i] = this.item()
    return a
  }

  /** The length or value that follows an initial byte with additional info `info` (< 27). */
  private count (info: number): number {
    if (info < 24) return info
    const v = this.view
    const at = this.pos
    if (info === 24) {
      this.need(1)
      this.pos += 1
      return this.src[at]
    }
    if (info === 25) {
      this.need(2)
      this.pos += 2
      return v.getUint16(at)
    }
    this.need(4)
    this.pos += 4
    return v.getUint32(at)
  }

  private simple (info: number): unknown {
    const at = this.pos
    switch (info) {
      case 20: return false
      case 21: return true
      case 22: return null
      case 23: return undefined
      case 25:
        this.need(2)
        this.pos += 2
        return half(this.view.getUint16(at))
      case 26:
        this.need(4)
        this.pos += 4
        return this.view.getFloat32(at)
      case 27:
        this.need(8)
        this.pos += 8
        return this.view.getFloat64(at)
      default: throw FALLBACK
    }
  }

  private text (n: number): string {
    this.need(n)
    const src = this.src
    const start = this.pos
    this.pos += n
    if (n <= SHORT) {
      // short ASCII, the usual id or name: no view, no decoder call
      const codes = CODES[n]
      let ascii = true
      for (let i = 0; i < n; i++) {
        const c = src[start + i]
        if (c >= 0x80) {
          ascii = false
          break
        }
        codes[i] = c
      }
      if (ascii) return String.fromCharCode.apply(null, codes)
    }
    return utf8.decode(src.subarray(start, start + n))
  }
}

/** Thrown by `rows` for a body that is not one array. */
export class NotAnArrayError extends Error {}

/** `v` as a row of {@link FrameReader.rows}: an array's length and items, anything else -1 and itself. */
function pushRow (out: unknown[], v: unknown): void {
  if (!Array.isArray(v)) {
    out.push(-1, v)
    return
  }
  out.push(v.length)
  for (const x of v) out.push(x)
}

/** An IEEE 754 half-precision float. */
function half (h: number): number {
  const exp = (h >> 10) & 0x1f
  const mant = h & 0x3ff
  const sign = (h & 0x8000) !== 0 ? -1 : 1
  if (exp === 0) return sign * mant * 2 ** -24
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN
  return sign * (1024 + mant) * 2 ** (exp - 25)
}
