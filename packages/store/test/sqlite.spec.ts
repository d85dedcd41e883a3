import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../src/sqlite-store.js'
import { storeContract } from './contract.js'

describe('SqliteStore (better-sqlite3, a file on disk)', () => {
  // two stores on one file, as two processes on one machine would have
  storeContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simplepool-sqlite-'))
    const path = join(dir, 'workers.db')
    const a = new SqliteStore({ path })
    const b = new SqliteStore({ path, synchronous: 'normal' })
    return {
      a,
      b,
      drop: async () => {
        await a.close()
        await b.close()
        rmSync(dir, { recursive: true, force: true })
      }
    }
  })

  it('names a bad path, table or synchronous setting', () => {
    expect(() => new SqliteStore({ path: '' })).to.throw(/needs a path/)
    expect(() => new SqliteStore({ path: ':memory:', table: 'x; DROP TABLE y' })).to.throw(/letters, digits and underscores/)
    expect(() => new SqliteStore({ path: ':memory:', synchronous: 'off' as 'full' })).to.throw(/'full' or 'normal'/)
  })

  it('keeps what it acknowledged when the store is opened again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simplepool-sqlite-'))
    try {
      const path = join(dir, 'workers.db')
      const first = new SqliteStore({ path })
      await first.save('room', 'kept', { n: 7 }, { epoch: 3 })
      await first.close()
      const again = new SqliteStore({ path })
      expect(await again.load('room', 'kept', { epoch: 4 })).to.deep.equal({ n: 7 })
      await again.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
