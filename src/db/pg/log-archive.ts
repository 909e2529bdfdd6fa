import type pg from 'pg';
import type { LogArchive, PredictionWithFeedback } from '../log-archive.js';
import { whileReachable } from './errors.js';
import { createPgExportLines } from './export-lines.js';
import { dropPartitionsBefore } from './partitions.js';
import { inTransaction } from './transaction.js';

// bigint columns come back as strings from node-postgres: cast to float8 (exact below 2^53).
const COLUMNS = `p.id, p.ts::float8 AS ts, p.model, p.version, p.route, p.user_hash AS "userHash",
  p.request_id AS "requestId", p.input, p.output, p.label, p.score,
  p.latency_us::float8 AS "latencyUs", p.status, p.error, p.shadow_of AS "shadowOf", p.cached,
  f.label AS "feedbackLabel", f.value AS "feedbackValue", f.ts::float8 AS "feedbackTs"`;
// predictions_model_ts gives the (model, ts) range; ties on ts are ordered by id.
const FIRST_PAGE = `SELECT ${COLUMNS} FROM predictions p
  LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = $1 AND p.ts >= $2 AND p.ts < $3
  ORDER BY p.ts, p.id LIMIT $4`;
const NEXT_PAGE = `SELECT ${COLUMNS} FROM predictions p
  LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = $1 AND p.ts >= $2 AND p.ts < $3 AND (p.ts, p.id) > ($2, $5)
  ORDER BY p.ts, p.id LIMIT $4`;

const COUNT =
  'SELECT count(*)::float8 AS n FROM predictions WHERE model = $1 AND ts >= $2 AND ts < $3';

// Distinct models by one index seek each (a loose index scan), not a scan of the table.
const MODELS = `WITH RECURSIVE m(model) AS (
    (SELECT model FROM predictions ORDER BY model LIMIT 1)
    UNION ALL SELECT (SELECT model FROM predictions WHERE model > m.model ORDER BY model LIMIT 1)
    FROM m WHERE m.model IS NOT NULL)
  SELECT model FROM m WHERE model IS NOT NULL`;
// One statement: the feedback of the oldest rows, then the rows, from one snapshot.
const DELETE_OLDEST = `WITH doomed AS (
    SELECT id FROM predictions WHERE model = $1 AND ts < $2 ORDER BY ts LIMIT $3),
  gone AS (DELETE FROM feedback WHERE prediction_id IN (SELECT id FROM doomed))
  DELETE FROM predictions WHERE id IN (SELECT id FROM doomed)`;

export function createPgLogArchive(pool: pg.Pool): LogArchive {
  return {
    exportPage: createPgExportLines(pool),
    async count(range) {
      const values = [range.model, Math.ceil(range.since), Math.ceil(range.until)];
      const { rows } = await whileReachable(pool.query<{ n: number }>({ text: COUNT, values }));
      return rows[0]?.n ?? 0;
    },
    async page(range, after, limit) {
      // The bounds meet bigint columns; for integer ts, ts >= x ⇔ ts >= ⌈x⌉.
      const since = Math.ceil(range.since);
      const until = Math.ceil(range.until);
      const query = after
        ? { text: NEXT_PAGE, values: [range.model, after.ts, until, limit, after.id] }
        : { text: FIRST_PAGE, values: [range.model, since, until, limit] };
      const rows = (await whileReachable(pool.query(query))).rows as PredictionWithFeedback[];
      return rows;
    },
    async deleteBefore(before, limit) {
      // Whole days first (DROP TABLE, no dead rows left behind); then row batches inside
      // the partition the cutoff falls in, and in the default and pre-partitioning ones.
      const dropped = await whileReachable(dropPartitionsBefore(pool, Math.ceil(before)));
      const deleted = await whileReachable(
        inTransaction(pool, async (client) => {
          let count = 0;
          const models = (await client.query<{ model: string }>(MODELS)).rows;
          for (const { model } of models) {
            if (count >= limit) break;
            const result = await client.query(DELETE_OLDEST, [
              model,
              Math.ceil(before),
              limit - count,
            ]);
            count += result.rowCount ?? 0;
          }
          return count;
        }),
      );
      return dropped + deleted;
    },
  };
}
