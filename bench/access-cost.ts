/**
 * What the access rules cost on the hot path: pipelined calls between two nodes that run
 * with rules (each checks the other's right to every call it takes) and between two that
 * run without, both pairs up at once and their runs alternated, so the machine's drift
 * falls on both alike.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadKeyFile } from 'simplepool'
import type { AccessRules } from 'simplepool'
import { systemClock } from '@simplepool/core'
import { Access, CALL_OR_HOST, WorkerEvents } from '@simplepool/runtime'
import { Cluster, startCluster } from '@simplepool/testing'
import type { NodeHandle } from '@simplepool/testing'

export interface AccessCost {
  /** Calls/s per measured run, without rules and with them, in the order run. */
  open: number[]
  ruled: number[]
  /** What one check of a call's right costs, in ns, timed in this process over a million checks (a runtime's own `Access`). */
  checkNs: number
}

/** Times the check a receiving node makes of every call: `Access.may` with a peer and pool it has seen before; the last of three rounds, once V8 has optimized it. */
function timeCheck (peers: string[]): number {
  const access = new Access({ roles: { nodes: peers }, pools: { '*': { host: ['nodes'] } } }, { clock: systemClock, events: new WorkerEvents(), self: () => peers[1], runs: (p) => p === 'counter' })
  const n = 1_000_000
  let ns = NaN
  for (let round = 0; round < 3; round++) {
    let granted = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) if (access.may(peers[0], 'counter', CALL_OR_HOST)) granted++
    ns = Number(process.hrtime.bigint() - t0) / n
    // the result is used, so the loop is not optimized away; a refusal would be a broken setup
    if (granted !== n) throw new Error(`the rules refused ${n - granted} checks`)
  }
  return ns
}

export async function accessCost (o: { requests: number, runs: number, inFlight: number, workers: number }, log: (s: string) => void): Promise<AccessCost> {
  const dir = await mkdtemp(join(tmpdir(), 'simplepool-bench-access-'))
  const clusters: Cluster[] = []
  try {
    const open = await startCluster({ nodes: 2, pools: ['counter'] })
    clusters.push(open)
    const peers = await Promise.all(['a', 'b'].map(async n => (await loadKeyFile(join(dir, `${n}.key`))).peerId))
    // the common case of a deployment: every node a host of every pool
    const rules: AccessRules = { roles: { nodes: peers }, pools: { '*': { host: ['nodes'] } } }
    const ruled = new Cluster({ pools: ['counter'], access: rules })
    clusters.push(ruled)
    await ruled.addNode({ keyFile: join(dir, 'a.key') })
    await ruled.addNode({ keyFile: join(dir, 'b.key') })
    await ruled.waitForConvergence()
    const run = async (caller: NodeHandle): Promise<number> => {
      const r = await caller.request<{ perSecond: number, failures: Record<string, number> }>('remoteCalls', { pool: 'counter', calls: o.requests, inFlight: o.inFlight, workers: o.workers }, 120_000)
      if (Object.keys(r.failures).length > 0) throw new Error(`calls failed: ${JSON.stringify(r.failures)}`)
      return r.perSecond
    }
    const out: AccessCost = { open: [], ruled: [], checkNs: timeCheck(peers) }
    // one unmeasured run each, then the measured ones in turn
    for (let i = -1; i < o.runs; i++) {
      const withoutRules = await run(open.nodes[0])
      const withRules = await run(ruled.nodes[0])
      log(`access rules: ${Math.round(withoutRules)} calls/s without, ${Math.round(withRules)} with${i < 0 ? ' (warm-up)' : ''}`)
      if (i < 0) continue
      out.open.push(withoutRules)
      out.ruled.push(withRules)
    }
    return out
  } finally {
    for (const c of clusters) await c.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
