import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'

/** One stored value and the epoch of the activation that wrote it. */
export interface StoredValue<T> {
  value: T
  epoch: number
}

/** Width of an epoch in a version's file name (epochs are safe integers: at most 16 digits). */
const EPOCH_DIGITS = 17
/** Width of the monotonic clock's nanoseconds in a version's file name. */
const TIME_DIGITS = 20

/**
 * A store every node process of a test can reach, written with a conditional write like a
 * real database's (a write whose epoch is older than the stored one is refused). Each
 * refused write is logged, so a test sees whether a stale activation ever tried to write
 * over newer state. Synchronous on purpose: a write is done before the turn that made it
 * answers.
 *
 * The write must be atomic across processes as a database's is, and a process can be
 * frozen (SIGSTOP) between looking at the stored epoch and writing: a copy frozen there
 * wrote its stale value over a newer one when it woke. So each key is a directory of
 * versions named by epoch, then by the machine's monotonic clock (one for every process),
 * and the stored value is the version whose name sorts last: a write lands as its own file,
 * is looked at again once it is there, and counts as refused when a newer epoch's version
 * is there too, as a database refuses it at commit. Older versions are removed.
 */
export class FileStore {
  readonly dir: string
  private readonly staleLog: string

  constructor (dir: string) {
    this.dir = dir
    this.staleLog = join(dir, '_stale.log')
    mkdirSync(dir, { recursive: true })
  }

  read<T> (key: string): StoredValue<T> | undefined {
    // a newer write may remove the version between the listing and the read: look again
    for (;;) {
      const last = this.versions(key).at(-1)
      if (last === undefined) return undefined
      try {
        return JSON.parse(readFileSync(join(this.keyDir(key), last), 'utf8')) as StoredValue<T>
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  }

  /** Writes `value` unless a newer epoch wrote this key; returns whether it was written. */
  write<T> (key: string, value: T, epoch: number): boolean {
    if (!this.notOlder(key, epoch, value)) return false
    const dir = this.keyDir(key)
    mkdirSync(dir, { recursive: true })
    const name = `${String(epoch).padStart(EPOCH_DIGITS, '0')}-${String(process.hrtime.bigint()).padStart(TIME_DIGITS, '0')}.json`
    // written whole, then renamed, so a reader in another process never sees half a file
    const tmp = join(dir, `_tmp-${name}`)
    writeFileSync(tmp, JSON.stringify({ value, epoch }))
    renameSync(tmp, join(dir, name))
    if (!this.notOlder(key, epoch, value)) return false
    for (const older of this.versions(key)) {
      if (older >= name) break
      try { unlinkSync(join(dir, older)) } catch {}
    }
    return true
  }

  /** Writes refused because they were stale, oldest first. */
  staleWrites (): Array<{ key: string, epoch: number, storedEpoch: number }> {
    try {
      return readFileSync(this.staleLog, 'utf8').split('\n').filter(l => l.length > 0).map(l => JSON.parse(l))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }

  /** The keys stored. */
  keys (): string[] {
    return readdirSync(this.dir).filter(f => f.startsWith('k-')).map(f => decodeURIComponent(f.slice(2)))
  }

  /** Whether no newer epoch than `epoch` wrote `key`; logs the write of `value` as stale when one did. */
  private notOlder<T> (key: string, epoch: number, value: T): boolean {
    const stored = this.read<T>(key)
    if (stored === undefined || stored.epoch <= epoch) return true
    appendFileSync(this.staleLog, JSON.stringify({ key, epoch, storedEpoch: stored.epoch, value, stored: stored.value }) + '\n')
    return false
  }

  /** The versions of `key`, oldest first. */
  private versions (key: string): string[] {
    try {
      return readdirSync(this.keyDir(key)).filter(f => f.endsWith('.json') && !f.startsWith('_')).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }

  private keyDir (key: string): string {
    return join(this.dir, 'k-' + encodeURIComponent(key))
  }
}
