import type { Clock } from '@simplepool/core'

/**
 * Resolves after `ms` on `clock`: the node's polls wait on the injected clock, so a test
 * on a manual clock moves them by advancing it. The clock's timers do not keep the
 * process alive; a node that polls is running its host, which does.
 */
export async function sleep (clock: Clock, ms: number): Promise<void> {
  await new Promise<void>(resolve => { clock.setTimeout(resolve, ms) })
}
