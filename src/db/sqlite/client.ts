import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/** How long a statement waits for another process's lock once serving. */
export const SERVING_BUSY_TIMEOUT_MS = 5;

/** Opens (creating if needed) the SQLite file in WAL mode and applies pending migrations. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the tail.
  sqlite.pragma('synchronous = NORMAL');
  // Start-up may wait for another process's lock (a migration, a backup)...
  sqlite.pragma('busy_timeout = 5000');
  // The log writer's small, frequent transactions touch the same index pages again and
  // again: a 32 MiB page cache and checkpoints every ~40 MB of WAL (not ~4 MB) keep those
  // pages in memory between flushes (+20 % rows/s in scripts/bench, log writer).
  sqlite.pragma('cache_size = -32768');
  sqlite.pragma('wal_autocheckpoint = 10000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  // ...but once serving, every statement runs on the event loop: a lock held elsewhere
  // must fail fast (SQLITE_BUSY), not freeze every request. The log retries with backoff;
  // a control change answers 503.
  sqlite.pragma(`busy_timeout = ${SERVING_BUSY_TIMEOUT_MS}`);
  return db;
}
