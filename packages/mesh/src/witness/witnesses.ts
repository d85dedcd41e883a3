/**
 * A member's witnesses: the few members that watch it for the cluster (see
 * docs/design/membership-v2.md). Chosen by rendezvous hashing over the member list, so
 * every node that knows the same members names the same witnesses, and a member that
 * joins or leaves changes the witnesses of about `k` others, each by one.
 */
import { murmur3 } from '@simplepool/core'

/** The rank of `witness` for `subject`: higher is chosen first. */
export function witnessRank (subject: string, witness: string): number {
  return murmur3(`${subject}\u0000${witness}`)
}

/**
 * The `k` members of `members` (the subject itself left out) that rank highest for
 * `subject`, best first; all of them when there are `k` or fewer. Ties (equal ranks, in
 * about one pair in four billion) go to the smaller id. One pass, keeping the best `k`:
 * O(members × k), with no sort of the whole list.
 */
export function witnessesOf (subject: string, members: Iterable<string>, k: number): string[] {
  const best: Array<[string, number]> = []
  if (k <= 0) return []
  for (const m of members) {
    if (m === subject) continue
    const rank = witnessRank(subject, m)
    if (best.length === k && !before(m, rank, best[k - 1])) continue
    let i = best.length === k ? k - 1 : best.length
    if (best.length < k) best.push([m, rank])
    while (i > 0 && before(m, rank, best[i - 1])) {
      best[i] = best[i - 1]
      i--
    }
    best[i] = [m, rank]
  }
  return best.map(([m]) => m)
}

/** Whether `id` at `rank` ranks before `other`. */
function before (id: string, rank: number, other: [string, number]): boolean {
  return rank > other[1] || (rank === other[1] && id < other[0])
}
