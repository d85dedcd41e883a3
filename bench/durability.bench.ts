/**
 * The durability scenario: what keeping workers' state costs. Through each store adapter
 * of `@simplepool/store` (memory, SQLite with `synchronous` full and normal, PostgreSQL
 * when one answers at SIMPLEPOOL_TEST_PG or the tests' default): saves per second with
 * many in flight, and the latency of one save at a time (what one worker's write-through
 * waits). Then through the public API, one node: calls per second and call latency to a
 * pool with no store, and with each store written through (`writeThrough: true`). Then
 * three nodes in this process: calls to a pool with `replicas` 0, 1 (sync and async) and 2.
 * Then failover with replicas in node processes (see replica-failover.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode, definePool } from 'simplepool'
import type { SimplePoolNode, WorkerStore } from 'simplepool'
import { MemoryStore } from '@simplepool/store'
import { TEST_PG_SHOWN, TEST_PG_URL, dropTestTable, postgresUnreachable } from '@simplepool/testing'
import { SqliteStore } from '@simplepool/store/sqlite'
import { PostgresStore } from '@simplepool/store/postgres'
import { replicaFailover } from './replica-failover.js'
import { round, runAlone } from './report.js'
import type { Figure, ScenarioResult } from './report.js'

/** Options of {@link durabilityBench}. */
export interface DurabilityBenchOptions {
  /** Saves in the throughput run of each store. Default 20,000. */
  saves?: number
  /** Seconds of calls to each pool. Default 3. */
  seconds?: number
  /** Workers of the failover with replicas (three node processes, one killed). Default 1,000,000. */
  workers?: number
  quiet?: boolean
}

/** A worker's state as a chat room might hold it: about 200 bytes of cbor. */
const STATE = { n: 0, name: 'room-with-a-name', members: ['ann', 'bob', 'cyd', 'dee'], last: 'x'.repeat(120) }

function quantile (sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** 64 callers on `node` call 'inc' on workers `w0`..`w999` of pool `room` for `seconds`: calls per second, and each call's latency (ms, sorted). */
async function callFor (node: SimplePoolNode, seconds: number): Promise<{ lat: number[], perSec: number }> {
  const lat: number[] = []
  let calls = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(Array.from({ length: 64 }, async (_, c) => {
    for (let i = c; performance.now() < end; i += 64) {
      const t = performance.now()
      await node.ref<'inc', number>('room', `w${i % 1000}`).call('inc')
      lat.push(performance.now() - t)
      calls++
    }
  }))
  lat.sort((x, y) => x - y)
  return { lat, perSec: calls / seconds }
}

/** Runs the scenario; every store, table, file and node it made is gone before it returns, also on failure. */
export async function durabilityBench (opts: DurabilityBenchOptions = {}): Promise<ScenarioResult> {
  const saves = opts.saves ?? 20_000
  const seconds = opts.seconds ?? 3
  const log = (s: string): void => { if (opts.quiet !== true) process.stderr.write(`durability: ${s}\n`) }
  const rows: ScenarioResult['rows'] = []
  const figures: Figure[] = []
  const notes: string[] = []
  const dir = mkdtempSync(join(tmpdir(), 'simplepool-durability-'))
  const table = `bench_${process.pid}`
  const pgWhy = await postgresUnreachable()
  if (pgWhy !== undefined) notes.push(`PostgreSQL left out: nothing answers at ${TEST_PG_SHOWN} (${pgWhy})`)
  const makers: Array<[string, () => WorkerStore]> = [
    ['memory', () => new MemoryStore()],
    ['sqlite full', () => new SqliteStore({ path: join(dir, 'full.db') })],
    ['sqlite normal', () => new SqliteStore({ path: join(dir, 'normal.db'), synchronous: 'normal' })],
    ...(pgWhy === undefined ? [['postgres', () => new PostgresStore({ connectionString: TEST_PG_URL, table, max: 10 })] as [string, () => WorkerStore]] : [])
  ]
  try {
    for (const [name, make] of makers) {
      const store = make()
      try {
        // many in flight: 256 writers, each saving its own ids one after another
        let next = 0
        const t0 = performance.now()
        await Promise.all(Array.from({ length: 256 }, async () => {
          while (next < saves) {
            const i = next++
            await store.save('room', `r${i}`, { ...STATE, n: i }, { epoch: 1 })
          }
        }))
        const perSec = saves / ((performance.now() - t0) / 1000)
        // one at a time: what a worker's write-through waits for
        const lat: number[] = []
        for (let i = 0; i < 2_000; i++) {
          const t = performance.now()
          await store.save('room', `s${i % 100}`, { ...STATE, n: i }, { epoch: 2 })
          lat.push(performance.now() - t)
        }
        lat.sort((a, b) => a - b)
        rows.push({ what: `store: ${name}`, 'per s': round(perSec), 'p50 ms': round(quantile(lat, 0.5), 3), 'p99 ms': round(quantile(lat, 0.99), 3) })
        figures.push({ name: `${name} saves/s, 256 in flight`, value: round(perSec), unit: 'saves/s' })
        figures.push({ name: `${name} save p99, one at a time`, value: round(quantile(lat, 0.99), 3), unit: 'ms' })
        log(`${name}: ${round(perSec)} saves/s; one at a time p50 ${quantile(lat, 0.5).toFixed(3)} ms, p99 ${quantile(lat, 0.99).toFixed(3)} ms`)
      } finally {
        await store.close()
      }
    }

    // through the public API: one node, 1,000 workers, 64 callers
    const pools: Array<[string, WorkerStore | undefined]> = [['no store', undefined], ...makers.map(([name, make]) => [name, make()] as [string, WorkerStore])]
    for (const [name, store] of pools) {
      const pool = definePool<{ n: number }, 'inc', number>({
        name: 'room',
        ...(store !== undefined ? { store, writeThrough: true } : {}),
        init: () => ({ n: 0 }),
        handle: (s) => ++s.n
      })
      const node = await createNode({ pools: [pool] })
      try {
        const { lat, perSec } = await callFor(node, seconds)
        rows.push({ what: `calls, writeThrough: ${name}`, 'per s': round(perSec), 'p50 ms': round(quantile(lat, 0.5), 3), 'p99 ms': round(quantile(lat, 0.99), 3) })
        figures.push({ name: `calls/s, 64 in flight, ${name}`, value: round(perSec), unit: 'calls/s' })
        figures.push({ name: `call p99, 64 in flight, ${name}`, value: round(quantile(lat, 0.99), 3), unit: 'ms' })
        log(`calls with ${name}: ${round(perSec)}/s, p99 ${quantile(lat, 0.99).toFixed(3)} ms`)
      } finally {
        await node.stop()
        await store?.close()
      }
    }

    // replicas: three nodes in this process on loopback, calls from the first to workers
    // on all three (most are remote), 64 in flight
    for (const [name, over] of [['replicas: 0', {}], ['replicas: 1 sync', { replicas: 1 }], ['replicas: 1 async', { replicas: 1, replication: 'async' }], ['replicas: 2 sync', { replicas: 2 }]] as const) {
      const pool = definePool<{ n: number }, 'inc', number>({ name: 'room', ...over, init: () => ({ n: 0 }), handle: (s) => ++s.n })
      const a = await createNode({ pools: [pool] })
      const others = [await createNode({ pools: [pool], bootstrap: a.addresses }), await createNode({ pools: [pool], bootstrap: a.addresses })]
      try {
        while (a.members().filter(m => m.status === 'up' && m.liveness === 'alive').length < 3) await new Promise(resolve => setTimeout(resolve, 50))
        for (let i = 0; i < 1000; i++) await a.ref<'inc', number>('room', `w${i}`).call('inc')
        const { lat, perSec } = await callFor(a, seconds)
        const kept = [a, ...others].map(n => n.health().replicas?.bytes ?? 0).reduce((x, y) => x + y, 0)
        rows.push({ what: `calls, 3 nodes, ${name}`, 'per s': round(perSec), 'p50 ms': round(quantile(lat, 0.5), 3), 'p99 ms': round(quantile(lat, 0.99), 3) })
        figures.push({ name: `calls/s, 3 nodes, ${name}`, value: round(perSec), unit: 'calls/s' })
        figures.push({ name: `call p99, 3 nodes, ${name}`, value: round(quantile(lat, 0.99), 3), unit: 'ms' })
        log(`calls with ${name}: ${round(perSec)}/s, p99 ${quantile(lat, 0.99).toFixed(3)} ms; ${kept} bytes of replicas over the three nodes`)
      } finally {
        for (const n of others) await n.stop()
        await a.stop()
      }
    }
  } finally {
    if (pgWhy === undefined) await dropTestTable(table).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  const failover = await replicaFailover(opts.workers ?? 1_000_000, log)
  rows.push(...failover.rows)
  figures.push(...failover.figures)
  notes.push(...failover.notes)
  return { scenario: 'durability', rows, figures, notes }
}

await runAlone(import.meta.url, async () => await durabilityBench())
