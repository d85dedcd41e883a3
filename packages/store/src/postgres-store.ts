import pg from 'pg'
import { InvalidOptionError, deferOf, systemClock } from '@simplepool/core'
import type { Clock, StoreCallOptions, WorkerStore } from '@simplepool/core'
import { encodeState, settleDecoded } from './codec.js'
import type { QueuedWrite } from './queued-write.js'
import { DEFAULT_TABLE, aborted, checkEpoch, checkTable, staleWrite, storeClosed, throwIfAborted } from './stale.js'

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
  /** How the store yields to group writes into one transaction; tests inject theirs. @default systemClock */
  clock?: Clock
}

/** Ids per page of `liveIds`. */
const PAGE = 1000
/** Writes per transaction at most. */
const BATCH = 500
/** Tries of a batch that met a deadlock or a serialization failure (40P01, 40001): rolled back whole, it is safe to send again. */
const RETRIES = 5
const RETRIED = new Set(['40P01', '40001'])

type Write = QueuedWrite

/**
 * A store in PostgreSQL (the `pg` client), for clusters of several machines: every node
 * of a pool uses the same table.
 *
 * Every load, save and delete is a conditional write on the worker's row (an upsert that
 * raises the epoch only where the stored one is not newer), so a copy with an older epoch
 * can write nothing once a newer one has loaded (`StaleWriteError`). Writes made in one
 * turn of the event loop go to the server together: one statement per kind (loads,
 * saves, deletes) over arrays, in one transaction, so one commit (and one sync to disk)
 * serves them all; each is answered on its own. Up to `max` such transactions are in
 * flight at once, one per connection. The table is made on first use when missing.
 */
export class PostgresStore implements WorkerStore {
  private readonly pool: pg.Pool
  private readonly owned: boolean
  private readonly table: string
  private readonly defer: (fn: () => void) => void
  private readonly maxInFlight: number
  private ready: Promise<void> | undefined
  private closed = false
  private queue: Write[] = []
  private inFlight = 0
  /** The rows a batch in flight writes: a later write of one waits for it, so that writes of a row land in the order they were made. */
  private readonly busyRows = new Set<string>()
  private scheduled = false
  /** Settles when nothing is queued or in flight (for `close`). */
  private idle: (() => void) | undefined
  private closing: Promise<void> | undefined

  constructor (options: PostgresStoreOptions) {
    if (options == null || (options.pool === undefined && typeof options.connectionString !== 'string')) {
      throw new InvalidOptionError('PostgresStore needs a connectionString or a pool')
    }
    this.table = checkTable(options.table ?? DEFAULT_TABLE)
    this.owned = options.pool === undefined
    // a server that does not answer fails writes (and lets close end) instead of holding them for ever
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10, connectionTimeoutMillis: 10_000, query_timeout: 30_000 })
    this.maxInFlight = Math.max(1, options.pool?.options.max ?? options.max ?? 10)
    this.defer = deferOf(options.clock ?? systemClock)
    // an idle connection the server closed must not bring the process down
    if (this.owned) this.pool.on('error', () => {})
  }

  async load (pool: string, id: string, options: StoreCallOptions): Promise<unknown> {
    return await this.enqueue('load', pool, id, null, options)
  }

  async save (pool: string, id: string, state: unknown, options: StoreCallOptions): Promise<void> {
    const bytes = encodeState(state)
    await this.enqueue('save', pool, id, bytes, options)
  }

  async delete (pool: string, id: string, options: StoreCallOptions): Promise<void> {
    await this.enqueue('delete', pool, id, null, options)
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

  /** Writes what is queued, then ends the store's own pool (a pool given to it stays open). */
  async close (): Promise<void> {
    this.closed = true
    this.closing ??= (async () => {
      if (this.queue.length > 0 || this.inFlight > 0) {
        await new Promise<void>(resolve => { this.idle = resolve; this.flush() })
      }
      if (this.owned) await this.pool.end()
    })()
    await this.closing
  }

  private async enqueue (what: Write['what'], pool: string, id: string, state: Uint8Array | null, options: StoreCallOptions): Promise<unknown> {
    if (this.closed) throw storeClosed(`the ${what} of ${pool}/${id}`)
    checkEpoch(options.epoch)
    checkText(pool, 'pool')
    checkText(id, 'id')
    throwIfAborted(options.signal, `the ${what} of ${pool}/${id}`)
    return await new Promise((resolve, reject) => {
      this.queue.push({ what, pool, id, epoch: options.epoch, state, signal: options.signal, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        this.defer(() => { this.scheduled = false; this.flush() })
      }
    })
  }

  /** Sends batches while connections are free and writes wait. */
  private flush (): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.take()
      // every write waiting is of a row a batch in flight writes: it goes when that one settles
      if (batch.length === 0) return
      this.inFlight++
      void this.send(batch).finally(() => {
        for (const w of batch) this.busyRows.delete(rowOf(w))
        this.inFlight--
        if (this.queue.length > 0) this.flush()
        else if (this.inFlight === 0) this.idle?.()
      })
    }
  }

  /**
   * Up to BATCH writes from the queue, one per row and none of a row a batch in flight
   * writes (a statement may change a row only once, and writes of a row land in the order
   * they were made), sorted by row: transactions that take their rows' locks in one order
   * do not deadlock.
   */
  private take (): Write[] {
    const batch: Write[] = []
    const rest: Write[] = []
    for (const w of this.queue) {
      const key = rowOf(w)
      if (batch.length >= BATCH || this.busyRows.has(key)) rest.push(w)
      else {
        this.busyRows.add(key)
        batch.push(w)
      }
    }
    this.queue = rest
    return batch.sort((a, b) => a.pool < b.pool ? -1 : a.pool > b.pool ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  }

  /** One transaction for `batch`: each write is answered with its outcome, all fail if it fails. */
  private async send (batch: Write[]): Promise<void> {
    const live = batch.filter(w => {
      if (w.signal?.aborted !== true) return true
      w.reject(aborted(`the ${w.what} of ${w.pool}/${w.id}`))
      return false
    })
    if (live.length === 0) return
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient | undefined
      try {
        await this.made()
        client = await this.pool.connect()
        await client.query('BEGIN')
        const outcomes = new Map<Write, unknown>()
        for (const what of ['load', 'save', 'delete'] as const) {
          const ws = live.filter(w => w.what === what)
          if (ws.length > 0) await this.write(client, what, ws, outcomes)
        }
        await client.query('COMMIT')
        for (const w of live) {
          const o = outcomes.get(w)
          if (o instanceof Error) w.reject(o)
          else if (o instanceof Uint8Array) settleDecoded(w, o)
          else w.resolve(o)
        }
        return
      } catch (err) {
        await client?.query('ROLLBACK').catch(() => {})
        // nothing of this batch was written: a deadlock or a serialization failure with
        // another node's batch is tried again
        if (attempt < RETRIES && RETRIED.has((err as { code?: string }).code ?? '')) continue
        for (const w of live) w.reject(err as Error)
        return
      } finally {
        client?.release()
      }
    }
  }

  /** One statement for writes of one kind; each write's outcome (the state a load read, or the error) goes in `outcomes`. */
  private async write (client: pg.PoolClient, what: Write['what'], ws: Write[], outcomes: Map<Write, unknown>): Promise<void> {
    const t = this.table
    const pools = ws.map(w => w.pool)
    const ids = ws.map(w => w.id)
    const epochs = ws.map(w => w.epoch)
    const unnest = 'unnest($1::text[], $2::text[], $3::bigint[])'
    const r = what === 'load'
      ? await client.query<{ pool: string, id: string, state: Buffer | null }>(
        `INSERT INTO ${t} AS r (pool, id, epoch, state) SELECT p, i, e, NULL FROM ${unnest} AS u(p, i, e) ON CONFLICT (pool, id) DO UPDATE SET epoch = EXCLUDED.epoch WHERE r.epoch <= EXCLUDED.epoch RETURNING pool, id, state`,
        [pools, ids, epochs])
      : what === 'save'
        ? await client.query<{ pool: string, id: string, state?: undefined }>(
          `INSERT INTO ${t} AS r (pool, id, epoch, state) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[]) ON CONFLICT (pool, id) DO UPDATE SET epoch = EXCLUDED.epoch, state = EXCLUDED.state WHERE r.epoch <= EXCLUDED.epoch RETURNING pool, id`,
          [pools, ids, epochs, ws.map(w => w.state)])
        // the row stays, its epoch with it: an older copy cannot write the worker back
        : await client.query<{ pool: string, id: string, state?: undefined }>(
          `UPDATE ${t} AS r SET state = NULL, epoch = u.e FROM ${unnest} AS u(p, i, e) WHERE r.pool = u.p AND r.id = u.i AND r.epoch <= u.e RETURNING r.pool, r.id`,
          [pools, ids, epochs])
    const done = new Map<string, Buffer | null | undefined>()
    for (const row of r.rows) done.set(keyOf(row.pool, row.id), row.state)
    const refused = ws.filter(w => !done.has(rowOf(w)))
    const stored = new Map<string, number>()
    if (refused.length > 0) {
      const e = await client.query<{ pool: string, id: string, epoch: string }>(
        `SELECT t.pool, t.id, t.epoch FROM ${t} AS t JOIN unnest($1::text[], $2::text[]) AS u(p, i) ON t.pool = u.p AND t.id = u.i`,
        [refused.map(w => w.pool), refused.map(w => w.id)])
      // BIGINT comes back as a string; epochs are safe integers
      for (const row of e.rows) stored.set(keyOf(row.pool, row.id), Number(row.epoch))
    }
    for (const w of ws) {
      const key = rowOf(w)
      if (done.has(key)) {
        const state = done.get(key)
        outcomes.set(w, what === 'load' && state != null ? state : undefined)
        continue
      }
      const epoch = stored.get(key)
      // a delete of a worker never saved changes nothing, and is no conflict
      outcomes.set(w, what === 'delete' && epoch === undefined ? undefined : staleWrite(what, w.pool, w.id, w.epoch, epoch))
    }
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

/** A row's key in the maps of a batch: pool and id apart by a NUL, which neither may hold. */
function keyOf (pool: string, id: string): string {
  return `${pool}\u0000${id}`
}

function rowOf (w: Write): string {
  return keyOf(w.pool, w.id)
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** A pool or id PostgreSQL stores as it is: no NUL (its text cannot hold one), no lone surrogate (not UTF-8). */
function checkText (text: string, what: string): void {
  if (text.includes('\u0000') || LONE_SURROGATE.test(text)) throw new InvalidOptionError(`a ${what} with a NUL character or a lone surrogate cannot be stored in PostgreSQL`)
}
