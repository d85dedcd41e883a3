/**
 * `npm run sim`: runs the simulator over seeds and says what broke.
 *
 *   npm run sim -- --seeds 500 [--from 1] [--nodes 5] [--seconds 60] [--jobs 2] [--quiet]
 *   npm run sim -- --seed 123 --trace [--watch ledger/7]   # one run, line by line, and its digest
 *   npm run sim -- --seeds 100 --partitions                 # network partitions drawn too
 *   npm run sim -- --seeds 100 --witness                    # the nodes on witness membership (docs/design/membership-v2.md)
 *   npm run sim -- --seeds 100 --access                     # every node under access rules that grant everything: the rules' code, nothing else changed
 *   npm run sim -- --membership [--nodes 1000] [--loss 0.2] [--pauses 1] [--flaps 0] [--splits 0] [--joins 0] [--leaves 0] [--witnesses 6] [--seconds 30] [--seed 1]
 *                                                           # the membership model alone (membership-model.ts)
 *   npm run sim -- --startup [--nodes 1000] [--spread 1000] [--bootstraps 3] [--loss 0] [--witnesses 6] [--seed 1]
 *                                                           # a cluster's start under witness membership (startup-model.ts)
 *
 * Seeds run `--jobs` at a time (one per core unless told), each in a worker thread.
 * A failing seed prints its invariant, what shows it and the last lines of its trace.
 * The last line on stdout is one JSON object with the totals; the exit code is 0 only
 * when no seed failed.
 */
import { parseArgs } from 'node:util'
import { runScenario } from './scenario/scenario.js'
import type { ScenarioResult } from './scenario/scenario.js'
import { defaultJobs, sweep } from './seed-pool.js'
import { WEIGHTS } from './scenario/faults.js'
import type { Op } from './scenario/faults.js'
import { runMembershipModel } from './membership-model.js'
import { runStartupModel } from './startup-model.js'
import { WITNESS_DEFAULTS } from '@simplepool/mesh'

const USAGE = 'usage: npm run sim -- [--seeds N] [--from S] [--seed S] [--nodes M] [--seconds S] [--ids K] [--jobs J] [--mode safety|liveness] [--exclude op,op] [--partitions] [--replicas 0|1|2] [--walk N] [--witness] [--access] [--stop-at-failure] [--trace [--watch pool/id]] [--quiet]\n       npm run sim -- --membership [--nodes N] [--seconds S] [--loss 0..1] [--pauses P] [--flaps F] [--splits S] [--joins J] [--leaves L] [--witnesses K] [--seed S]\n       npm run sim -- --startup [--nodes N] [--spread MS] [--bootstraps B] [--loss 0..1] [--witnesses K] [--seed S]'

function int (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} takes a whole number, got ${value}\n${USAGE}\n`)
    process.exit(64)
  }
  return n
}

async function main (): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        seeds: { type: 'string' },
        from: { type: 'string' },
        seed: { type: 'string' },
        nodes: { type: 'string' },
        seconds: { type: 'string' },
        ids: { type: 'string' },
        jobs: { type: 'string' },
        trace: { type: 'boolean', default: false },
        watch: { type: 'string' },
        exclude: { type: 'string' },
        partitions: { type: 'boolean', default: false },
        witness: { type: 'boolean', default: false },
        access: { type: 'boolean', default: false },
        replicas: { type: 'string' },
        walk: { type: 'string' },
        'stop-at-failure': { type: 'boolean', default: false },
        mode: { type: 'string', default: 'safety' },
        quiet: { type: 'boolean', default: false },
        membership: { type: 'boolean', default: false },
        startup: { type: 'boolean', default: false },
        spread: { type: 'string' },
        bootstraps: { type: 'string' },
        loss: { type: 'string' },
        pauses: { type: 'string' },
        flaps: { type: 'string' },
        witnesses: { type: 'string' },
        joins: { type: 'string' },
        splits: { type: 'string' },
        leaves: { type: 'string' },
        help: { type: 'boolean', default: false }
      }
    })
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`)
    process.exit(64)
  }
  const v = parsed.values
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  if (v.startup === true) {
    for (const nodes of v.nodes === undefined ? [100, 1_000, 10_000] : [int('nodes', v.nodes, 100)]) {
      const r = await runStartupModel({ nodes, spreadMs: int('spread', v.spread, 1_000), bootstraps: int('bootstraps', v.bootstraps, 3), loss: Number(v.loss ?? 0), witnesses: int('witnesses', v.witnesses, WITNESS_DEFAULTS.witnesses), seed: int('seed', v.seed, 1) })
      process.stdout.write(JSON.stringify(r) + '\n')
    }
    return
  }
  if (v.membership === true) {
    await membershipModel(v.nodes === undefined ? [100, 1_000, 10_000] : [int('nodes', v.nodes, 100)], int('seconds', v.seconds, 30), { loss: v.loss, pauses: v.pauses, flaps: v.flaps, splits: v.splits, joins: v.joins, leaves: v.leaves }, int('witnesses', v.witnesses, WITNESS_DEFAULTS.witnesses), int('seed', v.seed, 1))
    return
  }
  const nodes = int('nodes', v.nodes, 5)
  const seconds = int('seconds', v.seconds, 60)
  const ids = int('ids', v.ids, 100)
  const replicas = int('replicas', v.replicas, 0)
  const walk = v.walk === undefined ? undefined : int('walk', v.walk, 0)
  if (replicas > 2) {
    process.stderr.write(`--replicas is 0, 1 or 2, got ${replicas}\n${USAGE}\n`)
    process.exit(64)
  }
  // partitions are drawn only when asked for: a node cut off still serves stale copies
  // after the heal (see the README's guarantees), which the checks would report every time
  const membership = v.witness === true ? 'witness' as const : 'gossip' as const
  const exclude = [...(v.exclude ?? '').split(',').filter(x => x !== ''), ...(v.partitions === true ? [] : ['partition', 'split'])] as Op[]
  for (const op of exclude) {
    if (!WEIGHTS.some(([known]) => known === op)) {
      process.stderr.write(`--exclude: no operation ${op}; there are ${WEIGHTS.map(([known]) => known).join(', ')}\n`)
      process.exit(64)
    }
  }
  const mode = v.mode
  if (mode !== 'safety' && mode !== 'liveness') {
    process.stderr.write(`--mode is safety or liveness, got ${String(mode)}\n${USAGE}\n`)
    process.exit(64)
  }
  const one = v.seed !== undefined
  const from = one ? int('seed', v.seed, 1) : int('from', v.from, 1)
  const count = one ? 1 : int('seeds', v.seeds, 20)
  const started = performance.now()
  let failed = 0
  let faults = 0
  let virtualMs = 0
  let first: { seed: number, invariant: string } | null = null
  let ran = 0
  const onResult = (r: ScenarioResult): boolean => {
    ran++
    faults += r.faults
    virtualMs += r.virtualMs
    if (v.trace === true) process.stdout.write(`seed ${r.seed}: digest ${r.digest}, ${r.events} events, ${r.faults} operations and faults, ${r.messages} messages\n`)
    if (r.violation !== undefined) {
      failed++
      // the smallest failing seed, whatever order the workers finish in
      if (first === null || r.seed < first.seed) first = { seed: r.seed, invariant: r.violation.invariant }
      if (v.quiet !== true && v.trace !== true) {
        process.stdout.write(`seed ${r.seed} FAILED ${r.violation.invariant}: ${r.violation.detail}\n  replay: npm run sim -- --seed ${r.seed} --nodes ${nodes} --seconds ${seconds} --mode ${mode}${v.partitions === true ? ' --partitions' : ''}${replicas > 0 ? ` --replicas ${replicas}` : ''}${walk !== undefined ? ` --walk ${walk}` : ''}${v.witness === true ? ' --witness' : ''}${v.access === true ? ' --access' : ''} --trace\n`)
        for (const line of r.tail) process.stdout.write(`  | ${line}\n`)
      }
      if (v['stop-at-failure'] === true) return false
    } else if (v.quiet !== true && v.trace !== true && count <= 50) {
      process.stdout.write(`seed ${r.seed} ok (${r.faults} operations and faults, ${r.messages} messages, digest ${r.digest})\n`)
    }
    return true
  }
  if (v.trace === true) {
    // one run, line by line, in this thread
    for (let seed = from; seed < from + count; seed++) {
      const r = await runScenario({ seed, nodes, seconds, ids, watch: v.watch, mode, exclude, replicas: replicas as 0 | 1 | 2, walk, membership, access: v.access, onTrace: (line) => { process.stdout.write(`${line}\n`) } })
      if (!onResult(r)) break
    }
  } else {
    await sweep({ nodes, seconds, ids, watch: v.watch, mode, exclude, replicas: replicas as 0 | 1 | 2, walk, membership, access: v.access }, from, count, int('jobs', v.jobs, defaultJobs()), onResult)
  }
  const minutes = (performance.now() - started) / 60_000
  process.stdout.write(JSON.stringify({
    seeds: ran,
    failed,
    // tenths below ten a minute (a hundred nodes), whole seeds above
    seedsPerMin: ran / minutes < 10 ? Math.round(ran / minutes * 10) / 10 : Math.round(ran / minutes),
    nodes,
    mode,
    virtualSecondsPerSeed: Math.round(virtualMs / ran / 1_000),
    faultsPerSeed: Math.round(faults / ran),
    firstFailure: first
  }) + '\n')
  process.exitCode = failed > 0 ? 1 : 0
}

/** The membership model at each size: one JSON line each, with what it measured. */
async function membershipModel (sizes: number[], seconds: number, args: Record<'loss' | 'pauses' | 'flaps' | 'splits' | 'joins' | 'leaves', string | undefined>, witnesses: number, seed: number): Promise<void> {
  const loss = Number(args.loss ?? 0.2)
  const rate = (name: 'pauses' | 'flaps' | 'splits' | 'joins' | 'leaves', fallback: number): number => {
    const r = Number(args[name] ?? fallback)
    if (!(r >= 0)) {
      process.stderr.write(`--${name} takes a number >= 0, got ${String(args[name])}\n${USAGE}\n`)
      process.exit(64)
    }
    return r
  }
  if (!(loss >= 0 && loss < 1)) {
    process.stderr.write(`--loss takes a share in [0, 1), got ${String(args.loss)}\n${USAGE}\n`)
    process.exit(64)
  }
  const pausesPerMinute = rate('pauses', 1)
  const flapsPerSecond = rate('flaps', 0)
  const partitionsPerMinute = rate('splits', 0)
  const joinsPerSecond = rate('joins', 0)
  const leavesPerSecond = rate('leaves', 0)
  for (const nodes of sizes) {
    const r = await runMembershipModel({ nodes, seconds, loss, pausesPerMinute, flapsPerSecond, partitionsPerMinute, joinsPerSecond, leavesPerSecond, seed, detector: { witnesses } })
    process.stdout.write(JSON.stringify({ ...r, wallMs: Math.round(r.wallMs) }) + '\n')
  }
}

await main()
