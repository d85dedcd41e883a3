/**
 * The admin API's event log: what an operator watches happen on a node (members joining,
 * leaving, going down; a pool's ring changing; migrations starting, progressing, ending;
 * fencing; worker failures), kept in a bounded ring buffer so a client that reconnects
 * with `Last-Event-ID` gets what it missed, and pushed to every open `GET /v1/events`
 * stream as server-sent events.
 *
 * Costs nothing per worker: the events logged are per node or per pool, and a storm of
 * worker failures is cut to a few a second per pool, the next one logged saying how many
 * were left out.
 */
import type { ServerResponse } from 'node:http'
import { asObject, sendEvent } from './server-sent-events.js'
import { EVENT_KEEPALIVE_MS, EVENT_LOG_KEEP, FAILURE_EVENTS_PER_SECOND, MAX_EVENT_STREAMS } from '@simplepool/core'

/** One logged event. `id` is `<boot>.<seq>`: resumable within one run of the node. */
export interface AdminEvent {
  id: string
  type: string
  at: number
  data: unknown
}

/** How a stream is opened: see {@link AdminEventLog.open}. */
export interface StreamOptions {
  /** Send every event under this name, its type in its data (the dashboard's `cluster` events). */
  as?: string
  /** Written first instead of the opening comment: a stream's own first events. */
  first?: string
  /** Called when the client goes. */
  onClose?: () => void
}

/** A node's event log: the last {@link EVENT_LOG_KEEP} events, and the streams that follow it. */
export class AdminEventLog {
  private readonly boot = Date.now().toString(36)
  private seq = 0
  private readonly kept: AdminEvent[] = []
  /** Open streams, each with the event name it sends every event as (undefined: the event's type). */
  private readonly streams = new Map<ServerResponse, string | undefined>()
  private keepalive?: ReturnType<typeof setInterval>
  /** Per pool: failures logged this second, and those left out since the last one logged. */
  private readonly failures = new Map<string, { second: number, logged: number, left: number }>()

  /** Logs an event (that happened `at`, by default now) and sends it to every open stream. */
  add (type: string, data: unknown, at = Date.now()): void {
    const event: AdminEvent = { id: `${this.boot}.${++this.seq}`, type, at, data }
    this.kept.push(event)
    if (this.kept.length > EVENT_LOG_KEEP) this.kept.shift()
    for (const [res, as] of this.streams) write(res, event, as)
  }

  /**
   * What was logged after `id` (at most `max`, the newest), and whether some were missed:
   * `id` is unknown here (another run of the node, or dropped from the buffer). Without an
   * `id`, the newest `max`.
   */
  since (id: string | undefined, max: number): { events: AdminEvent[], gap: boolean } {
    let from = 0
    let gap = false
    if (id !== undefined) {
      const at = this.kept.findIndex(e => e.id === id)
      if (at >= 0) from = at + 1
      else gap = true
    }
    if (this.kept.length - from > max) {
      from = this.kept.length - max
      gap = true
    }
    return { events: this.kept.slice(from), gap: gap && id !== undefined }
  }

  /** A worker failure, logged unless its pool had too many this second (then counted, and said with the next). */
  failure (pool: string, detail: Record<string, unknown>): void {
    const second = Math.floor(Date.now() / 1000)
    let f = this.failures.get(pool)
    if (f === undefined) {
      f = { second, logged: 0, left: 0 }
      this.failures.set(pool, f)
    }
    if (f.second !== second) {
      f.second = second
      f.logged = 0
    }
    if (f.logged >= FAILURE_EVENTS_PER_SECOND) {
      f.left++
      return
    }
    f.logged++
    this.add('worker:fail', { ...detail, pool, leftOutBefore: f.left })
    f.left = 0
  }

  /**
   * Takes over `res` as an event stream: first what was logged after `lastEventId` (all that
   * is kept, after an `events:gap` event, when that id is unknown here or too old), then
   * every new event until the client goes. False when the node has too many streams open
   * already: then `res` was answered 503.
   */
  open (res: ServerResponse, lastEventId: string | undefined, options: StreamOptions = {}): boolean {
    if (this.streams.size >= MAX_EVENT_STREAMS) {
      res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify({ error: { name: 'TooManyStreams', message: `this node serves at most ${MAX_EVENT_STREAMS} event streams at once` } }))
      return false
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    res.write(options.first ?? ': simplepool events\n\n')
    let from = 0
    if (lastEventId !== undefined && lastEventId !== '') {
      const at = this.kept.findIndex(e => e.id === lastEventId)
      if (at >= 0) {
        from = at + 1
      } else {
        // no id of its own: a client's last id stays that of the last real event
        res.write(`event: events:gap\ndata: ${JSON.stringify({ at: Date.now(), after: lastEventId, kept: this.kept.length })}\n\n`)
      }
    }
    const as = options.as
    for (let i = from; i < this.kept.length; i++) write(res, this.kept[i], as)
    this.streams.set(res, as)
    res.once('close', () => {
      this.streams.delete(res)
      options.onClose?.()
      if (this.streams.size === 0) this.stopKeepalive()
    })
    if (this.keepalive === undefined) {
      this.keepalive = setInterval(() => { for (const s of this.streams.keys()) sendEvent(s, ': alive\n\n') }, EVENT_KEEPALIVE_MS)
      this.keepalive.unref()
    }
    return true
  }

  /** Ends every open stream (the node is stopping). */
  close (): void {
    for (const res of this.streams.keys()) res.end()
    this.streams.clear()
    this.stopKeepalive()
  }

  /** Events kept now. */
  get size (): number {
    return this.kept.length
  }

  private stopKeepalive (): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive)
    this.keepalive = undefined
  }
}

/** One event on a stream: named for its type, or `as` with the type in its data. */
function write (res: ServerResponse, e: AdminEvent, as?: string): void {
  const data = as === undefined ? { at: e.at, ...asObject(e.data) } : { at: e.at, type: e.type, ...asObject(e.data) }
  sendEvent(res, `id: ${e.id}\nevent: ${as ?? e.type}\ndata: ${JSON.stringify(data)}\n\n`)
}
