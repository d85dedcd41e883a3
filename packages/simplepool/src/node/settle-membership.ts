/**
 * A joining node waits, before it takes work, until it knows the cluster: until no new
 * member has appeared for two heartbeats (at most 5 s). A node that took work knowing
 * only its bootstrap node would activate workers that others still hold, instead of
 * claiming them.
 */
import type { Clock } from '@simplepool/core'
import { SETTLE_MAX_MS, SETTLE_POLL_MS, SETTLE_QUIET_MS, sleep } from '@simplepool/core'

/** What the wait reads: the clock it polls on, and how many members the view has now. */
export interface SettleComponents {
  clock: Clock
  memberCount: () => number
}

/** Resolves once the member count has held still for {@link SETTLE_QUIET_MS} with another member in view, or after {@link SETTLE_MAX_MS}. */
export async function settleMembership (c: SettleComponents): Promise<void> {
  const { clock } = c
  const started = clock.monotonic()
  let members = c.memberCount()
  let changedAt = started
  while (clock.monotonic() - started < SETTLE_MAX_MS) {
    await sleep(clock, SETTLE_POLL_MS)
    const now = c.memberCount()
    if (now !== members) {
      members = now
      changedAt = clock.monotonic()
    } else if (members > 1 && clock.monotonic() - changedAt >= SETTLE_QUIET_MS) {
      return
    }
  }
}
