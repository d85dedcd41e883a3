import { expect } from 'chai'
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadKeyFile } from '../src/key-file.js'

describe('key file', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'simplepool-key-file-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('makes a key with mode 0600 when missing, and reads the same one back', async () => {
    const path = join(dir, 'node.key')
    const made = await loadKeyFile(path)
    expect(made.created).to.equal(true)
    expect(statSync(path).mode & 0o777).to.equal(0o600)
    // written whole beside it, then linked into place: nothing else is left
    expect(readdirSync(dir)).to.deep.equal(['node.key'])
    const read = await loadKeyFile(path)
    expect(read).to.include({ created: false, exposed: false })
    expect(peerIdFromPrivateKey(read.privateKey).toString()).to.equal(peerIdFromPrivateKey(made.privateKey).toString())
    chmodSync(path, 0o644)
    expect((await loadKeyFile(path)).exposed).to.equal(true)
  })

  it('refuses a link to a file that does not exist (a secret not mounted yet), and leaves no file behind', async () => {
    const path = join(dir, 'node.key')
    symlinkSync(join(dir, 'missing', 'secret.key'), path)
    let err: Error | undefined
    try {
      await loadKeyFile(path)
    } catch (e) {
      err = e as Error
    }
    expect(err?.message).to.match(/symbolic link to a file that does not exist/)
    expect(readdirSync(dir)).to.deep.equal(['node.key'])
  })

  it('refuses a file that holds no key, and leaves it as it was', async () => {
    const path = join(dir, 'node.key')
    writeFileSync(path, 'not a key')
    let err: Error | undefined
    try {
      await loadKeyFile(path)
    } catch (e) {
      err = e as Error
    }
    expect(err?.name).to.equal('InvalidOptionError')
    expect(err?.message).to.match(/holds no libp2p private key/)
    expect(statSync(path).size).to.equal(9)
  })
})
