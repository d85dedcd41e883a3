import { ENVELOPE_VERSION } from '@simplepool/core'
import { Kind } from './envelope.js'
import { FRAME_HEADER_BYTES, newFrameWriter } from './frame-codec.js'
import { arrayHeadBytes, writeArrayHead } from './frame-writer.js'
import type { FrameWriter } from './frame-writer.js'

/** A frame ready to be written, and what it carries. */
export interface OutFrame {
  /** Its number in this outbox: frames leave in the order of their numbers. */
  readonly seq: number
  bytes: Uint8Array
  /** Envelopes in it (0: every one was cut; nothing to write). */
  envelopes: number
  /** Casts among them, counted as dropped if the frame is lost. */
  readonly casts: number
}

/** Where an envelope lies while it waits: its frame's number and its bytes among the frame's envelopes. */
export interface QueuedAt {
  seq: number
  start: number
  end: number
}

/** Why an envelope was not queued: the message that names it, for the sender's error. */
export class Unqueued extends Error {}

/** A channel's writer starts this small: a pair of nodes that exchange a few calls keeps a few KB. */
const INITIAL_BYTES = 4096

/**
 * What one channel has to send, encoded as it is queued: envelopes go straight into an open
 * frame's bytes, which is sealed when it holds `maxEnvelopes` or would pass `maxFrameBytes`,
 * or when the channel flushes. Nothing queued is an object on the heap but the sealed
 * frames: a burst of 65,536 casts no longer keeps 131,072 arrays alive until its flush,
 * for every young collection to copy.
 *
 * A call given up while it waits is cut out of its frame before the frame leaves (see
 * {@link cut}), so the peer does no work whose answer nobody waits for.
 */
export class Outbox {
  private readonly writer: FrameWriter = newFrameWriter(INITIAL_BYTES)
  private readonly maxFrameBytes: number
  private readonly maxEnvelopes: number
  private sealed: OutFrame[] = []
  /** Number of the open frame. */
  private seq = 0
  private openEnvelopes = 0
  private openCasts = 0
  private cuts: QueuedAt[] = []
  /** An envelope is being encoded: its payload's own code (a getter) may try to send. */
  private adding = false
  /** Envelopes queued, sealed or open. */
  count = 0

  constructor (maxFrameBytes: number, maxEnvelopes: number) {
    this.maxFrameBytes = maxFrameBytes
    this.maxEnvelopes = maxEnvelopes
    this.writer.begin(FRAME_HEADER_BYTES)
  }

  /**
   * Queues `[version, kind, id, payload]` (`id` undefined for a cast) and says where it lies
   * in `at`, if given. Throws {@link Unqueued} when it cannot be encoded or is too big for
   * a frame alone; nothing is queued then.
   */
  add (kind: number, id: number | undefined, payload: unknown, at?: QueuedAt): void {
    // a message sent from inside the encoding of another (a getter of its payload) would be
    // written into the middle of it
    if (this.adding) throw new Unqueued('message sent while another to the same peer was being encoded (from a getter or encoder of its payload)')
    const w = this.writer
    let start = w.length
    this.adding = true
    try {
      w.envelope(ENVELOPE_VERSION, kind, id, payload)
    } catch (err) {
      throw new Unqueued(`message cannot be encoded: ${(err as Error).message}`)
    } finally {
      this.adding = false
    }
    let end = w.length
    // the limit is on the body, as the receiver counts it: the envelopes and the array's head
    if (end - start + arrayHeadBytes(1) > this.maxFrameBytes) {
      w.truncate(start)
      throw new Unqueued(`message of ${end - start + arrayHeadBytes(1)} bytes exceeds the frame limit of ${this.maxFrameBytes}`)
    }
    if (end + arrayHeadBytes(this.openEnvelopes + 1) > this.maxFrameBytes) {
      // the open frame is full without it: sealed, and this envelope opens the next one
      this.seal(start)
      end -= start
      start = 0
    }
    this.openEnvelopes++
    if (kind === Kind.Cast) this.openCasts++
    this.count++
    if (at !== undefined) {
      at.seq = this.seq
      at.start = start
      at.end = end
    }
    if (this.openEnvelopes >= this.maxEnvelopes) this.seal(end)
  }

  /**
   * Takes the envelope at `at` out of the queue before its frame leaves. False when its
   * frame has left already (the peer has it, or will).
   */
  cut (at: QueuedAt): boolean {
    const oldest = this.sealed.length > 0 ? this.sealed[0].seq : this.seq
    if (at.seq < oldest) return false
    this.cuts.push({ seq: at.seq, start: at.start, end: at.end })
    return true
  }

  /** The next frame to write, oldest first (the open one sealed when it is next), or undefined when nothing waits. */
  next (): OutFrame | undefined {
    if (this.sealed.length === 0) this.seal(this.writer.length)
    const frame = this.sealed.shift()
    if (frame === undefined) return undefined
    this.count -= frame.envelopes
    if (this.cuts.length > 0) this.applyCuts(frame)
    return frame
  }

  /** Forgets everything queued; returns the casts among it, which will never be written. */
  clear (): number {
    let casts = this.openCasts
    for (const f of this.sealed) casts += f.casts
    this.sealed = []
    this.cuts = []
    this.count = 0
    this.openEnvelopes = 0
    this.openCasts = 0
    this.seq++
    this.writer.begin(FRAME_HEADER_BYTES)
    return casts
  }

  /** Seals the open frame's envelopes up to `end`; what lies after `end` opens the next frame. */
  private seal (end: number): void {
    if (this.openEnvelopes === 0) return
    this.sealed.push({ seq: this.seq, bytes: this.writer.seal(this.openEnvelopes, end), envelopes: this.openEnvelopes, casts: this.openCasts })
    this.seq++
    this.openEnvelopes = 0
    this.openCasts = 0
  }

  /** Rewrites `frame` without the envelopes cut from it; the cuts of later frames stay. */
  private applyCuts (frame: OutFrame): void {
    const mine = this.cuts.filter(c => c.seq === frame.seq).sort((a, b) => a.start - b.start)
    this.cuts = this.cuts.filter(c => c.seq > frame.seq)
    if (mine.length === 0) return
    const left = frame.envelopes - mine.length
    frame.envelopes = left
    if (left === 0) return
    const src = frame.bytes
    const bodyAt = FRAME_HEADER_BYTES + arrayHeadBytes(left + mine.length)
    let bytes = src.byteLength - bodyAt
    for (const c of mine) bytes -= c.end - c.start
    const head = arrayHeadBytes(left)
    const out = new Uint8Array(FRAME_HEADER_BYTES + head + bytes)
    new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(0, head + bytes)
    writeArrayHead(out, FRAME_HEADER_BYTES, left)
    let to = FRAME_HEADER_BYTES + head
    let from = 0
    for (const c of mine) {
      out.set(src.subarray(bodyAt + from, bodyAt + c.start), to)
      to += c.start - from
      from = c.end
    }
    out.set(src.subarray(bodyAt + from), to)
    frame.bytes = out
  }
}
