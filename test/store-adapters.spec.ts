import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TEST_PG_SHOWN, TEST_PG_URL, dropTestTable, postgresUnreachable, startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import type { WorkerStore } from 'simplepool'
import { SqliteStore } from '@simplepool/store/sqlite'
import { PostgresStore } from '@simplepool/store/postgres'
import { ledgerTraffic, settled } from './ledger-traffic.js'

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
      const running = ledgerTraffic([a, b], 'k-', n, 4, pool)
      await new Promise(resolve => setTimeout(resolve, 1_500))
      c.kill('SIGKILL')
      await a.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 10_000, 'c marked down')
      const during = await running
      expect(Object.keys(during.errors).filter(name => name !== 'NodeUnavailableError'), JSON.stringify(during.latest.slice(-3))).to.deep.equal([])
      const after = await ledgerTraffic([a, b], 'k-', n, 2, pool)
      expect(after.errors, JSON.stringify(after.latest.slice(-3))).to.deep.equal({})
      await settled((cluster as Cluster).running, 20_000)
      const live = (await a.request<Array<number | null>>('callEach', { pool, prefix: 'k-', n, msg: 'get' }, 30_000)).map(v => v ?? 0)
      // an increment is in the database before it is acknowledged; one that failed in
      // flight may have been written or not
      const wrong = live.map((v, i) => ({ i, v, acked: during.acks[i] + after.acks[i], failed: during.failed[i] }))
        .filter(x => x.v < x.acked || x.v > x.acked + x.failed)
      expect(wrong.slice(0, 5)).to.deep.equal([])
      expect(during.acks.reduce((x, y) => x + y, 0)).to.be.above(500)
      const epochs = await Promise.all((cluster as Cluster).running.map(async (node: NodeHandle) => await node.request<Array<number | null>>('localEpochs', { pool, prefix: 'k-', n })))
      expect(live.map((_, i) => i).filter(i => epochs.filter(e => e[i] !== null).length > 1).slice(0, 5), 'ids live on two nodes').to.deep.equal([])
      // last: reading raises each row's epoch past every live copy's
      expect(await stored('k-', n)).to.deep.equal(live)
    })
  })
}
