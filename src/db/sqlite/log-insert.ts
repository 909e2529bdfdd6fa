/**
 * The prediction log's SQLite commit: one transaction of multi-row INSERTs plus the latency
 * rollup. The one copy, run by the inline writer on the event loop (a `:memory:` database)
 * and by the log writer's thread (log-worker.ts) on a file.
 */
import type Database from 'better-sqlite3';
import { latencyBucketOf } from '../latency-buckets.js';
import type { PredictionRecord } from '../predictions.js';
import { MINUTE_MS } from '../stats-queries.js';
import { writeTransaction } from './connection.js';

const COLUMNS = `(id, ts, model, version, route, user_hash, request_id, input, output, label, score,
   latency_us, status, error, shadow_of, cached)`;
const COLUMN_COUNT = 16;
const ROW_PLACEHOLDERS = `(${Array(COLUMN_COUNT).fill('?').join(', ')})`;
/**
 * Rows per multi-row INSERT. One statement of 16 rows costs ~1 µs of CPU less per row than
 * 16 single-row statements (5.1 → 4.0 µs in scripts/bench, log writer: each statement run
 * is a trip through better-sqlite3's binding and SQLite's VDBE set-up); 32 and 50 rows gain
 * nothing more.
 */
const ROWS_PER_STATEMENT = 16;
const insertSql = (rows: number) =>
  `INSERT OR IGNORE INTO predictions ${COLUMNS} VALUES ${Array(rows).fill(ROW_PLACEHOLDERS).join(', ')}`;
const ADD_TO_ROLLUP = `INSERT INTO latency_rollup (model, version, minute, bucket, count)
  VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (model, version, minute, bucket) DO UPDATE SET count = count + excluded.count`;
const ROWID_OF = 'SELECT rowid FROM predictions WHERE id = ?';

/**
 * Commits `rows` in one transaction, skipping ids already logged; returns the positions in
 * `rows` of those SQLite would not take at all (a NOT NULL field missing), in order.
 */
export type LogInsert = (rows: readonly PredictionRecord[]) => number[];

/** Writes row `r`'s columns into `params` from `at` on (positional: no object per row). */
function bindRow(params: unknown[], at: number, r: PredictionRecord): void {
  params[at] = r.id;
  params[at + 1] = r.ts;
  params[at + 2] = r.model;
  params[at + 3] = r.version;
  params[at + 4] = r.route;
  params[at + 5] = r.userHash;
  params[at + 6] = r.requestId;
  params[at + 7] = r.input;
  params[at + 8] = r.output;
  params[at + 9] = r.label;
  params[at + 10] = r.score;
  params[at + 11] = r.latencyUs;
  params[at + 12] = r.status;
  params[at + 13] = r.error;
  params[at + 14] = r.shadowOf;
  params[at + 15] = r.cached === true ? 1 : 0;
}

/** Prepares the statements on `sqlite` (migrated already) and returns its commit. */
export function prepareLogInsert(sqlite: Database.Database): LogInsert {
  const insertMany = sqlite.prepare(insertSql(ROWS_PER_STATEMENT));
  const insertOne = sqlite.prepare(insertSql(1));
  const rowidOf = sqlite.prepare(ROWID_OF).pluck();
  const addToRollup = sqlite.prepare(ADD_TO_ROLLUP);
  const manyParams: unknown[] = new Array(ROWS_PER_STATEMENT * COLUMN_COUNT);
  const oneParams: unknown[] = new Array(COLUMN_COUNT);

  /**
   * Inserts rows[from, from + count) with `statement`, appending to `inserted` the rows that
   * were new and to `rejected` the positions of those SQLite would not take. INSERT OR IGNORE
   * skips ids already logged (a replayed spill file, a retried commit), a second copy of an id
   * within the statement, and rows that break a NOT NULL rule (a damaged spill line); when
   * every row went in (always, outside a replay) that is the whole slice. Otherwise rows are
   * told apart by rowid: SQLite gives each inserted row the table's largest rowid plus one,
   * so one statement's new rows hold the `changes` rowids ending at lastInsertRowid. A row
   * whose id is not in the table at all was rejected; a row whose id is, inside that range,
   * is new, once (a repeated id only the first time).
   */
  const insertSlice = (
    statement: Database.Statement,
    params: unknown[],
    rows: readonly PredictionRecord[],
    from: number,
    count: number,
    inserted: PredictionRecord[],
    rejected: number[],
  ): void => {
    for (let i = 0; i < count; i++)
      bindRow(params, i * COLUMN_COUNT, rows[from + i] as PredictionRecord);
    const { changes, lastInsertRowid } = statement.run(params);
    if (changes === count) {
      for (let i = from; i < from + count; i++) inserted.push(rows[i] as PredictionRecord);
      return;
    }
    const last = BigInt(lastInsertRowid);
    const first = last - BigInt(changes) + 1n;
    const counted = new Set<string>();
    for (let i = from; i < from + count; i++) {
      const r = rows[i] as PredictionRecord;
      const rowid = rowidOf.get(r.id) as number | bigint | undefined;
      if (rowid === undefined) rejected.push(i);
      else if (changes > 0 && BigInt(rowid) >= first && BigInt(rowid) <= last) {
        if (!counted.has(r.id)) inserted.push(r);
        counted.add(r.id);
      }
    }
  };

  return writeTransaction(sqlite, (rows: readonly PredictionRecord[]): number[] => {
    const inserted: PredictionRecord[] = [];
    const rejected: number[] = [];
    let at = 0;
    for (; at + ROWS_PER_STATEMENT <= rows.length; at += ROWS_PER_STATEMENT) {
      insertSlice(insertMany, manyParams, rows, at, ROWS_PER_STATEMENT, inserted, rejected);
    }
    for (; at < rows.length; at++) {
      insertSlice(insertOne, oneParams, rows, at, 1, inserted, rejected);
    }
    // Only rows new to the log count: a replayed spill file must not count twice.
    for (const [key, count] of latencyCounts(inserted)) {
      const [model, version, minute, bucket] = key.split('\u0000');
      addToRollup.run(model, version, Number(minute), Number(bucket), count);
    }
    return rejected;
  });
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
