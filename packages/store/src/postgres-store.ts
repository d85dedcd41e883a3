import pg from 'pg'
import { InvalidOptionError } from '@simplepool/core'
import type { StoreCallOptions, WorkerStore } from '@simplepool/core'
import { decodeState, encodeState } from './codec.js'
import { DEFAULT_TABLE, checkEpoch, checkTable, staleWrite, storeClosed, throwIfAborted } from './stale.js'

/** Options of a {@link PostgresStore}: a connection string, or a `pg.Pool` of the application's. */
export interface PostgresStoreOptions {
  /** Where the database is (`postgres://user:password@host:5432/db`); the store makes its own pool. */
  connectionString?: string
  /** A pool the application made; the store uses it and leaves it open on `close`. */
  pool?: pg.Pool
  /** Connections of the store's own pool. @default 10 */
  max?: number
  /** The table the workers' rows go in (made when missing). @default 'simplepool_workers' */
  table?: string
}

/** Ids per page of `liveIds`. */
const PAGE = 1000

/**
 * A store in PostgreSQL (the `pg` client), for clusters of several machines: every node
 * of a pool uses the same table.
 *
 * Every load, save and delete is one conditional statement on the worker's row (an
 * upsert that raises the epoch only where the stored one is not newer), committed on its
 * own, so a copy with an older epoch can write nothing once a newer one has loaded
 * (`StaleWriteError`). The table is made on first use when missing.
 */
export class PostgresStore implements WorkerStore {
  private readonly pool: pg.Pool
  private readonly owned: boolean
  private readonly table: string
  private ready: Promise<void> | undefined
  private closed = false

  constructor (options: PostgresStoreOptions) {
    if (options == null || (options.pool === undefined && typeof options.connectionString !== 'string')) {
      throw new InvalidOptionError('PostgresStore needs a connectionString or a pool')
    }
    this.table = checkTable(options.table ?? DEFAULT_TABLE)
    this.owned = options.pool === undefined
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 })
    // an idle connection the server closed must not bring the process down
    if (this.owned) this.pool.on('error', () => {})
  }

  async load (pool: string, id: string, options: StoreCallOptions): Promise<unknown> {
    await this.before('load', pool, id, options)
    const r = await this.pool.query<{ state: Buffer | null }>(
      `INSERT INTO ${this.table} AS r (pool, id, epoch, state) VALUES ($1, $2, $3, NULL) ON CONFLICT (pool, id) DO UPDATE SET epoch = EXCLUDED.epoch WHERE r.epoch <= EXCLUDED.epoch RETURNING state`,
      [pool, id, options.epoch])
    if (r.rows.length === 0) throw staleWrite('load', pool, id, options.epoch, await this.epochOf(pool, id))
    const state = r.rows[0].state
    return state === null ? undefined : decodeState(state)
  }

  async save (pool: string, id: string, state: unknown, options: StoreCallOptions): Promise<void> {
    const bytes = encodeState(state)
    await this.before('save', pool, id, options)
    const r = await this.pool.query(
      `INSERT INTO ${this.table} AS r (pool, id, epoch, state) VALUES ($1, $2, $3, $4) ON CONFLICT (pool, id) DO UPDATE SET epoch = EXCLUDED.epoch, state = EXCLUDED.state WHERE r.epoch <= EXCLUDED.epoch`,
      [pool, id, options.epoch, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])
    if (r.rowCount === 0) throw staleWrite('save', pool, id, options.epoch, await this.epochOf(pool, id))
  }

  async delete (pool: string, id: string, options: StoreCallOptions): Promise<void> {
    await this.before('delete', pool, id, options)
    // the row stays, its epoch with it: an older copy cannot write the worker back
    const r = await this.pool.query(`UPDATE ${this.table} SET state = NULL, epoch = $3 WHERE pool = $1 AND id = $2 AND epoch <= $3`, [pool, id, options.epoch])
    if (r.rowCount !== 0) return
    const stored = await this.epochOf(pool, id)
    // a delete of a worker never saved changes nothing, and is no conflict
    if (stored !== undefined) throw staleWrite('delete', pool, id, options.epoch, stored)
  }

  async * liveIds (pool: string, options?: { signal?: AbortSignal }): AsyncIterable<string> {
    await this.made()
    let after = ''
    for (;;) {
      throwIfAborted(options?.signal, `the ids of ${pool}`)
      if (this.closed) throw storeClosed(`the ids of ${pool}`)
      const r = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.table} WHERE pool = $1 AND id > $2 AND state IS NOT NULL ORDER BY id LIMIT ${PAGE}`, [pool, after])
      for (const row of r.rows) yield row.id
      if (r.rows.length < PAGE) return
      after = r.rows[r.rows.length - 1].id
    }
  }

  /** Ends the store's own pool (a pool given to it stays open). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.owned) await this.pool.end()
  }

  private async before (what: string, pool: string, id: string, options: StoreCallOptions): Promise<void> {
    if (this.closed) throw storeClosed(`the ${what} of ${pool}/${id}`)
    checkEpoch(options.epoch)
    await this.made()
    throwIfAborted(options.signal, `the ${what} of ${pool}/${id}`)
  }

  private async epochOf (pool: string, id: string): Promise<number | undefined> {
    const r = await this.pool.query<{ epoch: string }>(`SELECT epoch FROM ${this.table} WHERE pool = $1 AND id = $2`, [pool, id])
    // BIGINT comes back as a string; epochs are safe integers
    return r.rows.length === 0 ? undefined : Number(r.rows[0].epoch)
  }

  /** Makes the table once; a first use that failed (the server was away) is tried again by the next. */
  private async made (): Promise<void> {
    this.ready ??= this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (pool TEXT NOT NULL, id TEXT NOT NULL, epoch BIGINT NOT NULL, state BYTEA, PRIMARY KEY (pool, id))`).then(
      () => {},
      async (err: Error) => {
        // another node made it at the same moment (IF NOT EXISTS does not see a creation
        // under way: the other's table, or its row type, clashes): then it is there
        const r = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.table]).catch(() => undefined)
        if (r?.rows[0]?.t != null) return
        this.ready = undefined
        throw err
      })
    await this.ready
  }
}
