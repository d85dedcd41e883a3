import type { Stream } from '@libp2p/interface'

/**
 * The part of a libp2p stream the transport uses, in memory: bytes sent on one end arrive
 * as a 'message' on the other in a later microtask; abort closes both ends.
 */
export class MemoryStream extends EventTarget {
  status: 'open' | 'aborted' | 'closed' = 'open'
  other?: MemoryStream
  sent = 0
  /** When set, `send` reports a full buffer every this many sends, and drains a turn later. */
  fullEvery = 0
  drains = 0
  private drained?: Promise<void>

  send (data: Uint8Array): boolean {
    if (this.status !== 'open') throw new Error('stream is not open')
    this.sent++
    const full = this.fullEvery > 0 && this.sent % this.fullEvery === 0
    const copy = new Uint8Array(data)
    const other = this.other
    queueMicrotask(() => {
      if (other?.status === 'open') other.dispatchEvent(Object.assign(new Event('message'), { data: copy }))
    })
    if (full) {
      this.drained = new Promise(resolve => setImmediate(() => { this.drains++; resolve() }))
      return false
    }
    return true
  }

  async onDrain (): Promise<void> {
    await this.drained
  }

  abort (err: Error): void {
    if (this.status !== 'open') return
    this.status = 'aborted'
    this.dispatchEvent(Object.assign(new Event('close'), { error: err, local: true }))
    const other = this.other
    if (other != null && other.status === 'open') {
      other.status = 'aborted'
      other.dispatchEvent(Object.assign(new Event('close'), { error: Object.assign(new Error('reset'), { name: 'StreamResetError' }), local: false }))
    }
  }

  async close (): Promise<void> {
    this.abort(new Error('closed'))
  }

  asStream (): Stream {
    return this as unknown as Stream
  }
}

/** A pair of connected ends. */
export function memoryPair (): [MemoryStream, MemoryStream] {
  const a = new MemoryStream()
  const b = new MemoryStream()
  a.other = b
  b.other = a
  return [a, b]
}
