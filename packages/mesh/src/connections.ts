import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import type { Host } from './host.js'

/**
 * Which connection to a peer the mesh uses. After a cut heals, a connection that was open
 * across it waits out the kernel's retransmission backoff (seconds, doubling over the
 * cut: what was sent on it during the cut goes again only when its timer says, and all
 * sent after waits behind it), while a new one works at once. So the connections open
 * when this node marks a peer down are stale: streams open on a newer one, a dial to the
 * peer makes a new one though they are open, and once a new one opens they are aborted
 * (a reset, which reaches the peer at once, where a close would queue behind the stuck
 * bytes). Aborted then, before the new one's identify, gossipsub's stream to the peer on
 * the stale one closes and the new connection's gets one of its own (gossipsub opens a
 * stream on a new connection only when it has none). What was in flight on a stale
 * connection failed already when the peer was marked down.
 */
export class Connections {
  private readonly host: Host
  /** Per peer: ids of the connections that were open when this node last marked it down. */
  private readonly stale = new Map<string, Set<string>>()

  constructor (host: Host) {
    this.host = host
    host.addEventListener('connection:open', (evt) => { this.opened(evt.detail) })
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
    const ids = this.stale.get(peerId)
    if (ids === undefined) return false
    if (this.all(peerId).some(c => ids.has(c.id) && c.status === 'open')) return true
    this.stale.delete(peerId)
    return false
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

  /** Forgets a peer the view forgot. */
  forget (peerId: string): void {
    this.stale.delete(peerId)
  }

  private opened (conn: Connection): void {
    const peerId = conn.remotePeer.toString()
    const ids = this.stale.get(peerId)
    if (ids === undefined || ids.has(conn.id)) return
    this.stale.delete(peerId)
    for (const c of this.all(peerId)) {
      if (ids.has(c.id)) c.abort(new Error('a newer connection to the peer opened after a cut'))
    }
  }

  private all (peerId: string): Connection[] {
    try {
      return this.host.getConnections(peerIdFromString(peerId))
    } catch {
      return []
    }
  }
}
