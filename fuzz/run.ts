/**
 * The long fuzz run: every decoder of what arrives from another node, a million inputs
 * each by default. `npm run fuzz -- [--runs N] [--target TEXT] [--seed N]`. Prints, per
 * decoder, the inputs run, their rate, and the heap after a full collection against
 * before (a decoder must keep nothing of what it read); exits 1 on the first input a
 * decoder broke its contract on, with the seed and the input that replay it.
 */
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { decoderTargets } from './decoders.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000000' }, target: { type: 'string' }, seed: { type: 'string' } } })
const runs = Number(values.runs)
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`)
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) process.stderr.write('note: run with node --expose-gc for the heap figures\n')

const heap = (): number => {
  gc?.()
  return process.memoryUsage().heapUsed
}

const targets = decoderTargets.filter(t => values.target === undefined || t.name.includes(values.target))
process.stdout.write(`fuzzing ${targets.length} decoders, ${runs.toLocaleString('en-US')} inputs each, seed ${seed}\n`)
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
  process.stdout.write(`${target.name.padEnd(22)} ${result.numRuns.toLocaleString('en-US').padStart(11)} inputs  ${Math.round(result.numRuns / seconds).toLocaleString('en-US').padStart(9)}/s  heap ${grew >= 0 ? '+' : ''}${grew.toFixed(0)} KiB\n`)
}
process.exitCode = failed ? 1 : 0
