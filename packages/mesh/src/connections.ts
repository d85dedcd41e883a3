import { peerIdFromString } from '@libp2p/peer-id'
import { RECONNECT_BACKOFF_MS, STALE_DIALS_WHILE_ALIVE } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { Connection } from '@libp2p/interface'
import type { Host } from './host.js'

/**
 * Which connection to a peer the mesh uses. After a cut heals, a connection that was open
 * across it waits out the kernel's retransmission backoff (seconds, doubling over the
 * cut: what was sent on it during the cut goes again only when its timer says, and all
 * sent after waits behind it), while a new one works at once. So the connections open
 * when this node marks a peer down are stale: streams open on a newer one, and a dial to
 * the peer makes a new one though they are open.
 *
 * Once a new one opens, the stale ones are reset: a reset is not queued behind the stuck
 * bytes, so the peer learns at once (it may not have marked this node down, and would go
 * on sending on them), and gossipsub, which opens its stream on a new connection only
 * when it has none, opens it on the new one (the reset comes before the new connection's
 * identify). What was in flight on them fails with `NodeUnavailableError` whose reason is
 * `closed`, which claims and handoffs read as "may have arrived" (`mayHaveArrived`), never
 * as "not there". The transport answers on a stream that comes on a stale connection but
 * sends on its own.
 *
 * A peer that cannot be dialled (it is reached only by its own dials, behind a NAT, say)
 * and is heard again has its connections taken back after `STALE_DIALS_WHILE_ALIVE`
 * dials in a row failed a second or more apart ({@link dialFailed}): slow is better than none.
 */
export class Connections {
  private readonly host: Host
  private readonly clock: Clock
  /** Per peer: ids of the connections that were open when this node last marked it down. */
  private readonly stale = new Map<string, Set<string>>()
  /** Per peer with stale connections: dials past them that failed in a row while it was heard, at least `RECONNECT_BACKOFF_MS` apart, and when the last counted. */
  private readonly failedWhileAlive = new Map<string, { n: number, at: number }>()

  constructor (host: Host, clock: Clock) {
    this.host = host
    this.clock = clock
    host.addEventListener('connection:open', (evt) => { this.opened(evt.detail) })
    host.addEventListener('connection:close', (evt) => { this.closed(evt.detail) })
  }

  /** This node marked `peerId` down: its open connections are stale. */
  markedDown (peerId: string): void {
    const open = this.all(peerId).filter(c => c.status === 'open')
    if (open.length === 0) return
    const ids = this.stale.get(peerId) ?? new Set<string>()
    for (const c of open) ids.add(c.id)
    this.stale.set(peerId, ids)
  }

  /** True while a stale connection to the peer is open: a dial then makes a new one (`force`). */
  hasStale (peerId: string): boolean {
    return this.stale.has(peerId)
  }

  /** True when `conn` to the peer is stale. */
  isStale (peerId: string, conn: Connection): boolean {
    return this.stale.get(peerId)?.has(conn.id) === true
  }

  /** The newest open connection to the peer that is not stale, if any. */
  newestOpen (peerId: string): Connection | undefined {
    const ids = this.stale.get(peerId)
    let newest: Connection | undefined
    for (const c of this.all(peerId)) {
      if (c.status !== 'open' || ids?.has(c.id) === true) continue
      if (newest === undefined || c.timeline.open >= newest.timeline.open) newest = c
    }
    return newest
  }

  /** True when any connection to the peer is open, stale or not. */
  anyOpen (peerId: string): boolean {
    return this.all(peerId).some(c => c.status === 'open')
  }

  /** The peer's connections are in use again, stale or not. */
  unstale (peerId: string): void {
    this.stale.delete(peerId)
    this.failedWhileAlive.delete(peerId)
  }

  /** A dial to the peer went through. */
  dialed (peerId: string): void {
    this.failedWhileAlive.delete(peerId)
  }

  /**
   * A dial to the peer failed; `alive`: the view hears it. Past stale connections, one that
   * keeps failing while the peer is heard gives them back (see the class); one cut short by
   * the heal itself, before the peer was heard again, does not count, nor do failures
   * closer together than `RECONNECT_BACKOFF_MS` (calls that each dialled at once).
   */
  dialFailed (peerId: string, alive: boolean): void {
    if (!this.stale.has(peerId)) return
    if (!alive) {
      this.failedWhileAlive.delete(peerId)
      return
    }
    const now = this.clock.monotonic()
    const last = this.failedWhileAlive.get(peerId)
    if (last !== undefined && now - last.at < RECONNECT_BACKOFF_MS) return
    const n = (last?.n ?? 0) + 1
    if (n >= STALE_DIALS_WHILE_ALIVE) this.unstale(peerId)
    else this.failedWhileAlive.set(peerId, { n, at: now })
  }

  private opened (conn: Connection): void {
    const peerId = conn.remotePeer.toString()
    const ids = this.stale.get(peerId)
    if (ids === undefined || ids.has(conn.id)) return
    for (const c of this.all(peerId)) {
      if (ids.has(c.id)) c.abort(new Error('a newer connection to the peer opened after a cut'))
    }
  }

  private closed (conn: Connection): void {
    const peerId = conn.remotePeer.toString()
    const ids = this.stale.get(peerId)
    if (ids === undefined || !ids.delete(conn.id)) return
    if (ids.size === 0) this.unstale(peerId)
  }

  private all (peerId: string): Connection[] {
    try {
      return this.host.getConnections(peerIdFromString(peerId))
    } catch {
      return []
    }
  }
}
