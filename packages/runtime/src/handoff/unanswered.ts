import { NodeUnavailableError } from '@simplepool/core'
import type { Logger } from '@simplepool/core'
import type { Activation } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'

/**
 * A handoff went unanswered (every try timed out, or its receiver `to` was marked down
 * with it in flight): `to` may have taken the workers and be taking turns with them where
 * this node cannot hear it (a link cut one way: its answers are lost), writing their
 * state to the pool's store with a newer epoch. A copy resumed here would be behind the
 * store and keep serving what it holds (seeds 95, 527). The pool has `load`, so the
 * store is where the state is sure to be: each copy here is saved and deactivated
 * (`worker:passivate`, reason `handoff`; what waits for it brings it back from `load`),
 * and if the store refuses the save (a newer copy wrote), it goes unsaved and what waited
 * fails with `NodeUnavailableError`. A pool with `load` and no `save` writes as it goes:
 * its copies go at once. (A pool without `load` has nothing better than the copy here:
 * the sender resumes it, and a later handoff settles which copy is newer.)
 */
export function backToStore (local: LocalPool, to: string, acts: readonly Activation[]): void {
  for (const act of acts) {
    if (local.activations.get(act.id) !== act) continue
    local.cancelHandoff(act)
    if (local.def.save !== undefined) {
      local.passivation.passivate(act, 'handoff', null)
      continue
    }
    local.depart(act, 'stale')
    local.failMailbox(act, new NodeUnavailableError(`the handoff of ${local.name}/${act.id} to ${to} went unanswered; retry: it comes back from the store`, { node: to, pool: local.name, id: act.id }))
  }
}

/**
 * Workers whose handoff to `to` went unanswered (or was answered `forgotten`): `to` may
 * have taken them. Those of a pool with `load` go back to the store ({@link backToStore});
 * the others, with no truer copy anywhere, stay here and are tried again later (`park`):
 * a later handoff settles which copy is newer.
 */
export function unanswered (local: LocalPool, to: string, acts: readonly Activation[], logger: Logger, park: () => void): void {
  if (local.def.load !== undefined) {
    logger.warn(`handoff of ${acts.length} workers of ${local.name} to ${to} went unanswered; their copies here go back to the store`)
    backToStore(local, to, acts)
    return
  }
  logger.warn(`handoff of ${acts.length} workers of ${local.name} to ${to} went unanswered; they stay here`)
  for (const act of acts) local.cancelHandoff(act)
  park()
}
