import pg from 'pg'

/**
 * Where the tests' PostgreSQL server is: `SIMPLEPOOL_TEST_PG`, or the role and database
 * `scripts/test-postgres.sh` makes (and `.ci/run` starts) on 127.0.0.1.
 */
export const TEST_PG_URL = process.env.SIMPLEPOOL_TEST_PG ?? 'postgres://simplepool:simplepool@127.0.0.1:5432/simplepool_test'

/** `TEST_PG_URL` with its password hidden, for a skipped test's title. */
export const TEST_PG_SHOWN = TEST_PG_URL.replace(/:[^:@/]*@/, ':***@')

/** Why PostgreSQL cannot be used at `TEST_PG_URL` (the connection's error), or undefined when it answers. */
export async function postgresUnreachable (): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    await client.end().catch(() => {})
  }
}

/** Drops a table a test made at `TEST_PG_URL`. */
export async function dropTestTable (table: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL })
  await client.connect()
  try {
    await client.query(`DROP TABLE IF EXISTS ${table}`)
  } finally {
    await client.end()
  }
}
