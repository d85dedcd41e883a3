/**
 * One worker thread of a sweep (see seed-pool.ts): asks for a seed, runs it, sends the
 * result back, until no seed is left.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { runScenario } from './scenario/scenario.js'
import type { FromWorker, SweepOptions, ToWorker } from './seed-pool.js'

const port = parentPort
if (port == null) throw new Error('seed-worker.js runs only as a worker thread of a sweep')
const options = workerData as SweepOptions
const send = (m: FromWorker): void => { port.postMessage(m) }

port.on('message', (m: ToWorker) => {
  if (m.kind === 'done') {
    port.close()
    return
  }
  runScenario({ ...options, seed: m.seed }).then(
    (result) => { send({ kind: 'result', result }) },
    (err: Error) => { send({ kind: 'error', seed: m.seed, message: err.stack ?? String(err) }) })
})
send({ kind: 'ready' })
