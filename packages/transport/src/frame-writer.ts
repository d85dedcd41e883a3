/**
 * The frame encoder of the hot path: writes the CBOR of what envelopes are nearly always
 * made of (arrays, short strings, small integers, plain objects, bytes, null, booleans)
 * itself, and hands anything else to cbor-x one value at a time.
 *
 * Why not cbor-x for everything: its encoder is one large closure shared by every cbor-x
 * user in the process. Fed both the transport's envelopes and, say, membership records,
 * V8 keeps deoptimizing it, and after enough deopts gives up optimizing it for good; in a
 * node process that can make a frame of casts 10x slower to encode (1.9 µs an envelope
 * instead of 0.15), at random from one process to the next. This writer sees only
 * envelopes and stays monomorphic. It writes standard CBOR, byte for byte what cbor-x
 * writes except that a map's length takes the fewest bytes: any CBOR decoder, cbor-x's
 * included, reads it back to the same values.
 */
import type { Encoder } from 'cbor-x'

/** CBOR major types, shifted into the initial byte's top three bits. */
const UINT = 0x00
const NINT = 0x20
const BYTES = 0x40
const TEXT = 0x60
const ARRAY = 0x80
const MAP = 0xa0
const FALSE = 0xf4
const TRUE = 0xf5
const NULL = 0xf6
const UNDEFINED = 0xf7

/** `String.prototype.isWellFormed` (Node 20), which the TypeScript lib here does not declare yet. */
interface WellFormed { isWellFormed: () => boolean }

/** A writer's buffer grown past this goes back to its first size once a frame that used an eighth of it at most leaves it empty. */
const LARGE_BUFFER = 64 * 1024

/** Strings up to this many UTF-16 units are copied by a loop when ASCII; longer ones by `Buffer.write`. */
const SHORT_STRING = 64

/** Bytes of the longest array head a frame's envelopes take (0x9a and a 32-bit count): room kept before an open frame's first envelope. */
const MAX_HEAD = 5

/** Bytes of the CBOR head of an array of `n` items, written in the fewest bytes. */
export function arrayHeadBytes (n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

/** Writes the head of an array of `n` items at `at` (in {@link arrayHeadBytes} bytes). */
export function writeArrayHead (b: Uint8Array, at: number, n: number): void {
  if (n < 24) {
    b[at] = ARRAY | n
  } else if (n < 0x100) {
    b[at] = ARRAY | 24
    b[at + 1] = n
  } else if (n < 0x10000) {
    b[at] = ARRAY | 25
    b[at + 1] = n >>> 8
    b[at + 2] = n & 0xff
  } else {
    b[at] = ARRAY | 26
    new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at + 1, n)
  }
}

export class FrameWriter {
  private buf: Buffer
  private pos = 0
  private readonly initialBytes: number
  /** Where the open frame's envelopes start: after its length prefix and room for its array head. */
  private body = 0
  private headerBytes = 0

  /**
   * @param fallback - Encodes a value this writer does not handle (a Map, a Date, a float,
   *   a class instance, a big integer...); it must be the encoder the rest of the wire uses.
   * @param initialBytes - The buffer's starting size; it doubles as frames need.
   */
  constructor (private readonly fallback: Encoder, initialBytes = 64 * 1024) {
    this.initialBytes = Math.max(64, initialBytes)
    this.buf = Buffer.allocUnsafe(this.initialBytes)
  }

  /**
   * One frame: a 4-byte big-endian length, then the CBOR array of `envelopes`. The result
   * is a fresh buffer of its own, never a view of this writer's.
   * @param headerBytes - Bytes of the length prefix (the frame codec's header).
   */
  frame (envelopes: unknown[], headerBytes: number): Uint8Array {
    this.begin(headerBytes)
    for (let i = 0; i < envelopes.length; i++) this.value(envelopes[i])
    return this.seal(envelopes.length, this.length)
  }

  // An open frame, written one envelope at a time as messages are queued (see outbox.ts):
  // offsets below count from its first envelope's first byte.

  /** Opens a frame: the envelopes written next are its items. */
  begin (headerBytes: number): void {
    this.headerBytes = headerBytes
    this.body = headerBytes + MAX_HEAD
    this.pos = this.body
  }

  /** Bytes of the open frame's envelopes so far. */
  get length (): number {
    return this.pos - this.body
  }

  /**
   * Writes the envelope `[version, kind, id, payload]` (`id` undefined: `[version, kind,
   * payload]`) at the end of the open frame. All or nothing: when `payload` cannot be
   * encoded the frame is left as it was and the encoder's error is thrown.
   */
  envelope (version: number, kind: number, id: number | undefined, payload: unknown): void {
    const start = this.pos
    try {
      this.head(ARRAY, id === undefined ? 3 : 4)
      this.head(UINT, version)
      this.head(UINT, kind)
      if (id !== undefined) this.value(id)
      this.value(payload)
    } catch (err) {
      this.pos = start
      throw err
    }
  }

  /** Forgets the open frame's bytes from `length` on. */
  truncate (length: number): void {
    this.pos = this.body + length
  }

  /**
   * The open frame's first `end` bytes of envelopes, `count` of them, as a frame of its own
   * (a fresh buffer: the length, the array's head in the fewest bytes, the envelopes).
   * What was written after `end` stays, as the start of the next open frame.
   */
  seal (count: number, end: number): Uint8Array {
    const head = arrayHeadBytes(count)
    const from = this.body - head - this.headerBytes
    const to = this.body + end
    writeArrayHead(this.buf, this.body - head, count)
    this.buf.writeUInt32BE(to - this.body + head, from)
    const out = Buffer.allocUnsafe(to - from)
    this.buf.copy(out, 0, from, to)
    const rest = this.pos - to
    if (rest > 0) this.buf.copyWithin(this.body, to, this.pos)
    this.pos = this.body + rest
    // a burst grew the buffer far past what frames now take: a channel does not keep it
    if (rest === 0 && this.buf.length > LARGE_BUFFER && (to - from) * 8 < this.buf.length) this.buf = Buffer.allocUnsafe(this.initialBytes)
    return out
  }

  private room (bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + bytes) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  /** The initial byte and length of a major type, in the fewest bytes (lengths below 2^32). */
  private head (major: number, n: number): void {
    this.room(5)
    const b = this.buf
    if (n < 24) {
      b[this.pos++] = major | n
    } else if (n < 0x100) {
      b[this.pos++] = major | 24
      b[this.pos++] = n
    } else if (n < 0x10000) {
      b[this.pos++] = major | 25
      b[this.pos++] = n >>> 8
      b[this.pos++] = n & 0xff
    } else {
      b[this.pos++] = major | 26
      b.writeUInt32BE(n, this.pos)
      this.pos += 4
    }
  }

  private value (v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.text(v)
        return
      case 'number':
        // whole numbers of 32 bits (-0 among them, written as 0, as cbor-x does); fractions
        // and larger ones as cbor-x writes them
        if (v >>> 0 === v) {
          this.head(UINT, v)
          return
        }
        if (v < 0 && v >= -0x100000000 && Number.isInteger(v)) {
          this.head(NINT, -1 - v)
          return
        }
        break
      case 'boolean':
        this.room(1)
        this.buf[this.pos++] = v ? TRUE : FALSE
        return
      case 'undefined':
        this.room(1)
        this.buf[this.pos++] = UNDEFINED
        return
      case 'object':
        if (v === null) {
          this.room(1)
          this.buf[this.pos++] = NULL
          return
        }
        if (Array.isArray(v)) {
          this.array(v)
          return
        }
        if (v instanceof Uint8Array && (v.constructor === Uint8Array || v.constructor === Buffer)) {
          this.head(BYTES, v.byteLength)
          this.room(v.byteLength)
          this.buf.set(v, this.pos)
          this.pos += v.byteLength
          return
        }
        if (Object.getPrototypeOf(v) === Object.prototype) {
          this.object(v as Record<string, unknown>)
          return
        }
        break
    }
    this.encoded(v)
  }

  /** `v` as cbor-x encodes it. */
  private encoded (v: unknown): void {
    const bytes = this.fallback.encode(v)
    this.room(bytes.byteLength)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.byteLength
  }

  private array (a: unknown[]): void {
    this.head(ARRAY, a.length)
    for (let i = 0; i < a.length; i++) this.value(a[i])
  }

  private object (o: Record<string, unknown>): void {
    const keys = Object.keys(o)
    this.head(MAP, keys.length)
    for (let i = 0; i < keys.length; i++) {
      this.text(keys[i])
      this.value(o[keys[i]])
    }
  }

  private text (s: string): void {
    const n = s.length
    if (n <= SHORT_STRING) {
      // ASCII is one byte a unit: write the head, then the units, unless one is not ASCII
      this.room(2 + n)
      const start = this.pos
      this.head(TEXT, n)
      const b = this.buf
      let p = this.pos
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) {
          this.pos = start
          this.utf8(s)
          return
        }
        b[p++] = c
      }
      this.pos = p
      return
    }
    this.utf8(s)
  }

  private utf8 (s: string): void {
    // a lone surrogate: cbor-x writes its own bytes for it (which read back differently
    // from Buffer's); keep them, so an id reads the same whichever version wrote it
    if (!(s as unknown as WellFormed).isWellFormed()) {
      this.encoded(s)
      return
    }
    const bytes = Buffer.byteLength(s, 'utf8')
    this.head(TEXT, bytes)
    this.room(bytes)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }
}
