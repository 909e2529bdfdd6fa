import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrations-pg');

/** Any fixed number: the key every replica takes before migrating ("mgate" in ASCII). */
const MIGRATION_LOCK = 0x6d67617465;

/**
 * A pool on `url` that survives the database going away: a dead idle connection is
 * reported, not thrown (an unhandled 'error' event would end the process), and a
 * connection attempt gives up after a few seconds instead of hanging a flush forever.
 */
export function createPool(url: string, onWarn: (message: string, error?: unknown) => void) {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    // Replicas each hold a pool: keep the database's connection budget in mind.
    max: 10,
  });
  pool.on('error', (error) => onWarn('postgres: idle connection failed', error));
  // A checked-out client whose connection drops emits 'error' too, with no pool listener
  // attached while it is out: that would crash the process. The query in flight fails
  // with the same error, and the caller releases the client as broken.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Drizzle over the pool, for the stores that read and write a row at a time. */
export function createDb(pool: pg.Pool): PgDb {
  return drizzle({ client: pool, schema });
}

/**
 * Applies pending migrations under a session advisory lock, so replicas starting
 * together migrate one after the other (the second finds nothing left to do).
 */
export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migrate(drizzle({ client, schema }), { migrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A connection that failed mid-way may still hold the lock: close it rather than reuse it.
    client.release(broken);
  }
}
