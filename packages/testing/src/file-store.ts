import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'

/** One stored value and the epoch of the activation that wrote it. */
export interface StoredValue<T> {
  value: T
  epoch: number
}

/**
 * A store every node process of a test can reach: one small file per key in a shared
 * directory, written with a conditional write like a real database's (a write whose epoch
 * is older than the stored one is refused). Each refused write is logged, so a test sees
 * whether a stale activation ever tried to write over newer state. Synchronous on purpose:
 * a write is done before the turn that made it answers.
 */
export class FileStore {
  readonly dir: string
  private readonly staleLog: string
  private tmp = 0

  constructor (dir: string) {
    this.dir = dir
    this.staleLog = join(dir, '_stale.log')
    mkdirSync(dir, { recursive: true })
  }

  read<T> (key: string): StoredValue<T> | undefined {
    try {
      return JSON.parse(readFileSync(this.file(key), 'utf8')) as StoredValue<T>
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  /** Writes `value` unless a newer epoch wrote this key; returns whether it was written. */
  write<T> (key: string, value: T, epoch: number): boolean {
    const prev = this.read<T>(key)
    if (prev !== undefined && prev.epoch > epoch) {
      appendFileSync(this.staleLog, JSON.stringify({ key, epoch, storedEpoch: prev.epoch, value, stored: prev.value }) + '\n')
      return false
    }
    // write then rename, so a reader in another process never sees half a file
    const tmp = join(this.dir, `_tmp-${process.pid}-${this.tmp++}`)
    writeFileSync(tmp, JSON.stringify({ value, epoch }))
    renameSync(tmp, this.file(key))
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

  private file (key: string): string {
    return join(this.dir, 'k-' + encodeURIComponent(key))
  }
}
