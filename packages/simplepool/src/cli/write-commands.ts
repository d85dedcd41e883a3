/**
 * The `simplepool` commands that change the cluster: drain, undrain, targets set,
 * rebalance (or its plan with `--dry-run`), stop, and a call or cast to one worker. Each
 * needs the admin token, and each that moves or stops workers asks before it acts unless
 * given `--yes`.
 */
import { createInterface } from 'node:readline/promises'
import { CliError, EXIT, poolCount } from './common.js'
import { call, read } from './client.js'
import type { Options } from './client.js'
import { ANSI, bar, live, num, print, short, table } from './format.js'

export interface WriteArgs { positionals: string[], wait: boolean, dryRun: boolean, pools?: string[], timeoutMs?: number }

/** How often `drain --wait` asks the admin API how many workers are left. */
const WAIT_POLL_MS = 500

/** Goes ahead when `--yes` was given or the user says so on a terminal; otherwise a usage error saying to add `--yes`. */
async function confirm (o: Options, question: string): Promise<void> {
  if (o.yes) return
  if (process.stdin.isTTY !== true) throw new CliError(EXIT.usage, `${question}: not without --yes (no terminal to ask on)`)
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question}? [y/N] `)
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError(EXIT.unhealthy, 'not done')
  } finally {
    rl.close()
  }
}

/** A member's full peer id from the id or its end (as tables show it: `…abcd1234`); ambiguous or unknown ends are usage errors. */
async function resolveNode (o: Options, given: string | undefined): Promise<string> {
  if (given === undefined || given === '') throw new CliError(EXIT.usage, 'name a node: its peer id, or the end of it as `simplepool nodes` shows it')
  const ring = await read(o, '/v1/pools') as Array<{ nodes: Array<{ node: string }> }>
  const members = new Set(ring.flatMap(p => p.nodes.map(n => n.node)))
  if (members.has(given)) return given
  const end = given.replace(/^…/, '')
  const found = [...members].filter(m => m.endsWith(end))
  if (found.length === 1) return found[0]
  if (found.length === 0) throw new CliError(EXIT.unhealthy, `no member ends with ${end}`)
  throw new CliError(EXIT.usage, `${end} is the end of ${found.length} members: give more of the id`)
}

/** Workers of the pools named (or all) still live on `node`, as it counts them now. */
async function held (o: Options, node: string, pools: string[] | undefined): Promise<{ left: number, status: string }> {
  const n = await read(o, `/v1/nodes/${encodeURIComponent(node)}`)
  const counts = n.health?.pools as Record<string, { active: number }> | undefined
  const left = counts === undefined ? 0 : Object.entries(counts).filter(([p]) => pools === undefined || pools.includes(p)).reduce((s, [, p]) => s + p.active, 0)
  return { left, status: n.status }
}

/** Takes a node out of service; with `--wait`, a progress bar until it holds no worker. */
export async function drain (o: Options, a: WriteArgs): Promise<number> {
  const node = await resolveNode(o, a.positionals[0])
  const before = await held(o, node, a.pools)
  await confirm(o, `drain ${node} (${num(before.left)} workers move to the other nodes)`)
  const started = await call(o, 'POST', `/v1/nodes/${encodeURIComponent(node)}/drain`, a.pools !== undefined ? { pools: a.pools } : undefined)
  if (!a.wait) {
    print(o, started, () => `draining ${node}: ${num(before.left)} workers to move; \`simplepool drain ${short(node)} --wait\` shows the progress`)
    return EXIT.ok
  }
  const t0 = performance.now()
  const redraw = live() && o.output !== 'json'
  let lastLine = 0
  for (;;) {
    const now = await held(o, node, a.pools)
    const moved = Math.max(0, before.left - now.left)
    const secs = (performance.now() - t0) / 1000
    const text = `${bar(moved, before.left)} ${num(moved)}/${num(before.left)} moved, ${num(now.left)} left, ${secs.toFixed(1)} s`
    if (now.left === 0) {
      if (redraw) process.stderr.write(ANSI.clearLine)
      print(o, { node, drained: true, moved: before.left, seconds: secs }, () => `${text}\ndrained ${node} in ${secs.toFixed(1)} s`)
      return EXIT.ok
    }
    if (redraw) process.stderr.write(`${ANSI.clearLine}${text}`)
    else if (performance.now() - lastLine > 2_000) {
      process.stderr.write(`${text}\n`)
      lastLine = performance.now()
    }
    await new Promise(resolve => setTimeout(resolve, WAIT_POLL_MS))
  }
}

export async function undrain (o: Options, a: WriteArgs): Promise<number> {
  const node = await resolveNode(o, a.positionals[0])
  const r = await call(o, 'POST', `/v1/nodes/${encodeURIComponent(node)}/undrain`, a.pools !== undefined ? { pools: a.pools } : undefined)
  print(o, r, () => `${node} is back in service; its share of workers moves back to it`)
  return EXIT.ok
}

/** `targets set <node> pool=n [pool=n ...]`: a node's weights on the pools' rings. */
export async function targets (o: Options, a: WriteArgs): Promise<number> {
  const [verb, given, ...pairs] = a.positionals
  if (verb !== 'set' || pairs.length === 0) throw new CliError(EXIT.usage, 'usage: simplepool targets set <node> <pool>=<n> [<pool>=<n> ...]')
  const set: Record<string, number> = {}
  for (const pair of pairs) {
    const target = poolCount(pair)
    if (target === undefined) throw new CliError(EXIT.usage, `a target is <pool>=<integer >= 0>, got ${pair}`)
    set[target[0]] = target[1]
  }
  const node = await resolveNode(o, given)
  await confirm(o, `set the targets of ${node} to ${pairs.join(' ')} (workers move to follow them)`)
  const r = await call(o, 'PUT', `/v1/nodes/${encodeURIComponent(node)}/targets`, { targets: set })
  print(o, r, () => `targets of ${node}: ${Object.entries(set).map(([p, n]) => `${p}=${n}`).join(' ')}`)
  return EXIT.ok
}

/** Hands over now every worker of the pool whose owner moved; `--dry-run` prints the plan and changes nothing. */
export async function rebalance (o: Options, a: WriteArgs): Promise<number> {
  const pool = a.positionals[0]
  if (pool === undefined || a.positionals.length !== 1) throw new CliError(EXIT.usage, 'usage: simplepool rebalance <pool> [--dry-run]')
  const plan = await read(o, `/v1/pools/${encodeURIComponent(pool)}/plan`)
  if (a.dryRun) {
    print(o, plan, () => [
      `${num(plan.total)} workers of ${pool} would move${plan.total === 0 ? ': every worker is on its owner' : ':'}`,
      ...(plan.total > 0 ? [table((plan.moves as any[]).map(m => ({ from: short(m.from), to: short(m.to), workers: num(m.workers) })))] : []),
      ...(plan.unreachable as any[]).map(u => `${short(u.node)} did not answer: ${String(u.error)}`)
    ].join('\n'))
    return EXIT.ok
  }
  await confirm(o, `rebalance ${pool} (${num(plan.total)} workers move now)`)
  const r = await call(o, 'POST', `/v1/pools/${encodeURIComponent(pool)}/rebalance`)
  print(o, { ...r, planned: plan.total }, () => `rebalancing ${pool}: ${num(plan.total)} workers are being handed to their owners`)
  return EXIT.ok
}

/** Saves and stops one worker now. */
export async function stop (o: Options, a: WriteArgs): Promise<number> {
  if (a.positionals.length !== 2) throw new CliError(EXIT.usage, 'usage: simplepool stop <pool> <id>')
  const [pool, id] = a.positionals
  await confirm(o, `stop worker ${pool}/${id}`)
  const r = await call(o, 'DELETE', `/v1/workers/${encodeURIComponent(pool)}/${encodeURIComponent(id)}`)
  print(o, r, () => r.stopped === true ? `stopped ${pool}/${id}` : `${pool}/${id} was not live`)
  return r.stopped === true ? EXIT.ok : EXIT.unhealthy
}

/** The `<pool> <id> <json>` of a call or cast: the message parsed, or a usage error saying what was wrong. */
function workerMessage (a: WriteArgs, command: string): { path: string, label: string, msg: unknown } {
  if (a.positionals.length !== 3) throw new CliError(EXIT.usage, `usage: simplepool ${command} <pool> <id> <json>${command === 'call' ? ' [--timeout MS]' : ''}`)
  const [pool, id, text] = a.positionals
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch (err) {
    throw new CliError(EXIT.usage, `the message must be JSON (quote a string: '"hello"'), got ${text}: ${(err as Error).message}`)
  }
  return { path: `/v1/workers/${encodeURIComponent(pool)}/${encodeURIComponent(id)}/${command}`, label: `${pool}/${id}`, msg }
}

/** Calls one worker and prints its reply (a worker's own error: exit code 1, by its name). */
export async function callWorker (o: Options, a: WriteArgs): Promise<number> {
  const { path, msg } = workerMessage(a, 'call')
  const r = await call(o, 'POST', path, { msg, ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}) })
  print(o, r, () => JSON.stringify(r.reply))
  return EXIT.ok
}

/** Casts a message to one worker: no reply, nothing waited for. */
export async function castWorker (o: Options, a: WriteArgs): Promise<number> {
  const { path, label, msg } = workerMessage(a, 'cast')
  const r = await call(o, 'POST', path, { msg })
  print(o, r, () => `sent to ${label}`)
  return EXIT.ok
}
