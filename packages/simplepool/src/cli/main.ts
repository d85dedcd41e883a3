/**
 * `simplepool`, the operator's command line. `start` runs a node (and `demo` a small
 * cluster); every other command is a thin client of any node's admin HTTP API, which
 * answers for the whole cluster.
 *
 * Exit codes (see common.ts): 0 done; 1 unhealthy, not found or declined; 2 the admin
 * API could not be reached or refused; 64 the command line is wrong.
 */
import { parseArgs } from 'node:util'
import { CliError, EXIT, digits } from './common.js'
import type { Options } from './client.js'
import * as reads from './read-commands.js'
import * as writes from './write-commands.js'

interface Parsed { positionals: string[], values: Record<string, any> }

/** An admin command: its usage line, what it does, and how it runs. */
interface Command {
  usage: string
  about: string
  run: (o: Options, p: Parsed) => Promise<number>
}

const readArgs = (p: Parsed): reads.Args => ({
  positionals: p.positionals,
  diff: p.values.diff === true,
  follow: p.values.follow === true,
  scope: p.values.scope ?? 'cluster',
  ticks: p.values.ticks !== undefined ? positiveInt('--ticks', p.values.ticks) : undefined
})

const writeArgs = (p: Parsed): writes.WriteArgs => ({
  positionals: p.positionals,
  wait: p.values.wait === true,
  dryRun: p.values['dry-run'] === true,
  pools: p.values.pool,
  timeoutMs: p.values.timeout !== undefined ? positiveInt('--timeout', p.values.timeout) : undefined
})

const COMMANDS: Record<string, Command> = {
  status: { usage: 'status', about: 'the cluster at a glance; exit code 1 when it is not healthy', run: async o => await reads.status(o) },
  nodes: { usage: 'nodes', about: 'every member: status, liveness, health, workers', run: async o => await reads.nodes(o) },
  pools: { usage: 'pools', about: 'every pool: workers in all and per node', run: async o => await reads.pools(o) },
  ring: { usage: 'ring [--diff]', about: 'each pool\'s ring: agreement, target share against actual share (--diff: only what is off)', run: async (o, p) => await reads.ring(o, readArgs(p)) },
  where: { usage: 'where <pool> <id>', about: 'where a worker lives, why, and its moves', run: async (o, p) => await reads.where(o, readArgs(p)) },
  top: { usage: 'top [--ticks N]', about: 'the cluster live, redrawn once a second (Ctrl-C to leave)', run: async (o, p) => await reads.top(o, readArgs(p)) },
  events: { usage: 'events [-f] [--scope cluster|node]', about: 'membership, ring, migration, drain and failure events (-f: follow)', run: async (o, p) => await reads.events(o, readArgs(p)) },
  drain: { usage: 'drain <node> [--wait] [--pool P]... [--yes]', about: 'take a node out of service: its workers move to the others (--wait: a progress bar until done)', run: async (o, p) => await writes.drain(o, writeArgs(p)) },
  undrain: { usage: 'undrain <node> [--pool P]...', about: 'put a drained node back in service', run: async (o, p) => await writes.undrain(o, writeArgs(p)) },
  targets: { usage: 'targets set <node> <pool>=<n>... [--yes]', about: 'set a node\'s targets, its weights on the pools\' rings', run: async (o, p) => await writes.targets(o, writeArgs(p)) },
  rebalance: { usage: 'rebalance <pool> [--dry-run] [--yes]', about: 'hand every worker whose owner moved to it now (--dry-run: print the move plan only)', run: async (o, p) => await writes.rebalance(o, writeArgs(p)) },
  stop: { usage: 'stop <pool> <id> [--yes]', about: 'save and stop one worker now', run: async (o, p) => await writes.stop(o, writeArgs(p)) },
  call: { usage: 'call <pool> <id> <json> [--timeout MS]', about: 'call one worker with a JSON message and print its reply (or its named error)', run: async (o, p) => await writes.callWorker(o, writeArgs(p)) },
  cast: { usage: 'cast <pool> <id> <json>', about: 'send one worker a JSON message, with no reply', run: async (o, p) => await writes.castWorker(o, writeArgs(p)) }
}

/** Commands that run nodes rather than ask one: each parses its own options and is loaded only when used. */
const NODE_COMMANDS: Record<string, { usage: string, about: string, load: () => Promise<(argv: string[]) => Promise<number>> }> = {
  start: { usage: 'start --pools FILE [options]', about: 'run a node with the pools FILE exports until SIGINT/SIGTERM, then hand its workers over and leave (start --help: every option)', load: async () => (await import('./start.js')).start },
  id: { usage: 'id --key-file PATH', about: 'print the peer id of a node\'s key file (made when missing): what access rules name the node by', load: async () => (await import('./id.js')).id },
  demo: { usage: 'demo [--nodes N] [--workers N] [--admin-port N] [--seconds N]', about: 'node processes on 127.0.0.1 with traffic, and the dashboard\'s address (demo --help: every option)', load: async () => (await import('./demo.js')).demo }
}

const OPTIONS_HELP = `Options of the admin commands:
  --admin URL          a node's admin API (default $SIMPLEPOOL_ADMIN or http://127.0.0.1:9400)
  --token TOKEN        the admin token, for commands that change the cluster (default $SIMPLEPOOL_TOKEN)
  -o, --output FORMAT  table (default) or json
  -y, --yes            do it without asking (needed when there is no terminal to ask on)
  -h, --help           help; \`simplepool <command> --help\` for one command
`

const EXIT_HELP = `Exit codes: 0 done; 1 unhealthy, not found or declined; 2 the admin API is unreachable or refused
(start, demo: the pools module failed to load, or a node failed to start); 64 usage.
`

function usage (): string {
  const all = [...Object.entries(NODE_COMMANDS), ...Object.entries(COMMANDS)]
  const width = Math.max(...all.map(([, c]) => c.usage.length))
  return `simplepool <command> [options]

Commands:
${all.map(([, c]) => `  ${c.usage.padEnd(width)}  ${c.about}`).join('\n')}

${OPTIONS_HELP}
${EXIT_HELP}`
}

function commandHelp (c: Command): string {
  return `simplepool ${c.usage}\n\n${c.about}\n\n${OPTIONS_HELP}\n${EXIT_HELP}`
}

function positiveInt (name: string, text: string): number {
  const n = digits(text)
  if (n === undefined || n < 1) throw new CliError(EXIT.usage, `${name} must be an integer >= 1, got ${text}`)
  return n
}

/** Runs the command `argv` names (the arguments after `simplepool`); resolves with its exit code, or rejects with a `CliError` that carries one. */
export async function main (argv: string[]): Promise<number> {
  const nodeCommand = NODE_COMMANDS[argv[0]]
  if (nodeCommand !== undefined) return await (await nodeCommand.load())(argv.slice(1))
  let parsed: Parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        admin: { type: 'string' },
        token: { type: 'string' },
        output: { type: 'string', short: 'o', default: 'table' },
        yes: { type: 'boolean', short: 'y', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        diff: { type: 'boolean' },
        follow: { type: 'boolean', short: 'f' },
        scope: { type: 'string' },
        ticks: { type: 'string' },
        wait: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        timeout: { type: 'string' },
        pool: { type: 'string', multiple: true }
      }
    })
  } catch (err) {
    throw new CliError(EXIT.usage, `${(err as Error).message}\n\n${usage()}`)
  }
  const { values } = parsed
  const [name, ...positionals] = parsed.positionals
  if (name === 'help' && NODE_COMMANDS[positionals[0]] !== undefined) return await (await NODE_COMMANDS[positionals[0]].load())(['--help'])
  if (name === undefined || name === 'help') {
    const about = positionals[0] !== undefined ? COMMANDS[positionals[0]] : undefined
    process.stdout.write(about !== undefined ? commandHelp(about) : usage())
    return name === undefined && values.help !== true ? EXIT.usage : EXIT.ok
  }
  const command = COMMANDS[name]
  if (command === undefined) throw new CliError(EXIT.usage, `unknown command ${name}\n\n${usage()}`)
  if (values.help === true) {
    process.stdout.write(commandHelp(command))
    return EXIT.ok
  }
  if (values.output !== 'table' && values.output !== 'json') throw new CliError(EXIT.usage, `--output must be table or json, got ${String(values.output)}`)
  const admin = values.admin ?? process.env.SIMPLEPOOL_ADMIN ?? 'http://127.0.0.1:9400'
  try {
    void new URL(admin)
  } catch {
    throw new CliError(EXIT.usage, `--admin must be a URL such as http://127.0.0.1:9400, got ${admin}`)
  }
  const token = values.token ?? process.env.SIMPLEPOOL_TOKEN
  return await command.run({ admin, output: values.output, token: token === '' ? undefined : token, yes: values.yes === true }, { positionals, values })
}
