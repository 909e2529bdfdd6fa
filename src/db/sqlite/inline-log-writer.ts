import type Database from 'better-sqlite3';
import type { LogWriter } from '../queued-log.js';
import { prepareLogInsert } from './log-insert.js';

/** Rows per SQLite transaction on the event loop: a few milliseconds of it each. */
const ROWS_PER_INLINE_WRITE = 2_000;

/**
 * The log's writer on the main connection, on the event loop: for a `:memory:` database,
 * which another thread cannot open, or MODELGATE_LOG_WRITER=inline. A lock held elsewhere
 * fails fast (short busy_timeout, see client.ts) and the queue retries later, instead of
 * freezing every request.
 */
export function inlineLogWriter(sqlite: Database.Database): LogWriter {
  const insert = prepareLogInsert(sqlite);
  return {
    maxRows: ROWS_PER_INLINE_WRITE,
    write(rows) {
      const rejected = insert(rows);
      return rejected.length === 0 ? undefined : rejected.map((i) => rows[i] as (typeof rows)[0]);
    },
  };
}
