/**
 * The long fuzz run: every decoder of what arrives from another node, a million inputs
 * each by default, then the admin HTTP API of a node in this process, as many requests.
 * `npm run fuzz -- [--runs N] [--admin-runs N] [--target TEXT] [--seed N]`. Prints, per
 * target, the inputs run, their rate, and the heap after a full collection against
 * before (a decoder must keep nothing of what it read); exits 1 on the first input a
 * target broke its contract on, with the seed and the input that replay it.
 */
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { createNode, definePool, silentLogger } from 'simplepool'
import { adminRequests, checkAdminRequest } from './admin.js'
import { decoderTargets } from './decoders.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000000' }, 'admin-runs': { type: 'string' }, target: { type: 'string' }, seed: { type: 'string' } } })
const count = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`)
  return n
}
const runs = count('runs', values.runs)
const adminRuns = count('admin-runs', values['admin-runs'] ?? values.runs)
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) process.stderr.write('note: run with node --expose-gc for the heap figures\n')

const heap = (): number => {
  gc?.()
  return process.memoryUsage().heapUsed
}

const line = (name: string, n: number, seconds: number, grew: number): string =>
  `${name.padEnd(22)} ${n.toLocaleString('en-US').padStart(11)} inputs  ${Math.round(n / seconds).toLocaleString('en-US').padStart(9)}/s  heap ${grew >= 0 ? '+' : ''}${grew.toFixed(0)} KiB\n`

const targets = decoderTargets.filter(t => values.target === undefined || t.name.includes(values.target))
const admin = values.target === undefined || 'admin api'.includes(values.target)
process.stdout.write(`fuzzing ${targets.length} decoders, ${runs.toLocaleString('en-US')} inputs each${admin ? `, and the admin API, ${adminRuns.toLocaleString('en-US')} requests` : ''}; seed ${seed}\n`)
let failed = false
for (const target of targets) {
  const before = heap()
  const started = performance.now()
  const result = fc.check(fc.property(target.input, (input) => { target.check(input) }), { numRuns: runs, seed })
  const seconds = (performance.now() - started) / 1000
  const grew = (heap() - before) / 1024
  if (result.failed) {
    failed = true
    process.stdout.write(`${target.name}: FAILED after ${result.numRuns} inputs (seed ${result.seed}, path ${String(result.counterexamplePath)})\n  input: ${fc.stringify(result.counterexample)}\n  ${String(result.errorInstance)}\n`)
    break
  }
  process.stdout.write(line(target.name, result.numRuns, seconds, grew))
}
if (!failed && admin) {
  // a node of its own in this process: its heap is this one's
  const pool = definePool<{ n: number }, unknown, number>({ name: 'counter', init: () => ({ n: 0 }), handle: (st, msg) => msg === 'inc' ? ++st.n : st.n })
  const token = 'fuzz-admin-token'
  const node = await createNode({ pools: [pool], admin: { port: 0, token }, logger: silentLogger, processMetrics: false })
  try {
    for (let i = 0; i < 3; i++) await node.ref('counter', 'kept-aside').call('inc')
    const base = `http://127.0.0.1:${node.adminAddress?.port ?? 0}`
    const before = heap()
    const started = performance.now()
    const result = await fc.check(fc.asyncProperty(adminRequests(node.peerId), async (r) => { await checkAdminRequest(base, token, r) }), { numRuns: adminRuns, seed })
    const seconds = (performance.now() - started) / 1000
    await node.undrain(node.peerId).catch(() => {})
    await node.setTargets(node.peerId, { counter: 100_000 })
    const grew = (heap() - before) / 1024
    const kept = await node.ref('counter', 'kept-aside').call('get')
    if (result.failed || kept !== 3) {
      failed = true
      process.stdout.write(result.failed
        ? `admin api: FAILED after ${result.numRuns} requests (seed ${result.seed}, path ${String(result.counterexamplePath)})\n  input: ${fc.stringify(result.counterexample)}\n  ${String(result.errorInstance)}\n`
        : `admin api: a worker the requests never named holds ${String(kept)}, not 3\n`)
    } else {
      process.stdout.write(line('admin api', result.numRuns, seconds, grew))
    }
  } finally {
    await node.stop({ drainTimeoutMs: 0 })
  }
}
process.exitCode = failed ? 1 : 0
