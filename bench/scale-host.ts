/**
 * One process of the scale scenario (scale.bench.ts forks it): it starts the nodes it is
 * told to, all at once, and answers the parent's questions about them over IPC. Several
 * nodes share this process, so the scenario reaches 100 nodes on a small machine: each
 * node alone in a process would cost 100 Node.js runtimes, and the start of so many
 * would take the cores for a minute before the first record went out.
 */
import { createNode, definePool } from 'simplepool'
import type { SimplePoolNode } from 'simplepool'
import type { ScaleAnswer, ScaleAsk } from './scale-protocol.js'

/** A counter per worker: the parent checks that every call was counted once. */
const pool = definePool<{ n: number }, 'inc' | 'get', number>({ name: 'room', init: () => ({ n: 0 }), handle: (s, m) => m === 'get' ? s.n : ++s.n })
const quiet = { error () {}, warn () {}, info () {}, debug () {} }

const nodes: SimplePoolNode[] = []
/** Per node of this process, when (Date.now) it marked each peer down, in order. */
const downs: Array<Array<{ peerId: string, at: number }>> = []
/** createNode calls that failed, by error name. */
const failed: Record<string, number> = {}

function reply (answer: ScaleAnswer): void {
  process.send?.(answer)
}

async function start (count: number, bootstrap: string[], membership: 'gossip' | 'witness', admin: boolean): Promise<void> {
  const made = await Promise.all(Array.from({ length: count }, async () => {
    const t = performance.now()
    try {
      const node = await createNode({ pools: [pool], bootstrap, listen: ['/ip4/127.0.0.1/tcp/0'], logger: quiet, membership, ...(admin ? { admin: { port: 0 } } : {}) })
      return { node, ms: performance.now() - t }
    } catch (err) {
      failed[(err as Error).name] = (failed[(err as Error).name] ?? 0) + 1
      return undefined
    }
  }))
  const startMs: number[] = []
  for (const m of made) {
    if (m === undefined) continue
    const seen: Array<{ peerId: string, at: number }> = []
    m.node.addEventListener('member:down', (evt) => { seen.push({ peerId: evt.detail.peerId, at: Date.now() }) })
    nodes.push(m.node)
    downs.push(seen)
    startMs.push(m.ms)
  }
  const adminPort = nodes[0]?.adminAddress?.port
  reply({ type: 'started', nodes: nodes.map(n => ({ peerId: n.peerId, addresses: n.addresses })), startMs, failed, ...(adminPort !== undefined ? { adminPort } : {}) })
}

/** Of each node here, how many members it sees `up` and alive. */
function views (): number[] {
  return nodes.map(n => n.members().filter(m => m.status === 'up' && m.liveness === 'alive').length)
}

/** With BENCH_DEBUG: what the views here lack, summed over this process's nodes: members shown but not up and alive (by "status/liveness"), and members some node here shows that another does not. */
function lacking (): Record<string, number> {
  const out: Record<string, number> = {}
  const add = (k: string): void => { out[k] = (out[k] ?? 0) + 1 }
  const everyone = new Set(nodes.flatMap(n => n.members().map(m => m.peerId)))
  for (const n of nodes) {
    const shown = new Set<string>()
    for (const m of n.members()) {
      shown.add(m.peerId)
      if (m.status !== 'up' || m.liveness !== 'alive') add(`${m.status}/${m.liveness}`)
    }
    for (const p of everyone) if (!shown.has(p)) add('absent')
  }
  return out
}

/** One call to each of `ids` from every node here: per id, the calls acknowledged and those that may or may not have been counted; failures by error name; the slowest. */
async function calls (ids: string[]): Promise<void> {
  const errors: Record<string, number> = {}
  const samples: Record<string, string> = {}
  const acked: Record<string, number> = {}
  const unsure: Record<string, number> = {}
  let ok = 0
  let slowestMs = 0
  await Promise.all(nodes.map(async (node) => {
    for (const id of ids) {
      const t = performance.now()
      try {
        await node.ref<'inc', number>('room', id).call('inc', undefined, { timeoutMs: 10_000 })
        ok++
        acked[id] = (acked[id] ?? 0) + 1
      } catch (err) {
        const name = (err as Error).name
        errors[name] = (errors[name] ?? 0) + 1
        samples[name] ??= (err as Error).message
        // the call may have reached the worker before it failed here: its effect is kept or not
        if (name === 'TimeoutError' || name === 'NodeUnavailableError') unsure[id] = (unsure[id] ?? 0) + 1
      }
      slowestMs = Math.max(slowestMs, performance.now() - t)
    }
  }))
  reply({ type: 'calls', ok, acked, unsure, errors, samples, slowestMs })
}

process.on('message', (m: ScaleAsk) => {
  switch (m.type) {
    case 'start': void start(m.count, m.bootstrap, m.membership, m.admin === true); break
    case 'views': reply({ type: 'views', up: views(), ...(process.env.BENCH_DEBUG !== undefined ? { lacking: lacking() } : {}) }); break
    case 'downs': reply({ type: 'downs', downs }); break
    case 'calls': void calls(m.ids); break
    case 'count':
      nodes[0].count('room').then((n) => { reply({ type: 'count', count: n }) }, (err: Error) => { reply({ type: 'count', error: `${err.name}: ${err.message}` }) })
      break
    case 'read':
      Promise.all(m.ids.map(async id => await nodes[0].ref<'get', number>('room', id).call('get'))).then(
        (values) => { reply({ type: 'read', values }) },
        (err: Error) => { reply({ type: 'read', error: `${err.name}: ${err.message}` }) })
      break
    case 'stop':
      void Promise.allSettled(nodes.map(async n => { await n.stop() })).then(() => { process.exit(0) })
      break
  }
})
// the scenario's process is gone (it failed, or was killed): nothing will stop these nodes but this
process.on('disconnect', () => { process.exit(0) })
reply({ type: 'ready' })
