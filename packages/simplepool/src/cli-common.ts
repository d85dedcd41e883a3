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
