import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { openConnection } from './connection.js';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/**
 * How long a statement on the main connection waits for the write lock once serving. It
 * runs on the event loop, so the wait freezes every request: short, but longer than one
 * transaction of the log writer's thread, which takes the same file's lock many times a
 * second under load (at most LOG_ROWS_PER_THREAD_WRITE rows, ~4 ms; see log-thread.ts).
 * At 5 ms a feedback POST or a promote answered 503 whenever it met a 2,000-row commit
 * (~15 ms); 50 ms rides through several commits queued ahead of it on a loaded machine,
 * and still fails fast (503, the log retries) when another process holds the lock.
 */
export const SERVING_BUSY_TIMEOUT_MS = 50;

/** Start-up may wait this long for another process's lock (a migration, a backup). */
const STARTING_BUSY_TIMEOUT_MS = 5_000;

/** Opens the main connection and applies pending migrations. */
export function openDatabase(path: string): Db {
  const sqlite = openConnection(path, STARTING_BUSY_TIMEOUT_MS);
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  // Once serving, every statement here runs on the event loop: a lock held elsewhere must
  // fail fast (SQLITE_BUSY), not freeze every request. The log retries with backoff; a
  // control change answers 503.
  sqlite.pragma(`busy_timeout = ${SERVING_BUSY_TIMEOUT_MS}`);
  return db;
}
