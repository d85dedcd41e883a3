import { expect } from 'chai'
import pg from 'pg'
import { TEST_PG_SHOWN, TEST_PG_URL as URL, dropTestTable, postgresUnreachable } from '@simplepool/testing'
import { PostgresStore } from '../src/postgres-store.js'
import { storeContract } from './contract.js'

describe('PostgresStore (pg, a real PostgreSQL server)', function () {
  before(async function () {
    const why = await postgresUnreachable()
    if (why !== undefined) {
      this.test?.parent?.tests.forEach(t => { t.title = `skipped because PostgreSQL does not answer at ${TEST_PG_SHOWN} (${why}): ${t.title}` })
      this.skip()
    }
  })

  let n = 0
  // two stores on one table, as two nodes on two machines would have; a table per test
  storeContract(async () => {
    const table = `t_${process.pid}_${++n}`
    const a = new PostgresStore({ connectionString: URL, table, max: 4 })
    const b = new PostgresStore({ connectionString: URL, table, max: 4 })
    return {
      a,
      b,
      drop: async () => {
        await a.close()
        await b.close()
        await dropTestTable(table)
      }
    }
  })

  it('makes its table once when many nodes start together, and uses a pool it is given', async () => {
    const table = `t_${process.pid}_together`
    const shared = new pg.Pool({ connectionString: URL, max: 8 })
    try {
      const stores = Array.from({ length: 8 }, () => new PostgresStore({ pool: shared, table }))
      await Promise.all(stores.map(async (s, i) => { await s.save('room', `r${i}`, { i }, { epoch: 1 }) }))
      for (const s of stores) await s.close()
      // a pool given to the store stays open
      const r = await shared.query(`SELECT count(*)::int AS n FROM ${table}`)
      expect(r.rows[0].n).to.equal(8)
    } finally {
      await shared.query(`DROP TABLE IF EXISTS ${table}`)
      await shared.end()
    }
  })
})

describe('PostgresStore options', () => {
  it('names a missing connection and a bad table', () => {
    expect(() => new PostgresStore({})).to.throw(/connectionString or a pool/)
    expect(() => new PostgresStore({ connectionString: URL, table: 'bad-name' })).to.throw(/letters, digits and underscores/)
  })
})
