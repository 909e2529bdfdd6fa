import type Database from 'better-sqlite3';
import type { LogArchive, PredictionWithFeedback } from '../log-archive.js';
import { MINUTE_MS } from '../stats-queries.js';

const COLUMNS = `p.id, p.ts, p.model, p.version, p.route, p.user_hash AS userHash,
  p.request_id AS requestId, p.input, p.output, p.label, p.score, p.latency_us AS latencyUs,
  p.status, p.error, p.shadow_of AS shadowOf, p.cached, f.label AS feedbackLabel,
  f.value AS feedbackValue, f.ts AS feedbackTs`;
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
  const firstPage = sqlite.prepare(FIRST_PAGE);
  const nextPage = sqlite.prepare(NEXT_PAGE);
  const models = sqlite.prepare(MODELS).pluck();
  const oldestOfModel = sqlite.prepare(OLDEST_OF_MODEL).pluck();
  const deleteFeedback = sqlite.prepare(DELETE_FEEDBACK);
  const deletePredictions = sqlite.prepare(DELETE_PREDICTIONS);
  const rollupSeries = sqlite.prepare(ROLLUP_SERIES);
  const deleteRollup = sqlite.prepare(DELETE_ROLLUP);

  const deleteBatch = sqlite.transaction((before: number, limit: number): number => {
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
      return rows as PredictionWithFeedback[];
    },
    async deleteBefore(before, limit) {
      return deleteBatch(before, limit);
    },
  };
}
