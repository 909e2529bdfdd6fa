import type pg from 'pg';
import { backoff } from '../../backoff.js';
import { AppError } from '../../errors.js';
import type { PredictionLog, PredictionLogOptions, PredictionRecord } from '../predictions.js';
import { whileReachable } from './errors.js';
import type { PgHealth } from './health.js';

const COLUMNS = `id, ts, model, version, route, user_hash, request_id, input, output, label, score,
  latency_us, status, error, shadow_of`;
const PARAMS_PER_ROW = 15;
/** 15,000 parameters per statement: well under PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 1_000;
/** One transaction holds at most this many rows; a longer queue takes several. */
const ROWS_PER_FLUSH = 10_000;
const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 2_000;
/** How long close() keeps trying to write what is left before giving up. */
const DRAIN_MS = 10_000;

export interface PgPredictionLogOptions extends PredictionLogOptions {
  health: PgHealth;
}

interface Waiter {
  /** Resolve once this many rows (counted since start) are committed. */
  rows: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The prediction log on PostgreSQL. `append` only pushes to memory; rows are committed
 * in batches, one transaction at a time, in the order they came. While the database is
 * away rows wait (never dropped) up to `maxQueue`; past that, append refuses with a 503
 * so the gateway never answers a prediction it cannot log.
 */
export function createPgPredictionLog(
  pool: pg.Pool,
  options: PgPredictionLogOptions,
): PredictionLog {
  const { health } = options;
  let queue: PredictionRecord[] = [];
  /** Rows taken from the front of the queue by the transaction in flight. */
  let writing = 0;
  let accepted = 0;
  let committed = 0;
  let waiters: Waiter[] = [];
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const retry = backoff({ firstMs: FIRST_RETRY_MS, lastMs: LAST_RETRY_MS });
  let failing = false;
  let closed = false;

  const depth = () => queue.length + writing;

  // Only the full chunk's text is kept: caching every size up to 1,000 rows would hold
  // tens of megabytes of SQL text.
  let fullChunk: string | undefined;
  const statement = (rows: number): string => {
    let text = rows === ROWS_PER_STATEMENT ? fullChunk : undefined;
    if (text === undefined) {
      const tuples: string[] = [];
      for (let row = 0; row < rows; row++) {
        const first = row * PARAMS_PER_ROW;
        const params: string[] = [];
        for (let p = 1; p <= PARAMS_PER_ROW; p++) params.push(`$${first + p}`);
        tuples.push(`(${params.join(',')})`);
      }
      // A retry after a COMMIT whose answer was lost would repeat rows already written.
      text = `INSERT INTO predictions (${COLUMNS}) VALUES ${tuples.join(',')}
        ON CONFLICT (id) DO NOTHING`;
      if (rows === ROWS_PER_STATEMENT) fullChunk = text;
    }
    return text;
  };

  const insert = async (client: pg.PoolClient, rows: readonly PredictionRecord[]) => {
    const values: unknown[] = [];
    for (const r of rows) {
      values.push(
        r.id,
        r.ts,
        text(r.model),
        text(r.version),
        text(r.route),
        text(r.userHash),
        text(r.requestId),
        text(r.input),
        text(r.output),
        text(r.label),
        r.score,
        r.latencyUs,
        r.status,
        text(r.error),
        r.shadowOf,
      );
    }
    // Full chunks share one named (server-side prepared) statement per connection.
    const name = rows.length === ROWS_PER_STATEMENT ? 'modelgate_log_chunk' : undefined;
    await client.query({ name, text: statement(rows.length), values });
  };

  const write = async (batch: readonly PredictionRecord[]): Promise<void> => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      for (let start = 0; start < batch.length; start += ROWS_PER_STATEMENT) {
        await insert(client, batch.slice(start, start + ROWS_PER_STATEMENT));
      }
      await client.query('COMMIT');
    } catch (error) {
      broken = true;
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release(broken);
    }
  };

  const clearTimers = (): void => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
  };

  /** Writes the front of the queue; settles the waiters it satisfies (or, failing, all of them). */
  const writeOnce = async (): Promise<void> => {
    clearTimers();
    if (queue.length === 0) return;
    const batch = queue.slice(0, ROWS_PER_FLUSH);
    queue = queue.slice(batch.length);
    writing = batch.length;
    try {
      await write(batch);
      writing = 0;
      committed += batch.length;
      retry.reset();
      failing = false;
      health.recovered('prediction log');
      const done = waiters.filter((w) => w.rows <= committed);
      waiters = waiters.filter((w) => w.rows > committed);
      for (const waiter of done) waiter.resolve();
    } catch (error) {
      // Back to the front, in order: the next attempt writes them first.
      writing = 0;
      queue = batch.concat(queue);
      failing = true;
      health.failed('prediction log', error);
      options.onError?.(error, depth());
      const failed = waiters;
      waiters = [];
      for (const waiter of failed) waiter.reject(error);
      throw error;
    }
  };

  /** Starts a write unless one is running; chains the next one after it. */
  const kick = (): Promise<void> => {
    if (inFlight) return inFlight;
    const run = writeOnce();
    inFlight = run.then(
      () => {
        inFlight = undefined;
        afterWrite(true);
      },
      () => {
        inFlight = undefined;
        afterWrite(false);
      },
    );
    return inFlight;
  };

  const later = (ms: number): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void kick();
    }, ms);
  };
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    immediate ??= setImmediate(() => {
      immediate = undefined;
      void kick();
    });
  };

  const afterWrite = (ok: boolean): void => {
    if (closed || queue.length === 0) return;
    if (!ok) {
      later(retry.next());
    } else if (waiters.length > 0 || queue.length >= options.flushRows) {
      soon();
    } else {
      later(options.flushMs);
    }
  };

  /** Resolves when the rows accepted so far are committed; rejects on the first failed attempt. */
  const flushAccepted = (): Promise<void> => {
    if (committed >= accepted) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      waiters.push({ rows: accepted, resolve, reject });
    });
    if (!inFlight) void kick();
    return done;
  };

  return {
    append(records) {
      if (closed) {
        throw new AppError(503, 'unavailable', 'prediction log: closed, not accepting predictions');
      }
      if (depth() + records.length > options.maxQueue) {
        health.refused();
        throw new AppError(
          503,
          'unavailable',
          `prediction log: ${depth()} rows wait for the database; not accepting more predictions until it is back`,
        );
      }
      for (const record of records) queue.push(record);
      accepted += records.length;
      if (inFlight || (failing && timer)) return; // the running write or the retry picks them up
      // At flushRows: let the current request finish answering before paying for the write.
      if (queue.length >= options.flushRows) soon();
      else later(options.flushMs);
    },
    get queueDepth() {
      return depth();
    },
    get rowsWritten() {
      return committed;
    },
    // A caller waiting for the rows (feedback, compare) gets the outage as a 503 to retry.
    flush: () => whileReachable(flushAccepted()),
    async close() {
      if (closed) return;
      closed = true;
      clearTimers();
      const deadline = Date.now() + DRAIN_MS;
      const pauses = backoff({ firstMs: FIRST_RETRY_MS, lastMs: LAST_RETRY_MS });
      for (;;) {
        try {
          await inFlight;
          await flushAccepted();
          return;
        } catch (error) {
          const pause = pauses.next();
          if (Date.now() + pause >= deadline) {
            options.onError?.(
              new Error(
                `prediction log: gave up after ${DRAIN_MS} ms; ${depth()} rows not written`,
                {
                  cause: error,
                },
              ),
              depth(),
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
      }
    },
  };
}

/**
 * PostgreSQL text cannot hold NUL. One such character (in an error message echoing a
 * request, say) would fail its whole batch on every retry and stall the log for good.
 */
function text<T extends string | null>(value: T): T {
  return (value?.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value) as T;
}
