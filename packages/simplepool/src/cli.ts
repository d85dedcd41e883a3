#!/usr/bin/env node
/**
 * The `simplepool` bin: runs the command the arguments name (cli/main.ts) and exits with
 * its code; an error is printed as one line, with the exit code it carries (see
 * cli/common.ts), or 2.
 */
import { main } from './cli/main.js'
import { CliError, EXIT } from './cli/common.js'

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    const e = err as Error
    process.stderr.write(`simplepool: ${e.message}\n`)
    process.exitCode = err instanceof CliError ? err.code : EXIT.unreachable
  }
)
