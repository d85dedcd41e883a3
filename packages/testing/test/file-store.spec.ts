import { expect } from 'chai'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore } from '../src/file-store.js'

describe('FileStore', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'simplepool-file-store-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('writes at the stored epoch or newer, refuses and logs an older one, and keeps one version', () => {
    const store = new FileStore(dir)
    expect(store.write('a', 1, 5)).to.equal(true)
    expect(store.write('a', 2, 5)).to.equal(true)
    expect(store.write('a', 9, 4)).to.equal(false)
    expect(store.read('a')).to.deep.equal({ value: 2, epoch: 5 })
    expect(store.staleWrites()).to.deep.equal([{ key: 'a', epoch: 4, storedEpoch: 5, value: 9, stored: 2 }])
    expect(store.write('a', 3, 6)).to.equal(true)
    expect(readdirSync(join(dir, 'k-a'))).to.have.length(1)
    expect(store.keys()).to.deep.equal(['a'])
  })

  it('a stale write that lands after a newer one (its writer froze past the check) changes nothing', () => {
    const store = new FileStore(dir)
    expect(store.write('a', 3, 7)).to.equal(true)
    // what a writer with epoch 6 leaves when it looked at the key before epoch 7 wrote, then
    // stood still: its version lands last in time, first in order
    writeFileSync(join(dir, 'k-a', `${'6'.padStart(17, '0')}-${'9'.repeat(20)}.json`), JSON.stringify({ value: 1, epoch: 6 }))
    expect(store.read('a')).to.deep.equal({ value: 3, epoch: 7 })
    expect(store.write('a', 2, 6)).to.equal(false)
  })
})
