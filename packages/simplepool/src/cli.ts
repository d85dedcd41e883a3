#!/usr/bin/env node
/**
 * `simplepool`, the operator's command line: a thin client of a node's admin HTTP API
 * (any node answers for the whole cluster). Read commands for now: status, nodes, pools,
 * ring, where.
 *
 * Exit codes: 0 done (and, for `status`, the cluster is healthy); 1 the cluster is
 * unhealthy or what was asked for does not exist; 2 the admin API could not be reached or
 * answered with an error; 64 the command line is wrong.
 */
import { parseArgs } from 'node:util'

const EXIT = { ok: 0, unhealthy: 1, unreachable: 2, usage: 64 } as const

const USAGE = `simplepool <command> [options]

Commands:
  status               the cluster at a glance; exit code 1 when it is not healthy
  nodes                every member: status, liveness, health, workers
  pools                every pool: workers in all and per node
  ring                 each pool's ring: agreement, target share against actual share
  where <pool> <id>    where a worker lives, and its epoch

Options:
  --admin URL          a node's admin API (default $SIMPLEPOOL_ADMIN or http://127.0.0.1:9400)
  -o, --output FORMAT  table (default) or json
  -h, --help           this help
`

class CliError extends Error {
  constructor (readonly code: number, message: string) {
    super(message)
  }
}

interface Options { admin: string, output: 'table' | 'json' }

async function get (o: Options, path: string): Promise<{ status: number, body: any }> {
  let res: Response
  try {
    res = await fetch(new URL(path, o.admin), { signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    throw new CliError(EXIT.unreachable, `cannot reach the admin API at ${o.admin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`)
  }
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body }
}

/** The body of a 200, or the API's named error as a CliError (404: 1, anything else: 2). */
async function read (o: Options, path: string): Promise<any> {
  const { status, body } = await get(o, path)
  if (status === 200) return body
  const e = body?.error
  throw new CliError(status === 404 ? EXIT.unhealthy : EXIT.unreachable, e !== undefined ? `${String(e.name)}: ${String(e.message)}` : `HTTP ${status}`)
}

/** Rows as an aligned plain-text table. */
function table (rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(none)'
  const cols = Object.keys(rows[0])
  const cells = rows.map(r => cols.map(c => String(r[c] ?? '')))
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map(r => r[i].length)))
  const line = (v: string[]): string => v.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd()
  return [line(cols.map(c => c.toUpperCase())), ...cells.map(line)].join('\n')
}

const short = (peer: string): string => peer.length > 12 ? `…${peer.slice(-8)}` : peer
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

function print (o: Options, json: unknown, text: () => string): void {
  process.stdout.write(o.output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`)
}

const COMMANDS: Record<string, (o: Options, args: string[]) => Promise<number>> = {
  status: async (o) => {
    const cluster = await read(o, '/v1/cluster')
    const ready = await get(o, '/readyz')
    const down = (cluster.liveness?.down as number | undefined) ?? 0
    const healthy = ready.status === 200 && cluster.ringAgreed === true && down === 0
    const reasons = ready.status === 200 ? [] : [String(ready.body?.error?.message ?? `readyz ${ready.status}`)]
    if (down > 0) reasons.push(`${down} member(s) down`)
    print(o, { healthy, reasons, ...cluster }, () => [
      `cluster   ${healthy ? 'healthy' : 'NOT healthy'}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`,
      `members   ${String(cluster.members)} (${Object.entries(cluster.liveness ?? {}).map(([k, v]) => `${String(v)} ${k}`).join(', ')})`,
      `pools     ${(cluster.pools as string[]).join(', ')}`,
      `workers   ${Number(cluster.workers).toLocaleString('en-US')}`,
      `ring      ${cluster.ringAgreed === true ? 'every member agrees' : 'members DISAGREE'}`,
      `asked     ${String(cluster.node)}`
    ].join('\n'))
    return healthy ? EXIT.ok : EXIT.unhealthy
  },

  nodes: async (o) => {
    const nodes = await read(o, '/v1/nodes') as any[]
    print(o, nodes, () => table(nodes.map(n => ({
      node: short(n.node),
      self: n.self === true ? '*' : '',
      status: n.status,
      liveness: n.liveness,
      health: n.health?.status ?? (n.health?.error !== undefined ? `unreachable (${String(n.health.error.name)})` : '-'),
      workers: Object.values(n.pools as Record<string, { count: number }>).reduce((s, p) => s + p.count, 0),
      'loop p99 ms': n.health?.eventLoopDelayP99Ms !== undefined ? Number(n.health.eventLoopDelayP99Ms).toFixed(1) : ''
    }))))
    return EXIT.ok
  },

  pools: async (o) => {
    const pools = await read(o, '/v1/pools') as any[]
    print(o, pools, () => table(pools.flatMap(p => (p.nodes as any[]).map((n, i) => ({
      pool: i === 0 ? p.pool : '',
      workers: i === 0 ? p.workers : '',
      node: short(n.node),
      target: n.target,
      count: n.count
    })))))
    return EXIT.ok
  },

  ring: async (o) => {
    const ring = await read(o, '/v1/ring')
    print(o, ring, () => [
      `ring version ${String(ring.version)} on ${short(ring.node)}; ${ring.agreed === true ? 'every member agrees' : 'members DISAGREE'}`,
      table((ring.pools as any[]).flatMap(p => (p.nodes as any[]).map((n, i) => ({
        pool: i === 0 ? p.pool : '',
        node: short(n.node),
        target: n.target,
        'should hold': pct(n.targetShare),
        holds: pct(n.share),
        'same ring': n.sameRing === true ? 'yes' : 'NO'
      }))))
    ].join('\n'))
    return ring.agreed === true ? EXIT.ok : EXIT.unhealthy
  },

  where: async (o, args) => {
    if (args.length !== 2) throw new CliError(EXIT.usage, 'usage: simplepool where <pool> <id>')
    const w = await read(o, `/v1/workers/${encodeURIComponent(args[0])}/${encodeURIComponent(args[1])}`)
    print(o, w, () => `${String(w.pool)}/${String(w.id)} lives on ${String(w.node)} (epoch ${String(w.epoch)})`)
    return EXIT.ok
  }
}

async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        admin: { type: 'string' },
        output: { type: 'string', short: 'o', default: 'table' },
        help: { type: 'boolean', short: 'h', default: false }
      }
    })
  } catch (err) {
    throw new CliError(EXIT.usage, `${(err as Error).message}\n\n${USAGE}`)
  }
  const { values, positionals } = parsed
  const [command, ...args] = positionals
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined && values.help !== true ? EXIT.usage : EXIT.ok
  }
  const run = COMMANDS[command]
  if (run === undefined) throw new CliError(EXIT.usage, `unknown command ${command}\n\n${USAGE}`)
  if (values.output !== 'table' && values.output !== 'json') throw new CliError(EXIT.usage, `--output must be table or json, got ${String(values.output)}`)
  const admin = values.admin ?? process.env.SIMPLEPOOL_ADMIN ?? 'http://127.0.0.1:9400'
  try {
    void new URL(admin)
  } catch {
    throw new CliError(EXIT.usage, `--admin must be a URL such as http://127.0.0.1:9400, got ${admin}`)
  }
  return await run({ admin, output: values.output }, args)
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    const e = err as Error
    process.stderr.write(`simplepool: ${e.message}\n`)
    process.exitCode = err instanceof CliError ? err.code : EXIT.unreachable
  }
)
