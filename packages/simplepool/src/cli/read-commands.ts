/** The `simplepool` commands that only read: status, nodes, pools, ring, where, top, events. */
import { CliError, EXIT } from './common.js'
import { failure, read, request, stream } from './client.js'
import type { Options, StreamEvent } from './client.js'
import { ANSI, live, mb, ms, num, pct, print, short, table } from './format.js'

/** What a command gets besides the options: its positional arguments and its own flags. */
export interface Args { positionals: string[], diff: boolean, follow: boolean, scope: string, ticks?: number }

export async function status (o: Options): Promise<number> {
  const cluster = await read(o, '/v1/cluster')
  const ready = await request(o, 'GET', '/readyz')
  const down = (cluster.liveness?.down as number | undefined) ?? 0
  const healthy = ready.status === 200 && cluster.ringAgreed === true && down === 0
  const reasons = ready.status === 200 ? [] : [String(ready.body?.error?.message ?? `readyz ${ready.status}`)]
  if (down > 0) reasons.push(`${down} member(s) down`)
  print(o, { healthy, reasons, ...cluster }, () => [
    `cluster   ${healthy ? 'healthy' : 'NOT healthy'}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`,
    `members   ${String(cluster.members)} (${Object.entries(cluster.liveness ?? {}).map(([k, v]) => `${String(v)} ${k}`).join(', ')})`,
    `pools     ${(cluster.pools as string[]).join(', ')}`,
    `workers   ${num(Number(cluster.workers))}`,
    `ring      ${cluster.ringAgreed === true ? 'every member agrees' : 'members DISAGREE'}`,
    `asked     ${String(cluster.node)}`
  ].join('\n'))
  return healthy ? EXIT.ok : EXIT.unhealthy
}

export async function nodes (o: Options): Promise<number> {
  const list = await read(o, '/v1/nodes') as any[]
  print(o, list, () => table(list.map(n => ({
    node: short(n.node),
    self: n.self === true ? '*' : '',
    status: n.status,
    liveness: n.liveness,
    health: n.health?.status ?? (n.health?.error !== undefined ? `unreachable (${String(n.health.error.name)})` : '-'),
    workers: Object.values(n.pools as Record<string, { count: number }>).reduce((s, p) => s + p.count, 0),
    'loop p99 ms': n.health?.eventLoopDelayP99Ms !== undefined ? Number(n.health.eventLoopDelayP99Ms).toFixed(1) : ''
  }))))
  return EXIT.ok
}

export async function pools (o: Options): Promise<number> {
  const list = await read(o, '/v1/pools') as any[]
  print(o, list, () => table(list.flatMap(p => (p.nodes as any[]).map((n, i) => ({
    pool: i === 0 ? p.pool : '',
    workers: i === 0 ? p.workers : '',
    node: short(n.node),
    target: n.target,
    count: n.count
  })))))
  return EXIT.ok
}

/** Each pool's ring; with `--diff`, only what is off: rings that differ and shares away from their target. */
export async function ring (o: Options, a: Args): Promise<number> {
  const r = await read(o, '/v1/ring')
  const rows = (r.pools as any[]).flatMap(p => (p.nodes as any[]).map((n) => ({ pool: p.pool, ...n, drift: n.share - n.targetShare })))
  // off: another ring, or more than 5 points from its share (a ring places by hashing: a few points are the norm)
  const shown = a.diff ? rows.filter(n => n.sameRing !== true || Math.abs(n.drift) > 0.05) : rows
  const json = a.diff ? { node: r.node, version: r.version, agreed: r.agreed, unreachable: r.unreachable, off: shown } : r
  print(o, json, () => [
    `ring version ${String(r.version)} on ${short(r.node)}; ${r.agreed === true ? 'every member agrees' : 'members DISAGREE'}`,
    ...(r.unreachable as any[]).map(u => `  ${short(u.node)} did not answer: ${String(u.error)}`),
    a.diff && shown.length === 0
      ? 'no difference: every member has the same rings, and every share is within 5 points of its target'
      : table(shown.map((n, i) => ({
        pool: i === 0 || shown[i - 1].pool !== n.pool ? n.pool : '',
        node: short(n.node),
        target: n.target,
        'should hold': pct(n.targetShare),
        holds: pct(n.share),
        drift: `${n.drift >= 0 ? '+' : ''}${(n.drift * 100).toFixed(1)}`,
        'same ring': n.sameRing === true ? 'yes' : 'NO'
      })))
  ].join('\n'))
  return r.agreed === true ? EXIT.ok : EXIT.unhealthy
}

/** Where a worker lives, why, and its moves. */
export async function where (o: Options, a: Args): Promise<number> {
  if (a.positionals.length !== 2) throw new CliError(EXIT.usage, 'usage: simplepool where <pool> <id>')
  const [pool, id] = a.positionals
  const r = await request(o, 'GET', `/v1/workers/${encodeURIComponent(pool)}/${encodeURIComponent(id)}`)
  if (r.status === 404 && r.body?.error?.name === 'WorkerNotAliveError') {
    print(o, { live: false, ...r.body }, () => [
      `${pool}/${id} is not live${r.body.owner !== undefined ? `; its owner would be ${String(r.body.owner)}` : ''}`,
      ...moves(r.body.moves)
    ].join('\n'))
    return EXIT.unhealthy
  }
  if (r.status !== 200) throw failure(o, r)
  const w = r.body
  print(o, w, () => [
    `${String(w.pool)}/${String(w.id)} lives on ${String(w.node)} (epoch ${String(w.epoch)}, ${String(w.mailbox)} waiting in its mailbox)`,
    `why: ${String(w.why)}: ${String(w.detail)}`,
    ...moves(w.moves)
  ].join('\n'))
  return EXIT.ok
}

function moves (list: any[] | undefined): string[] {
  if (list === undefined || list.length === 0) return ['moves: none remembered']
  return ['moves:', ...list.map(m => `  ${new Date(m.at as number).toISOString()}  ${short(m.from)} -> ${short(m.to)}  epoch ${String(m.epoch)}`)]
}

/**
 * The cluster live, redrawn in place once a second from the dashboard's stream (one
 * connection; the node asks the others only while it is open). Not on a terminal, or with
 * `-o json`, each tick is printed as it comes. `--ticks N` stops after N.
 */
export async function top (o: Options, a: Args): Promise<number> {
  const abort = new AbortController()
  const redraw = live() && o.output !== 'json'
  let ticks = 0
  const stop = (): void => { abort.abort() }
  process.once('SIGINT', stop)
  if (redraw) process.stdout.write(ANSI.hide)
  try {
    // on a terminal, the rows it shows below the header (the node sends only those: the
    // serving node, those that need a look, then the rest); printed ticks carry every node
    // (up to 1,000)
    const rows = redraw ? Math.max(1, (process.stdout.rows ?? 24) - HEADER_LINES - 1) : undefined
    await stream(o, rows === undefined ? '/v1/watch' : `/v1/watch?rows=${rows}`, (e) => {
      if (e.event !== 'tick') return
      ticks++
      if (o.output === 'json') process.stdout.write(`${JSON.stringify(e.data)}\n`)
      else process.stdout.write(`${redraw ? ANSI.home + ANSI.clearDown : ''}${screen(e.data)}\n${redraw ? '' : '\n'}`)
      if (a.ticks !== undefined && ticks >= a.ticks) abort.abort()
    }, abort.signal)
  } finally {
    process.off('SIGINT', stop)
    if (redraw) process.stdout.write(ANSI.show)
  }
  return EXIT.ok
}

/** Lines of `top`'s screen above the table's rows: two of figures, a blank, the table's header. */
const HEADER_LINES = 4

/** One screen of `top`. */
function screen (t: any): string {
  const tot = t.totals
  const head = `simplepool top   ${new Date(t.at as number).toISOString()}   asked ${short(t.node)}   ring ${t.ringAgreed === true ? 'agreed' : t.ringAgreed === false ? 'DIFFERS' : '?'}\n` +
    `nodes ${String(tot.up)}/${String(tot.nodes)} up${(t.nodes as any[]).length < tot.nodes ? ` (${(t.nodes as any[]).length} shown)` : ''}   workers ${num(tot.workers)}   msgs/s ${num(tot.msgsPerSec)}   failures/s ${num(tot.failuresPerSec)}   p50 ${ms(tot.p50Ms)} ms   p99 ${ms(tot.p99Ms)} ms\n`
  const rows = (t.nodes as any[]).map(n => ({
    node: short(n.node),
    status: n.status,
    health: n.health ?? (n.error !== undefined ? 'no answer' : '-'),
    workers: num(n.workers),
    'msgs/s': num(n.msgsPerSec),
    'fail/s': num(n.failuresPerSec),
    'p99 ms': ms(Math.max(0, ...Object.values(n.pools as Record<string, { p99Ms: number }>).map(p => p.p99Ms))),
    'loop p99': ms(n.loopP99Ms),
    'rss MB': mb(n.rssBytes),
    backlog: n.migrationBacklog > 0 ? num(n.migrationBacklog) : ''
  }))
  return head + '\n' + table(rows)
}

/**
 * Events as they were logged, this node's or (`--scope cluster`, the default) every
 * member's: what is kept, then with `-f` every new one until Ctrl-C.
 */
export async function events (o: Options, a: Args): Promise<number> {
  if (a.scope !== 'cluster' && a.scope !== 'node') throw new CliError(EXIT.usage, `--scope must be cluster or node, got ${a.scope}`)
  const abort = new AbortController()
  // without -f: what is kept, then stop once the stream has been quiet for a moment (longer
  // before the first event: a cluster-wide stream's first events wait for every member's answer)
  let quiet: ReturnType<typeof setTimeout> | undefined
  const settle = (ms = QUIET_MS): void => {
    if (a.follow) return
    if (quiet !== undefined) clearTimeout(quiet)
    quiet = setTimeout(() => { abort.abort() }, ms)
  }
  const stop = (): void => { abort.abort() }
  process.once('SIGINT', stop)
  settle(FIRST_EVENT_MS)
  try {
    await stream(o, `/v1/events?scope=${a.scope}`, (e: StreamEvent) => {
      process.stdout.write(o.output === 'json' ? `${JSON.stringify({ id: e.id, type: e.event, ...e.data })}\n` : `${line(e)}\n`)
      settle()
    }, abort.signal)
  } finally {
    process.off('SIGINT', stop)
    if (quiet !== undefined) clearTimeout(quiet)
  }
  return EXIT.ok
}

/** How long `events` without `-f` waits for more before it stops: a cluster-wide read takes a tick. */
const QUIET_MS = 1_500
/** How long `events` without `-f` waits for the first event: as long as a member may take to answer, and more. */
const FIRST_EVENT_MS = 5_000

/** A field's value as a person reads it: a fraction with at most three decimals (a duration of 0.19625299999984236 ms is 0.196). */
function fieldText (v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? String(Math.round(v * 1000) / 1000) : JSON.stringify(v)
}

function line (e: StreamEvent): string {
  const { at, node, ...rest } = e.data ?? {}
  const when = typeof at === 'number' ? new Date(at).toISOString() : ''
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' && v.length > 40 ? short(v) : fieldText(v)}`).join(' ')
  return `${when}  ${node !== undefined ? short(String(node)).padEnd(9) : ''.padEnd(9)}  ${e.event.padEnd(18)} ${fields}`
}
