import type Database from 'better-sqlite3';
import type { LogArchive, PredictionWithFeedback } from '../log-archive.js';
import { MINUTE_MS } from '../stats-queries.js';
import { writeTransaction } from './connection.js';
import { createSqliteExportLines } from './export-lines.js';

// Read as arrays (.raw()) and made into objects in JS below: better-sqlite3 builds a
// named-column object per row at about twice the cost of an array and a literal.
const COLUMNS = `p.id, p.ts, p.model, p.version, p.route, p.user_hash, p.request_id, p.input,
  p.output, p.label, p.score, p.latency_us, p.status, p.error, p.shadow_of, p.cached,
  f.label, f.value, f.ts`;

type RawRow = [
  string,
  number,
  string,
  string,
  string,
  string | null,
  string,
  string,
  string | null,
  string | null,
  number | null,
  number,
  'ok' | 'error',
  string | null,
  string | null,
  number,
  string | null,
  number | null,
  number | null,
];

function toRow(r: RawRow): PredictionWithFeedback {
  return {
    id: r[0],
    ts: r[1],
    model: r[2],
    version: r[3],
    route: r[4],
    userHash: r[5],
    requestId: r[6],
    input: r[7],
    output: r[8],
    label: r[9],
    score: r[10],
    latencyUs: r[11],
    status: r[12],
    error: r[13],
    shadowOf: r[14],
    cached: r[15] === 1,
    feedbackLabel: r[16],
    feedbackValue: r[17],
    feedbackTs: r[18],
  };
}
// predictions_model_ts gives the (model, ts) range; ties on ts are ordered by id. A next
// page starts at the cursor's ts (passed as the lower bound) after the cursor's id.
const FIRST_PAGE = `SELECT ${COLUMNS} FROM predictions p
  LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = ? AND p.ts >= ? AND p.ts < ?
  ORDER BY p.ts, p.id LIMIT ?`;
const NEXT_PAGE = `SELECT ${COLUMNS} FROM predictions p
  LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = ? AND p.ts >= ? AND p.ts < ? AND (p.ts > ? OR p.id > ?)
  ORDER BY p.ts, p.id LIMIT ?`;

const COUNT = 'SELECT count(*) FROM predictions WHERE model = ? AND ts >= ? AND ts < ?';

// Distinct values walked one index seek at a time (a loose index scan), not a table scan.
const MODELS = `WITH RECURSIVE m(model) AS (
    SELECT min(model) FROM predictions
    UNION ALL SELECT (SELECT min(model) FROM predictions WHERE model > m.model) FROM m
    WHERE m.model IS NOT NULL)
  SELECT model FROM m WHERE model IS NOT NULL`;
const OLDEST_OF_MODEL = `SELECT id FROM predictions WHERE model = ? AND ts < ? ORDER BY ts LIMIT ?`;
const DELETE_FEEDBACK = `DELETE FROM feedback WHERE prediction_id IN (SELECT value FROM json_each(?))`;
const DELETE_PREDICTIONS = `DELETE FROM predictions WHERE id IN (SELECT value FROM json_each(?))`;
const ROLLUP_SERIES = `WITH RECURSIVE s(model, version) AS (
    SELECT * FROM (SELECT model, version FROM latency_rollup ORDER BY model, version LIMIT 1)
    UNION ALL SELECT (SELECT r.model FROM latency_rollup r
        WHERE (r.model, r.version) > (s.model, s.version) ORDER BY r.model, r.version LIMIT 1),
      (SELECT r.version FROM latency_rollup r
        WHERE (r.model, r.version) > (s.model, s.version) ORDER BY r.model, r.version LIMIT 1)
      FROM s WHERE s.model IS NOT NULL)
  SELECT model, version FROM s WHERE model IS NOT NULL`;
const DELETE_ROLLUP = `DELETE FROM latency_rollup WHERE rowid IN (
  SELECT rowid FROM latency_rollup WHERE model = ? AND version = ? AND minute < ? LIMIT ?)`;

export function createSqliteLogArchive(sqlite: Database.Database): LogArchive {
  const count = sqlite.prepare(COUNT).pluck();
  const firstPage = sqlite.prepare(FIRST_PAGE).raw();
  const nextPage = sqlite.prepare(NEXT_PAGE).raw();
  const models = sqlite.prepare(MODELS).pluck();
  const oldestOfModel = sqlite.prepare(OLDEST_OF_MODEL).pluck();
  const deleteFeedback = sqlite.prepare(DELETE_FEEDBACK);
  const deletePredictions = sqlite.prepare(DELETE_PREDICTIONS);
  const rollupSeries = sqlite.prepare(ROLLUP_SERIES);
  const deleteRollup = sqlite.prepare(DELETE_ROLLUP);

  const deleteBatch = writeTransaction(sqlite, (before: number, limit: number): number => {
    let left = limit;
    let mostFromOneSeries = 0;
    for (const model of models.all() as string[]) {
      if (left === 0) break;
      const ids = oldestOfModel.all(model, before, left) as string[];
      if (ids.length === 0) continue;
      const list = JSON.stringify(ids);
      deleteFeedback.run(list);
      left -= deletePredictions.run(list).changes;
    }
    // Rollup minutes wholly before the cutoff; the minute holding it stays until next time.
    const minute = Math.floor(before / MINUTE_MS);
    for (const series of rollupSeries.all() as Array<{ model: string; version: string }>) {
      const { changes } = deleteRollup.run(series.model, series.version, minute, limit);
      mostFromOneSeries = Math.max(mostFromOneSeries, changes);
    }
    return Math.max(limit - left, mostFromOneSeries);
  });

  return {
    count: async (range) => count.get(range.model, range.since, range.until) as number,
    async page(range, after, limit) {
      const rows = after
        ? nextPage.all(
            range.model,
            Math.max(range.since, after.ts),
            range.until,
            after.ts,
            after.id,
            limit,
          )
        : firstPage.all(range.model, range.since, range.until, limit);
      return (rows as RawRow[]).map(toRow);
    },
    async deleteBefore(before, limit) {
      return deleteBatch(before, limit);
    },
    exportPage: createSqliteExportLines(sqlite),
  };
}
