/**
 * `simplepool start`: runs one node of a cluster with the pools a module exports, until
 * SIGINT or SIGTERM; then hands its workers, with their state, to the nodes that stay,
 * and leaves. The line that says the node is up is the only one on stdout (`-o json`
 * makes it one JSON object, for scripts); everything else goes to stderr.
 */
import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { AccessRules, Pool } from '@simplepool/runtime'
import { CliError, EXIT, digits, onStopSignals, poolCount } from './common.js'
import type { SimplePoolNode } from '../node/simplepool-node.js'

const USAGE = `simplepool start --pools <module> [options]

Runs a node with the pools the module exports until SIGINT or SIGTERM, then hands its
workers to the other nodes and leaves (a second signal quits at once, exit code 130).

Options:
  --pools PATH           the module: an array of pools as its default export, a 'pools'
                         array, or else every pool it exports (made with definePool)
  --listen MULTIADDR     an address to listen on, repeatable (default /ip4/127.0.0.1/tcp/0)
  --announce MULTIADDR   an address the others dial this node at, repeatable, when it is
                         not a listen address (NAT, a container's mapped port, a DNS name)
  --bootstrap MULTIADDR  a node already in the cluster, repeatable (none: a new cluster)
  --key-file PATH        the node's identity: read, or made (mode 0600) when missing, so
                         its peer id stays the same across restarts (default: a new one)
  --target POOL=N        this node's target for a pool, repeatable (default the pool's own)
  --access PATH          the access rules, a JSON file (roles, pools, operations: see the
                         README's trust model); give every node the same (default: none,
                         every member of the cluster may do everything)
  --admin-port N         serve the admin API on this port; 0 takes a free one (default none)
  --admin-host HOST      the admin API's address (default 127.0.0.1); any other needs
                         a token, which every route but /healthz and /readyz then asks for
  --admin-open-reads     off loopback, serve the admin API's reads without the token
  --token TOKEN          bearer token for the admin API (default $SIMPLEPOOL_TOKEN), at
                         least 8 characters
  --cluster-key KEY      pre-shared key, 64 hex characters (default $SIMPLEPOOL_CLUSTER_KEY);
                         needed to listen on an address other than loopback
  --insecure             listen off loopback without a cluster key (a network you trust)
  --drain-timeout MS     how long a stop hands workers over before saving the rest (default 30000)
  -o, --output FORMAT    the ready line as table (default) or json
  -h, --help             this help
`

const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/0'

/**
 * Errors from `createNode` that mean a value the command line gave was wrong: the
 * library's option checks, and the multiaddr parser's (a bad `--listen`).
 */
const USAGE_ERRORS = new Set(['InvalidOptionError', 'InvalidMultiaddrError', 'ValidationError'])

/**
 * After a stop, the process exits by itself once nothing holds the event loop; if some
 * handle still does, it exits anyway this long after: an operator's stop must end.
 */
const EXIT_GRACE_MS = 3_000

/** The command line, checked. */
interface StartOptions {
  pools: string
  listen: string[]
  announce: string[]
  bootstrap: string[]
  keyFile?: string
  access?: string
  targets: string[]
  admin?: { port: number, host?: string, token?: string, openReads?: boolean }
  clusterKey?: string
  insecure: boolean
  drainTimeoutMs?: number
  output: 'table' | 'json'
}

const usage = (message: string): CliError => new CliError(EXIT.usage, `${message}\n(simplepool start --help for the options)`)

/** Parses and checks `argv`; undefined for `--help`. */
function parseOptions (argv: string[]): StartOptions | undefined {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        pools: { type: 'string' },
        listen: { type: 'string', multiple: true },
        bootstrap: { type: 'string', multiple: true },
        target: { type: 'string', multiple: true },
        'admin-port': { type: 'string' },
        'admin-host': { type: 'string' },
        'admin-open-reads': { type: 'boolean' },
        insecure: { type: 'boolean', default: false },
        token: { type: 'string' },
        'cluster-key': { type: 'string' },
        announce: { type: 'string', multiple: true },
        'key-file': { type: 'string' },
        access: { type: 'string' },
        'drain-timeout': { type: 'string' },
        output: { type: 'string', short: 'o', default: 'table' },
        help: { type: 'boolean', short: 'h', default: false }
      }
    }))
  } catch (err) {
    throw usage((err as Error).message)
  }
  if (values.help === true) return undefined
  if (values.pools === undefined || values.pools === '') throw usage('--pools is required: the module that exports the pools this node runs')
  if (values.output !== 'table' && values.output !== 'json') throw usage(`--output must be table or json, got ${String(values.output)}`)
  const portText = values['admin-port']
  if (portText === undefined && (values['admin-host'] !== undefined || values['admin-open-reads'] !== undefined)) throw usage(`--${values['admin-host'] !== undefined ? 'admin-host' : 'admin-open-reads'} needs --admin-port`)
  if (portText === undefined && values.token !== undefined) throw usage('--token is for the admin API: it needs --admin-port')
  let admin: StartOptions['admin']
  if (portText !== undefined) {
    const port = digits(portText)
    if (port === undefined || port > 65_535) throw usage(`--admin-port must be an integer in [0, 65535], got ${portText}`)
    const host = values['admin-host']
    if (host === '') throw usage('--admin-host must not be empty')
    const token = values.token ?? nonEmpty(process.env.SIMPLEPOOL_TOKEN)
    if (token !== undefined && token.length < 8) throw usage(`the admin token (${values.token !== undefined ? '--token' : '$SIMPLEPOOL_TOKEN'}) must be at least 8 characters`)
    admin = { port, host, token, openReads: values['admin-open-reads'] }
  }
  const drainText = values['drain-timeout']
  const drainTimeoutMs = drainText !== undefined ? digits(drainText) : undefined
  if (drainText !== undefined && drainTimeoutMs === undefined) throw usage(`--drain-timeout must be a number of milliseconds >= 0, got ${drainText}`)
  const listen = values.listen ?? [DEFAULT_LISTEN]
  const bootstrap = values.bootstrap ?? []
  const announce = values.announce ?? []
  if (values['key-file'] === '') throw usage('--key-file must not be empty')
  if (values.access === '') throw usage('--access must not be empty')
  for (const [name, addrs] of [['listen', listen], ['announce', announce], ['bootstrap', bootstrap]] as const) {
    const bad = addrs.find(a => !a.startsWith('/'))
    if (bad !== undefined) throw usage(`--${name} takes a multiaddr such as ${DEFAULT_LISTEN}, got ${bad}`)
  }
  return {
    pools: values.pools,
    listen,
    announce,
    bootstrap,
    keyFile: values['key-file'],
    access: values.access,
    targets: values.target ?? [],
    admin,
    clusterKey: values['cluster-key'] ?? nonEmpty(process.env.SIMPLEPOOL_CLUSTER_KEY),
    insecure: values.insecure,
    drainTimeoutMs,
    output: values.output
  }
}

const nonEmpty = (s: string | undefined): string | undefined => s === undefined || s === '' ? undefined : s

/** What `definePool` makes: a named object with `init` and `handle`. Recognised by shape, so a pool made by another copy of the library counts. */
function isPool (x: unknown): x is Pool<any, any, any> {
  if (x === null || typeof x !== 'object') return false
  const p = x as Record<string, unknown>
  return typeof p.name === 'string' && typeof p.init === 'function' && typeof p.handle === 'function'
}

/** An error's name and message, and the frame of the user's code that threw it when the stack names one: no stack dump. */
function describeError (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const at = err.stack?.split('\n').find(l => l.trim().startsWith('at ') && !l.includes('node:'))?.trim()
  return `${err.name}: ${err.message}${at !== undefined ? ` (${at})` : ''}`
}

/**
 * Imports the user's module (a path relative to the working directory) and finds its
 * pools: an array as the default export, else a `pools` array, else every exported pool.
 * A file that is not there, or exports no pools, is a usage error (64); a module that
 * fails to import is a load failure (2).
 */
async function loadPools (spec: string): Promise<Array<Pool<any, any, any>>> {
  const path = resolve(process.cwd(), spec)
  let isFile = false
  try {
    isFile = statSync(path).isFile()
  } catch {
    throw usage(`--pools ${spec}: no such file (${path})`)
  }
  if (!isFile) throw usage(`--pools ${spec}: not a file (${path})`)
  let mod: Record<string, unknown>
  try {
    mod = await import(pathToFileURL(path).href)
  } catch (err) {
    // the error of a syntax error in a module that is imported says where only on the console
    const hint = (err as Error)?.name === 'SyntaxError' ? `; node --check ${path} shows where` : ''
    throw new CliError(EXIT.unreachable, `cannot load the pools module ${path}: ${describeError(err)}${hint}`)
  }
  const asArray = (what: string, v: unknown): Array<Pool<any, any, any>> => {
    if (!Array.isArray(v)) throw usage(`${path}: ${what} must be an array of pools, got ${typeof v}`)
    const bad = v.findIndex(p => !isPool(p))
    if (bad >= 0) throw usage(`${path}: ${what}[${bad}] is not a pool (make pools with definePool), got ${typeof v[bad]}`)
    return v
  }
  let pools: Array<Pool<any, any, any>>
  if (Array.isArray(mod.default)) pools = asArray('the default export', mod.default)
  else if (mod.pools !== undefined) pools = asArray("the export 'pools'", mod.pools)
  // a pool exported twice (named and default) is one pool
  else pools = [...new Set(Object.values(mod).filter(isPool))]
  if (pools.length === 0) {
    throw usage(`${path} exports no pools: export each pool made with definePool, or a 'pools' array, or an array of pools as the default export`)
  }
  const names = new Set<string>()
  for (const p of pools) {
    if (names.has(p.name)) throw usage(`${path}: two pools are named ${p.name}`)
    names.add(p.name)
  }
  return pools
}

/** The rules of `--access PATH`, parsed (`createNode` checks them): a file that is not there or is no JSON is a usage error. */
function accessOf (path: string | undefined): unknown {
  if (path === undefined) return undefined
  let text: string
  try {
    text = readFileSync(resolve(process.cwd(), path), 'utf8')
  } catch (err) {
    throw usage(`--access ${path}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw usage(`--access ${path} is not JSON: ${(err as Error).message}`)
  }
}

/** `--target pool=n` options as a targets map, each pool checked against the module's. */
function targetsOf (specs: string[], pools: ReadonlyArray<Pool<any, any, any>>): Record<string, number> | undefined {
  if (specs.length === 0) return undefined
  const known = pools.map(p => p.name)
  const targets: Record<string, number> = {}
  for (const spec of specs) {
    const target = poolCount(spec)
    if (target === undefined) throw usage(`--target takes POOL=N with N an integer >= 0, got ${spec}`)
    const [pool, n] = target
    if (!known.includes(pool)) throw usage(`--target ${spec}: the module has no pool ${pool} (its pools: ${known.join(', ')})`)
    if (targets[pool] !== undefined) throw usage(`--target names pool ${pool} twice`)
    targets[pool] = n
  }
  return targets
}

/** The admin API's URL as bound (`0.0.0.0` or `::`: every interface, this machine's loopback included). */
function adminUrl (a: { host: string, port: number }): string {
  return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
}

/** The request to stop: the first SIGINT or SIGTERM (or the parent's IPC channel closing); a second signal quits at once. */
interface StopRequest {
  readonly promise: Promise<string>
  readonly requested: boolean
  dispose: () => void
}

/**
 * Listens for the signals that stop the node from now on, so that one arriving while the
 * node starts is not lost. A process started with an IPC channel (by `simplepool demo`)
 * also stops when its parent goes away, so a parent that dies leaves no node behind.
 */
function listenForStop (): StopRequest {
  let requested = false
  let stopRequested!: (why: string) => void
  const promise = new Promise<string>(resolve => { stopRequested = resolve })
  const signals = onStopSignals(['SIGINT', 'SIGTERM'], (why) => {
    requested = true
    stopRequested(why)
  }, (signal) => {
    process.stderr.write(`${signal} again: quitting at once\n`)
    process.exit(130)
  })
  const onDisconnect = (): void => { signals.fire('parent gone') }
  if (process.channel != null) {
    process.on('disconnect', onDisconnect)
    // the channel is only a tripwire: it must not keep the process alive after the stop
    process.channel.unref()
  }
  return {
    promise,
    get requested () { return requested },
    dispose: () => {
      signals.dispose()
      process.off('disconnect', onDisconnect)
    }
  }
}

/** This node's workers, over its pools. */
function held (node: SimplePoolNode): number {
  let n = 0
  for (const view of node.runtime.poolViews()) n += view.size
  return n
}

/**
 * `simplepool start`: the arguments after the command name; resolves with the exit code
 * once the node has stopped. 0 after a graceful stop; 64 for a wrong command line or a
 * module without pools; 2 when the module fails to load or the node fails to start or stop.
 */
export async function start (argv: string[]): Promise<number> {
  const o = parseOptions(argv)
  if (o === undefined) {
    process.stdout.write(USAGE)
    return EXIT.ok
  }
  const pools = await loadPools(o.pools)
  const targets = targetsOf(o.targets, pools)
  const access = accessOf(o.access)
  const stop = listenForStop()
  const stopping = stop.promise.then((why) => {
    process.stderr.write(o.drainTimeoutMs === 0
      ? `stopping: saving workers and leaving the cluster... (${why}; a second signal quits at once)\n`
      : `stopping: handing workers to the other nodes... (${why}; a second signal quits at once)\n`)
  })
  // the library loads only once the command line is known good: mistakes are answered at once
  const { createNode, loadKeyFile } = await import('../index.js')
  let node: SimplePoolNode
  try {
    const identity = o.keyFile === undefined ? undefined : await loadKeyFile(o.keyFile)
    if (identity?.created === true) process.stderr.write(`simplepool: made a new identity in ${String(o.keyFile)}\n`)
    if (identity?.exposed === true) process.stderr.write(`simplepool: warning: key file ${String(o.keyFile)} may be read by others than its owner (chmod 600 it)\n`)
    node = await createNode({
      pools,
      targets,
      listen: o.listen,
      announceAddresses: o.announce,
      bootstrap: o.bootstrap,
      clusterKey: o.clusterKey,
      insecure: o.insecure,
      admin: o.admin,
      ...(access !== undefined ? { access: access as AccessRules } : {}),
      ...(identity !== undefined ? { privateKey: identity.privateKey } : {})
    })
  } catch (err) {
    stop.dispose()
    const e = err as Error
    throw new CliError(USAGE_ERRORS.has(e.name) ? EXIT.usage : EXIT.unreachable, `the node did not start: ${e.name}: ${e.message}`)
  }
  const admin = node.adminAddress !== undefined ? adminUrl(node.adminAddress) : null
  if (!stop.requested) {
    const names = pools.map(p => p.name)
    process.stdout.write(o.output === 'json'
      ? `${JSON.stringify({ node: node.peerId, addresses: node.addresses, admin, pools: names })}\n`
      : `simplepool: node ${node.peerId} up, pools ${names.join(', ')}; listening on ${node.addresses.join(' ')}; ${admin !== null ? `admin ${admin}` : 'no admin API'}\n`)
  }
  await stopping
  const started = performance.now()
  const before = held(node)
  try {
    await node.stop({ drainTimeoutMs: o.drainTimeoutMs })
  } catch (err) {
    throw new CliError(EXIT.unreachable, `the node did not stop cleanly: ${describeError(err)}`)
  } finally {
    stop.dispose()
    setTimeout(() => { process.exit() }, EXIT_GRACE_MS).unref()
  }
  process.stderr.write(`stopped in ${((performance.now() - started) / 1000).toFixed(1)} s (it held ${before} workers)\n`)
  return EXIT.ok
}
