import type { Clock } from '@simplepool/core'

/**
 * Resolves after `ms` on `clock`: the node's polls wait on the injected clock, so a test
 * on a manual clock moves them by advancing it. The system clock's timers do not keep the
 * process alive: a poll does not hold up an exit.
 */
export async function sleep (clock: Clock, ms: number): Promise<void> {
  await new Promise<void>(resolve => { clock.setTimeout(resolve, ms) })
}
