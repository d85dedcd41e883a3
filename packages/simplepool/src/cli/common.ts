/** What every `simplepool` command shares: its exit codes and the error that carries one. */

/**
 * Exit codes: 0 done (and, for `status`, the cluster is healthy); 1 the cluster is
 * unhealthy or what was asked for does not exist; 2 the admin API could not be reached or
 * answered with an error (or a node failed to start); 64 the command line is wrong.
 */
export const EXIT = { ok: 0, unhealthy: 1, unreachable: 2, usage: 64 } as const

/** A failure that ends the command with `code` and prints `message`. */
export class CliError extends Error {
  constructor (readonly code: number, message: string) {
    super(message)
  }
}

/** A non-negative integer written in decimal digits (no sign, no exponent), or undefined. */
export function digits (text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined
}

/** `pool=n` (a target, as `start --target` and `targets set` take it), or undefined when it is not one. */
export function poolCount (spec: string): [string, number] | undefined {
  const eq = spec.lastIndexOf('=')
  const n = eq > 0 ? digits(spec.slice(eq + 1)) : undefined
  return n === undefined ? undefined : [spec.slice(0, eq), n]
}

/**
 * The signals that end a long-running command: the first calls `first` (the command stops
 * in order), a second calls `again` (it quits at once). Returns how to stop listening.
 */
export function onStopSignals (signals: readonly NodeJS.Signals[], first: (name: string) => void, again: (name: string) => void): { fire: (name: string) => void, dispose: () => void } {
  let fired = false
  const fire = (name: string): void => {
    if (fired) {
      again(name)
      return
    }
    fired = true
    first(name)
  }
  const handlers = signals.map(s => [s, () => { fire(s) }] as const)
  for (const [s, h] of handlers) process.on(s, h)
  return { fire, dispose: () => { for (const [s, h] of handlers) process.off(s, h) } }
}
