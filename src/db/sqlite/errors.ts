import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AppError } from '../../errors.js';

/**
 * SQLite result codes that mean "the file cannot take a write now" (locked by another
 * process, disk full, I/O error, read-only), not "the statement is wrong". Extended
 * codes (SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT…) share their primary code's prefix.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/;

/** A 503 the caller may retry, for a SQLite error that is the file's state; else undefined. */
export function sqliteUnavailable(error: unknown): AppError | undefined {
  const root = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  const code = (root as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !UNAVAILABLE.test(code)) return undefined;
  return new AppError(503, 'unavailable', `sqlite: ${(root as Error).message} (${code})`, {
    cause: error,
  });
}
