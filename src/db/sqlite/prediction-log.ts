import type Database from 'better-sqlite3';
import { latencyBucketOf } from '../latency-buckets.js';
import type { PredictionLog, PredictionRecord } from '../predictions.js';
import { createQueuedLog, type QueuedLogOptions } from '../queued-log.js';
import { MINUTE_MS } from '../stats-queries.js';

const INSERT = `INSERT OR IGNORE INTO predictions
  (id, ts, model, version, route, user_hash, request_id, input, output, label, score,
   latency_us, status, error, shadow_of, cached)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const ADD_TO_ROLLUP = `INSERT INTO latency_rollup (model, version, minute, bucket, count)
  VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (model, version, minute, bucket) DO UPDATE SET count = count + excluded.count`;

/** Rows per SQLite transaction: a few milliseconds of the event loop each. */
const ROWS_PER_WRITE = 2_000;

export function createSqlitePredictionLog(
  sqlite: Database.Database,
  options: QueuedLogOptions,
): PredictionLog {
  const insert = sqlite.prepare(INSERT);
  const addToRollup = sqlite.prepare(ADD_TO_ROLLUP);
  const insertAll = sqlite.transaction((rows: readonly PredictionRecord[]) => {
    const inserted: PredictionRecord[] = [];
    // Positional binding: a fifth faster than named parameters bound from an object.
    for (const r of rows) {
      const { changes } = insert.run(
        r.id,
        r.ts,
        r.model,
        r.version,
        r.route,
        r.userHash,
        r.requestId,
        r.input,
        r.output,
        r.label,
        r.score,
        r.latencyUs,
        r.status,
        r.error,
        r.shadowOf,
        r.cached === true ? 1 : 0,
      );
      if (changes > 0) inserted.push(r);
    }
    // Only rows new to the log count: a replayed spill file must not count twice.
    for (const [key, count] of latencyCounts(inserted)) {
      const [model, version, minute, bucket] = key.split('\u0000');
      addToRollup.run(model, version, Number(minute), Number(bucket), count);
    }
  });
  // Synchronous, on the event loop: a lock held elsewhere fails fast (short busy_timeout,
  // see client.ts) and the queue retries later, instead of freezing every request.
  return createQueuedLog({ write: insertAll, maxRows: ROWS_PER_WRITE }, options);
}

/** Served, successful rows of a flush counted per (model, version, minute, latency bucket). */
function latencyCounts(rows: readonly PredictionRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.status !== 'ok' || r.shadowOf !== null) continue;
    const key = `${r.model}\u0000${r.version}\u0000${Math.floor(r.ts / MINUTE_MS)}\u0000${latencyBucketOf(r.latencyUs)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
