import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AppError } from '../../errors.js';

/** SQLSTATE classes that mean "cannot talk to the database now", not "the query is wrong". */
const UNREACHABLE_STATES = /^(08|53|57P)/;
const UNREACHABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connection error|Cannot use a pool after calling end/i;

/** The error pg raised, under drizzle's "Failed query" wrapper. */
export function rootCause(error: unknown): unknown {
  return error instanceof DrizzleQueryError && error.cause ? error.cause : error;
}

export function messageOf(error: unknown): string {
  const root = rootCause(error);
  return root instanceof Error ? root.message || root.constructor.name : String(root);
}

export function isUnreachable(error: unknown): boolean {
  const root = rootCause(error);
  const code = (root as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    // Node socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT…) or a SQLSTATE.
    if (code.startsWith('E')) return true;
    return UNREACHABLE_STATES.test(code);
  }
  return root instanceof Error && UNREACHABLE_MESSAGES.test(root.message);
}

/**
 * A control change while the database is gone is a 503 the caller may retry, not a 500;
 * anything the database answered itself (or a bug) stays as it is.
 */
export async function whileReachable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError || !isUnreachable(error)) throw error;
    throw new AppError(503, 'unavailable', `postgres unreachable: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
