import type pg from 'pg';
import type { PredictionLog, PredictionLogOptions, PredictionRecord } from '../predictions.js';
import { createQueuedLog, type RejectedRows } from '../queued-log.js';
import { lacksRequiredField } from '../required-fields.js';
import type { PgHealth } from './health.js';
import { inTransaction } from './transaction.js';

const COLUMNS = `id, ts, model, version, route, user_hash, request_id, input, output, label, score,
  latency_us, status, error, shadow_of, cached`;
const PARAMS_PER_ROW = 16;
/** 16,000 parameters per statement: well under PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 1_000;
/** One transaction holds at most this many rows; a longer queue takes several. */
const ROWS_PER_FLUSH = 10_000;

export interface PgPredictionLogOptions extends PredictionLogOptions {
  health: PgHealth;
}

/**
 * The prediction log on PostgreSQL: the shared queue (queued-log.ts) over multi-row
 * INSERTs, up to 10,000 rows per transaction. While the database is away rows wait,
 * retried with backoff, and readiness reports why.
 */
export function createPgPredictionLog(
  pool: pg.Pool,
  options: PgPredictionLogOptions,
): PredictionLog {
  const { health } = options;

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
        ON CONFLICT (id, ts) DO NOTHING`;
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
        r.cached === true,
      );
    }
    // Full chunks share one named (server-side prepared) statement per connection.
    const name = rows.length === ROWS_PER_STATEMENT ? 'modelgate_log_chunk' : undefined;
    await client.query({ name, text: statement(rows.length), values });
  };

  const write = async (rows: readonly PredictionRecord[]): Promise<RejectedRows> => {
    // ON CONFLICT covers ids only: one row missing a NOT NULL field would fail every retry.
    const rejected = rows.filter(lacksRequiredField);
    const batch = rejected.length === 0 ? rows : rows.filter((r) => !lacksRequiredField(r));
    await inTransaction(pool, async (client) => {
      for (let start = 0; start < batch.length; start += ROWS_PER_STATEMENT) {
        await insert(client, batch.slice(start, start + ROWS_PER_STATEMENT));
      }
    });
    return rejected;
  };

  return createQueuedLog(
    { write, maxRows: ROWS_PER_FLUSH },
    {
      ...options,
      observer: {
        failed: (error) => health.failed('prediction log', error),
        recovered: () => health.recovered('prediction log'),
        refused: () => health.refused(),
      },
    },
  );
}

/**
 * PostgreSQL text cannot hold NUL. One such character (in an error message echoing a
 * request, say) would fail its whole batch on every retry and stall the log for good.
 */
function text<T extends string | null>(value: T): T {
  return (value?.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value) as T;
}
