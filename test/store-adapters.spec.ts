import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TEST_PG_SHOWN, TEST_PG_URL, dropTestTable, postgresUnreachable, startCluster } from '@simplepool/testing'
import type { Cluster } from '@simplepool/testing'
import type { WorkerStore } from 'simplepool'
import { SqliteStore } from '@simplepool/store/sqlite'
import { PostgresStore } from '@simplepool/store/postgres'
import { killUnderTraffic } from './ledger-traffic.js'

/**
 * A pool given a store adapter (`store` and `writeThrough`, nothing written by hand), across
 * real node processes: four nodes, traffic from two, one killed with SIGKILL. Every
 * acknowledged increment must be in the database, each live count must equal its row, and
 * no worker may live on two nodes.
 */
for (const kind of ['sqlite', 'pg'] as const) {
  describe(`a pool with the ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} store adapter, written through, across processes`, function () {
    this.timeout(120_000)
    const pool = `${kind}-ledger`
    let cluster: Cluster | undefined
    let dir: string | undefined
    let reader: WorkerStore | undefined
    const table = `ledger_${process.pid}`

    before(async function () {
      if (kind === 'pg') {
        const why = await postgresUnreachable()
        if (why !== undefined) {
          this.test?.parent?.tests.forEach(t => { t.title = `skipped because PostgreSQL does not answer at ${TEST_PG_SHOWN} (${why}): ${t.title}` })
          this.skip()
        }
      }
      dir = mkdtempSync(join(tmpdir(), 'simplepool-adapter-'))
      cluster = await startCluster({ nodes: 4, pools: [pool], poolOptions: { storeDir: dir, pg: { url: TEST_PG_URL, table } } })
      reader = kind === 'sqlite' ? new SqliteStore({ path: join(dir, 'workers.db') }) : new PostgresStore({ connectionString: TEST_PG_URL, table, max: 2 })
    })
    after(async () => {
      await cluster?.stop()
      await reader?.close()
      if (kind === 'pg' && cluster !== undefined) await dropTestTable(table)
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    /** What the database holds for each id, read past every epoch written so far (a fence a test may raise: nothing writes these ids after). */
    async function stored (prefix: string, n: number): Promise<number[]> {
      const out: number[] = []
      for (let i = 0; i < n; i++) {
        const s = await (reader as WorkerStore).load(pool, `${prefix}${i}`, { epoch: Number.MAX_SAFE_INTEGER }) as { n: number } | undefined
        out.push(s?.n ?? 0)
      }
      return out
    }

    it('keeps every acknowledged increment through a SIGKILL under traffic; each live count equals its row; one copy each', async () => {
      const [a, b, c] = (cluster as Cluster).nodes
      const n = 500
      expect((await a.request<{ live: number }>('spawnMany', { pool, prefix: 'k-', n })).live).to.equal(n)
      // an increment is in the database before it is acknowledged; one that failed in
      // flight may have been written or not
      const { live, wrong, acked, twice } = await killUnderTraffic(cluster as Cluster, [a, b], [c], pool, 'k-', n)
      expect(wrong).to.deep.equal([])
      expect(acked).to.be.above(500)
      expect(twice, 'ids live on two nodes').to.deep.equal([])
      // last: reading raises each row's epoch past every live copy's
      expect(await stored('k-', n)).to.deep.equal(live)
    })
  })
}
