import { peerIdFromString } from '@libp2p/peer-id'

/** Whether `id` is a peer id in its string form (what access rules name members by): a typo would deny that member silently. */
export function isPeerId (id: string): boolean {
  try {
    peerIdFromString(id)
    return true
  } catch {
    return false
  }
}
