// A store of worker states in files, one per worker, with the fencing a database's
// conditional write gives: a save carries the activation's epoch, and a save from an
// older epoch than the one the file holds is refused, so a stale copy (a node that was cut
// off, or hung, while another took its workers over) can never write over newer state.
//
// Made for one machine's processes sharing a directory; a deployment on several machines
// keeps the same contract in a database (an UPDATE ... WHERE epoch <= $epoch).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

export class StaleWriteError extends Error {
  constructor (message) { super(message); this.name = 'StaleWriteError' }
}

export class FileStore {
  constructor (dir) { this.dir = dir }

  path (pool, id) { return join(this.dir, pool, `${encodeURIComponent(id)}.json`) }

  /** The saved state of a worker, or undefined when it has none. */
  async load (pool, id) {
    try {
      return JSON.parse(await readFile(this.path(pool, id), 'utf8')).state
    } catch (err) {
      if (err.code === 'ENOENT') return undefined
      throw err
    }
  }

  /** Saves a worker's state unless a newer activation (a larger epoch) saved it already. */
  async save (pool, id, state, epoch) {
    const file = this.path(pool, id)
    await mkdir(join(this.dir, pool), { recursive: true })
    let held
    try {
      held = JSON.parse(await readFile(file, 'utf8')).epoch
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    if (held !== undefined && held > epoch) throw new StaleWriteError(`${pool}/${id}: epoch ${epoch} is older than the saved ${held}`)
    // whole or not at all: a reader never sees half a file
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    await writeFile(temp, JSON.stringify({ epoch, state }))
    await rename(temp, file)
  }
}
