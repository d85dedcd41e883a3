/** Writing server-sent events: what the event log's streams and the watch's share. */
import type { ServerResponse } from 'node:http'
import { MAX_UNSENT_EVENT_BYTES } from '@simplepool/core'

/** An event's data as a JSON object: an object as it is, anything else as `{ value }`. */
export function asObject (data: unknown): Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? data as Record<string, unknown> : { value: data }
}

/**
 * Writes one server-sent event (or comment) to `res`, unless the client has stopped
 * reading: then the stream is ended, so a stalled tab costs a bounded buffer, not memory
 * that grows every second. Its `close` handler does the rest.
 */
export function sendEvent (res: ServerResponse, text: string): void {
  if (res.destroyed) return
  if (res.writableLength > MAX_UNSENT_EVENT_BYTES) {
    res.destroy()
    return
  }
  res.write(text)
}
