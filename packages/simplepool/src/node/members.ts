import type { Member } from '@simplepool/core'
import type { MemberInfo } from '../admin/admin-node.js'

/** Every member as `node.members()` shows it: this node's counts its own, the others' from their last records. */
export function memberInfos (members: readonly Member[], self: string, ownCounts: Record<string, number>, countsOf: (peerId: string) => Record<string, number> | undefined): MemberInfo[] {
  return members.map((m) => {
    const counts = m.peerId === self ? ownCounts : (countsOf(m.peerId) ?? {})
    const pools: Record<string, { target: number, count: number }> = {}
    for (const [name, p] of Object.entries(m.pools)) pools[name] = { target: p.target, count: counts[name] ?? 0 }
    return { peerId: m.peerId, status: m.status, liveness: m.liveness, addresses: m.addresses, pools }
  })
}

/** The members that may hold workers, as `members` shows them: `up` or `draining`, and not down (see `NodeOp.Holders`). */
export function holdersIn (members: readonly Member[]): string[] {
  return members.filter(m => (m.status === 'up' || m.status === 'draining') && m.liveness !== 'down').map(m => m.peerId)
}
