import Database from 'better-sqlite3'
import { InvalidOptionError, deferOf, systemClock } from '@simplepool/core'
import type { Clock, StoreCallOptions, WorkerStore } from '@simplepool/core'
import { encodeState, settleDecoded } from './codec.js'
import type { QueuedWrite } from './queued-write.js'
import { DEFAULT_TABLE, aborted, checkEpoch, checkTable, staleWrite, storeClosed, throwIfAborted } from './stale.js'

/** Options of a {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file (made when missing), or `':memory:'`. */
  path: string
  /** The table the workers' rows go in (made when missing). @default 'simplepool_workers' */
  table?: string
  /**
   * SQLite's `synchronous` setting. `'full'`: a save is answered once it is on disk, so it
   * survives a power cut. `'normal'`: once it is in the write-ahead log, so it survives the
   * process being killed, not always the machine losing power; faster. @default 'full'
   */
  synchronous?: 'full' | 'normal'
  /** How long a write waits for another process holding the file's write lock, in ms. @default 5000 */
  busyTimeoutMs?: number
  /** How the store yields to group writes into one transaction; tests inject theirs. @default systemClock */
  clock?: Clock
}

/** Writes per transaction at most: a longer one would hold the event loop (better-sqlite3 is synchronous). */
const BATCH = 512
/** Ids per page of `liveIds`. */
const PAGE = 1000

type Write = QueuedWrite

/**
 * A store in one SQLite file (better-sqlite3 12): the embedded default, for one machine
 * (several processes on it may share the file: it runs in WAL mode, and writers wait for
 * each other's lock up to `busyTimeoutMs`).
 *
 * Every load, save and delete is one conditional statement on the worker's row (an
 * upsert that raises the epoch only where the stored one is not newer), so a copy with an
 * older epoch can write nothing once a newer one has loaded (`StaleWriteError`). Writes
 * made in one turn of the event loop go in one transaction (group commit: one sync to
 * disk for all of them), at most 512 at a time, since better-sqlite3 runs them on the
 * event loop; each is answered on its own.
 */
export class SqliteStore implements WorkerStore {
  private readonly db: Database.Database
  private readonly defer: (fn: () => void) => void
  private readonly statements: {
    fence: Database.Statement
    save: Database.Statement
    erase: Database.Statement
    epochOf: Database.Statement
    ids: Database.Statement
  }

  private readonly commit: (batch: Write[]) => Array<Error | undefined | { state: unknown }>
  private queue: Write[] = []
  private flushing = false
  private closed = false

  constructor (options: SqliteStoreOptions) {
    if (options == null || typeof options.path !== 'string' || options.path.length === 0) throw new InvalidOptionError('SqliteStore needs a path: a database file, or \':memory:\'')
    const table = checkTable(options.table ?? DEFAULT_TABLE)
    const synchronous = options.synchronous ?? 'full'
    if (synchronous !== 'full' && synchronous !== 'normal') throw new InvalidOptionError(`SqliteStore synchronous must be 'full' or 'normal', got ${String(synchronous)}`)
    this.defer = deferOf(options.clock ?? systemClock)
    this.db = new Database(options.path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`)
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (pool TEXT NOT NULL, id TEXT NOT NULL, epoch INTEGER NOT NULL, state BLOB, PRIMARY KEY (pool, id)) WITHOUT ROWID`)
    this.statements = {
      // raises the epoch, unless a newer one holds the row; no row back when it does
      fence: this.db.prepare(`INSERT INTO ${table} AS r (pool, id, epoch, state) VALUES (?, ?, ?, NULL) ON CONFLICT (pool, id) DO UPDATE SET epoch = excluded.epoch WHERE r.epoch <= excluded.epoch RETURNING state`),
      save: this.db.prepare(`INSERT INTO ${table} AS r (pool, id, epoch, state) VALUES (?, ?, ?, ?) ON CONFLICT (pool, id) DO UPDATE SET epoch = excluded.epoch, state = excluded.state WHERE r.epoch <= excluded.epoch`),
      // the row stays, its epoch with it: an older copy cannot write the worker back
      erase: this.db.prepare(`UPDATE ${table} SET state = NULL, epoch = ? WHERE pool = ? AND id = ? AND epoch <= ?`),
      epochOf: this.db.prepare(`SELECT epoch FROM ${table} WHERE pool = ? AND id = ?`).pluck(),
      ids: this.db.prepare(`SELECT id FROM ${table} WHERE pool = ? AND id > ? AND state IS NOT NULL ORDER BY id LIMIT ${PAGE}`).pluck()
    }
    this.commit = this.db.transaction((batch: Write[]) => batch.map(w => this.apply(w)))
  }

  async load (pool: string, id: string, options: StoreCallOptions): Promise<unknown> {
    return await this.enqueue('load', pool, id, null, options)
  }

  async save (pool: string, id: string, state: unknown, options: StoreCallOptions): Promise<void> {
    await this.enqueue('save', pool, id, encodeState(state), options)
  }

  async delete (pool: string, id: string, options: StoreCallOptions): Promise<void> {
    await this.enqueue('delete', pool, id, null, options)
  }

  async * liveIds (pool: string, options?: { signal?: AbortSignal }): AsyncIterable<string> {
    let after = ''
    for (;;) {
      throwIfAborted(options?.signal, `the ids of ${pool}`)
      if (this.closed) throw storeClosed(`the ids of ${pool}`)
      const page = this.statements.ids.all(pool, after) as string[]
      yield * page
      if (page.length < PAGE) return
      after = page[page.length - 1]
    }
  }

  /** Writes what is queued, then closes the file. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.queue.length > 0) this.flush()
    this.db.close()
  }

  private async enqueue (what: Write['what'], pool: string, id: string, state: Uint8Array | null, options: StoreCallOptions): Promise<unknown> {
    if (this.closed) throw storeClosed(`the ${what} of ${pool}/${id}`)
    checkEpoch(options.epoch)
    throwIfAborted(options.signal, `the ${what} of ${pool}/${id}`)
    return await new Promise((resolve, reject) => {
      this.queue.push({ what, pool, id, epoch: options.epoch, state, signal: options.signal, resolve, reject })
      if (!this.flushing) {
        this.flushing = true
        this.defer(() => { this.flushAll() })
      }
    })
  }

  /** One transaction per turn of the event loop, as long as writes are queued. */
  private flushAll (): void {
    if (this.closed) return
    this.flush()
    if (this.queue.length > 0) this.defer(() => { this.flushAll() })
    else this.flushing = false
  }

  private flush (): void {
    const batch = this.queue.length <= BATCH ? this.queue : this.queue.slice(0, BATCH)
    this.queue = this.queue.length <= BATCH ? [] : this.queue.slice(BATCH)
    let outcomes: ReturnType<typeof this.commit>
    try {
      outcomes = this.commit(batch)
    } catch (err) {
      // the transaction rolled back: nothing of this batch was written
      for (const w of batch) w.reject(err as Error)
      return
    }
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i]
      if (o instanceof Error) batch[i].reject(o)
      else if (o?.state instanceof Uint8Array) settleDecoded(batch[i], o.state)
      else batch[i].resolve(undefined)
    }
  }

  /** One write of a transaction: its outcome (the error it is refused with, or the state a load read). */
  private apply (w: Write): Error | undefined | { state: unknown } {
    const s = this.statements
    if (w.signal?.aborted === true) return aborted(`the ${w.what} of ${w.pool}/${w.id}`)
    if (w.what === 'load') {
      const row = s.fence.get(w.pool, w.id, w.epoch) as { state: Buffer | null } | undefined
      if (row === undefined) return staleWrite('load', w.pool, w.id, w.epoch, s.epochOf.get(w.pool, w.id) as number | undefined)
      // decoded after the commit: a row that does not decode fails its load alone
      return { state: row.state === null ? undefined : row.state }
    }
    const changed = w.what === 'save' ? s.save.run(w.pool, w.id, w.epoch, w.state).changes : s.erase.run(w.epoch, w.pool, w.id, w.epoch).changes
    if (changed > 0) return undefined
    const stored = s.epochOf.get(w.pool, w.id) as number | undefined
    // a delete of a worker never saved changes nothing, and is no conflict
    return stored === undefined ? undefined : staleWrite(w.what, w.pool, w.id, w.epoch, stored)
  }
}
