import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens (creating if needed) the SQLite file in WAL mode with the project's settings, its
 * busy timeout `busyTimeoutMs`: for the main connection and the log writer's thread alike.
 */
export function openConnection(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the tail.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // The log writer's small, frequent transactions touch the same index pages again and
  // again: a 32 MiB page cache and checkpoints every ~40 MB of WAL (not ~4 MB) keep those
  // pages in memory between flushes (+20 % rows/s in scripts/bench, log writer).
  sqlite.pragma('cache_size = -32768');
  sqlite.pragma('wal_autocheckpoint = 10000');
  return sqlite;
}

/**
 * `fn` as a transaction that takes the write lock at BEGIN IMMEDIATE, waiting busy_timeout
 * for it. Every write transaction on the file goes through here: the log writer's thread
 * commits on its own connection many times a second, and a deferred transaction that read
 * before writing (a deployment's revision check, a retention batch's oldest ids) would
 * fail at its first write with SQLITE_BUSY_SNAPSHOT, which is never waited for, whenever
 * the thread committed in between.
 */
export function writeTransaction<A extends unknown[], R>(
  sqlite: Database.Database,
  fn: (...args: A) => R,
): (...args: A) => R {
  const transaction = sqlite.transaction(fn);
  return (...args) => transaction.immediate(...args);
}
