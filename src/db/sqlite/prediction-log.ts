import type Database from 'better-sqlite3';
import { latencyBucketOf } from '../latency-buckets.js';
import type { PredictionLog, PredictionLogOptions, PredictionRecord } from '../predictions.js';
import { MINUTE_MS } from '../stats-queries.js';

const INSERT = `INSERT INTO predictions
  (id, ts, model, version, route, user_hash, request_id, input, output, label, score,
   latency_us, status, error, shadow_of)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const ADD_TO_ROLLUP = `INSERT INTO latency_rollup (model, version, minute, bucket, count)
  VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (model, version, minute, bucket) DO UPDATE SET count = count + excluded.count`;

export function createSqlitePredictionLog(
  sqlite: Database.Database,
  options: PredictionLogOptions,
): PredictionLog {
  const insert = sqlite.prepare(INSERT);
  const addToRollup = sqlite.prepare(ADD_TO_ROLLUP);
  const insertAll = sqlite.transaction((rows: readonly PredictionRecord[]) => {
    for (const [key, count] of latencyCounts(rows)) {
      const [model, version, minute, bucket] = key.split('\u0000');
      addToRollup.run(model, version, Number(minute), Number(bucket), count);
    }
    // Positional binding: a fifth faster than named parameters bound from an object.
    for (const r of rows) {
      insert.run(
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
      );
    }
  });

  let queue: PredictionRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let rowsWritten = 0;
  let closed = false;

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    try {
      insertAll(batch);
      rowsWritten += batch.length;
    } catch (error) {
      // Keep the rows: a busy or full disk is retried on the next flush, never dropped.
      queue = batch.concat(queue);
      options.onError?.(error, queue.length);
      if (!closed) timer = setTimeout(flush, options.flushMs);
    }
  };

  return {
    append(records) {
      for (const record of records) queue.push(record);
      if (closed || queue.length >= options.maxQueue) {
        flush();
      } else if (queue.length >= options.flushRows) {
        // Let the current request finish answering before paying for the write.
        immediate ??= setImmediate(flush);
      } else {
        timer ??= setTimeout(flush, options.flushMs);
      }
    },
    get queueDepth() {
      return queue.length;
    },
    get rowsWritten() {
      return rowsWritten;
    },
    flush: async () => flush(),
    async close() {
      closed = true;
      flush();
    },
  };
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
