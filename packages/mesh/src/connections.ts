import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import type { Host } from './host.js'

/**
 * Which connection to a peer the mesh uses. After a cut heals, a connection that carried
 * nothing across it waits out the kernel's retransmission backoff (seconds, doubling over
 * the cut) while a new one works at once. (Closing such an older connection when a new
 * one opens would fail what is in flight on it with `NodeUnavailableError`, which a claim
 * reads as "gone": not done.)
 */

/** The newest open connection to the peer, if any. */
export function newestOpen (host: Host, peerId: string): Connection | undefined {
  let pid
  try {
    pid = peerIdFromString(peerId)
  } catch {
    return undefined
  }
  let newest: Connection | undefined
  for (const c of host.getConnections(pid)) {
    if (c.status === 'open' && (newest === undefined || c.timeline.open >= newest.timeline.open)) newest = c
  }
  return newest
}
