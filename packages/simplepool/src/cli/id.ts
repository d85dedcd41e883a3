/**
 * `simplepool id --key-file PATH`: prints the peer id a node's key file proves (making the
 * file, mode 0600, when it is missing), so that access rules can name a node before it
 * first starts. The id is the only line on stdout.
 */
import { parseArgs } from 'node:util'
import { CliError, EXIT } from './common.js'

const USAGE = `simplepool id --key-file PATH

Prints the peer id of the node whose identity PATH holds (made, mode 0600, when missing):
what access rules name that node by. Start the node with the same --key-file.
`

export async function id (argv: string[]): Promise<number> {
  let values
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { 'key-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }))
  } catch (err) {
    throw new CliError(EXIT.usage, `${(err as Error).message}\n(simplepool id --help)`)
  }
  if (values.help === true) {
    process.stdout.write(USAGE)
    return EXIT.ok
  }
  const path = values['key-file']
  if (path === undefined || path === '') throw new CliError(EXIT.usage, '--key-file is required: the file that holds (or is to hold) the node\'s identity')
  const { loadKeyFile } = await import('@simplepool/mesh')
  try {
    const key = await loadKeyFile(path)
    if (key.created) process.stderr.write(`simplepool: made a new identity in ${path}\n`)
    process.stdout.write(`${key.peerId}\n`)
  } catch (err) {
    throw new CliError(EXIT.usage, `${(err as Error).name}: ${(err as Error).message}`)
  }
  return EXIT.ok
}
