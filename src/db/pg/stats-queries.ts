import type pg from 'pg';
import {
  type CompareGroup,
  foldCompareGroups,
  type LatencyGroup,
  latencyBucketsOf,
} from '../compare-groups.js';
import type { ServedInput, ServedRow } from '../served-rows.js';
import {
  type CompareRows,
  MINUTE_MS,
  SPLIT_CHANGING_ACTIONS,
  type StatsQueries,
  VALUED_SHADOW_PAIR,
} from '../stats-queries.js';
import { whileReachable } from './errors.js';

const SERVED = 'model = $1 AND ts >= $2 AND ts < $3 AND shadow_of IS NULL';

// node-postgres returns bigint and numeric as strings: every count is cast to int here,
// so the rows carry numbers exactly like the SQLite ones.
// One scan (parallel, hash-aggregated) for counts, split-routed traffic and latencies:
// a few hundred groups, folded in compare-groups.ts; latencies are bucketed there too,
// which is cheaper than a float log per row.
const GROUPED = `SELECT version, status, label, route, latency_us AS "latencyUs", count(*)::int AS n,
    (count(*) FILTER (WHERE ts >= $4))::int AS "sinceSplitChange"
  FROM predictions WHERE ${SERVED} GROUP BY version, status, label, route, latency_us`;
// The (model, ts) index in its own order; LIMIT NULL is no limit.
const SERVED_ROWS = `SELECT p.id, p.ts::float8 AS ts, p.version, p.input, p.label, p.score, p.status,
    f.label AS "feedbackLabel", f.value AS "feedbackValue"
  FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = $1 AND p.ts >= $2 AND p.ts < $3 AND p.shadow_of IS NULL
  ORDER BY p.ts LIMIT $4`;
const SERVED_COUNT = `SELECT count(*)::float8 AS n FROM predictions WHERE ${SERVED}`;
const SERVED_INPUTS = `SELECT ts::float8, version, input, label, score FROM predictions
  WHERE ${SERVED} ORDER BY predictions.ts LIMIT $4`;
const FEEDBACK = `SELECT p.version AS version, count(*)::int AS n,
    coalesce(sum(CASE WHEN p.label = f.label THEN 1 ELSE 0 END), 0)::int AS correct
  FROM predictions p JOIN feedback f ON f.prediction_id = p.id
  WHERE f.label IS NOT NULL AND p.model = $1 AND p.ts >= $2 AND p.ts < $3 AND p.shadow_of IS NULL
  GROUP BY p.version`;
// The same two passes as SQLite's (sqlite/stats-queries.ts), so both give the same squares.
const FEEDBACK_VALUES = `WITH v AS (
    SELECT p.version AS version, f.value AS value
    FROM predictions p JOIN feedback f ON f.prediction_id = p.id
    WHERE f.value IS NOT NULL
      AND p.model = $1 AND p.ts >= $2 AND p.ts < $3 AND p.shadow_of IS NULL),
  m AS (SELECT version, avg(value) AS mean FROM v GROUP BY version)
  SELECT v.version AS version, count(*)::int AS n, m.mean::float8 AS mean,
    sum((v.value - m.mean) * (v.value - m.mean))::float8 AS squares
  FROM v JOIN m ON m.version = v.version
  GROUP BY v.version, m.mean`;
// The same nearest-rank percentiles and two passes as SQLite's (sqlite/stats-queries.ts).
const PREDICTED_VALUES = `WITH r AS (
    SELECT version, score,
      row_number() OVER (PARTITION BY version ORDER BY score) AS rn,
      count(*) OVER (PARTITION BY version) AS n
    FROM predictions
    WHERE ${SERVED} AND status = 'ok' AND label IS NULL AND score IS NOT NULL)
  SELECT version, n::int AS n, avg(score)::float8 AS mean,
    max(CASE WHEN rn = (5 * n + 99) / 100 THEN score END)::float8 AS p5,
    max(CASE WHEN rn = (50 * n + 99) / 100 THEN score END)::float8 AS p50,
    max(CASE WHEN rn = (95 * n + 99) / 100 THEN score END)::float8 AS p95
  FROM r GROUP BY version, n`;
const VALUE_ERRORS = `WITH e AS (
    SELECT p.version AS version, abs(f.value - p.score) AS ae,
      (f.value - p.score) * (f.value - p.score) AS se
    FROM predictions p JOIN feedback f ON f.prediction_id = p.id
    WHERE f.value IS NOT NULL AND p.label IS NULL AND p.score IS NOT NULL AND p.status = 'ok'
      AND p.model = $1 AND p.ts >= $2 AND p.ts < $3 AND p.shadow_of IS NULL),
  m AS (SELECT version, avg(ae) AS mae, avg(se) AS mse FROM e GROUP BY version)
  SELECT e.version AS version, count(*)::int AS n, m.mae::float8 AS mae, m.mse::float8 AS mse,
    sum((e.ae - m.mae) * (e.ae - m.mae))::float8 AS "absSquares",
    sum((e.se - m.mse) * (e.se - m.mse))::float8 AS "sqSquares"
  FROM e JOIN m ON m.version = e.version
  GROUP BY e.version, m.mae, m.mse`;
const SPLIT_CHANGED_AT = `SELECT max(ts)::float8 AS ts FROM deployment_events
  WHERE model = $1 AND ts < $2
  AND action IN (${SPLIT_CHANGING_ACTIONS.map((a) => `'${a}'`).join(', ')})`;
// The same pairs and one-pass sums as SQLite's (sqlite/stats-queries.ts), in one statement for
// every model (the plan is the same: parallel hash joins, hash aggregate). The FILTERs keep a
// classifier's rows from computing errors: +10 % on its 300,000 pairs, not +19 % as with
// CASE in every sum (medians of 10, this 2-core machine).
const SHADOW_PAIRS = `WITH e AS (
    SELECT p.version AS served, s.version AS shadow,
      p.label AS "servedLabel", s.label AS "shadowLabel", f.label AS truth,
      ${VALUED_SHADOW_PAIR} AS valued,
      p.score - f.value AS "servedError", s.score - f.value AS "shadowError"
    FROM predictions s JOIN predictions p ON p.id = s.shadow_of
    LEFT JOIN feedback f ON f.prediction_id = p.id
    WHERE s.model = $1 AND s.ts >= $2 AND s.ts < $3 AND s.shadow_of IS NOT NULL
      AND s.status = 'ok' AND p.status = 'ok'),
  d AS (
    SELECT *, abs("shadowError") - abs("servedError") AS "absDiff",
      "shadowError" * "shadowError" - "servedError" * "servedError" AS "sqDiff"
    FROM e)
  SELECT served, shadow, count(*)::int AS pairs,
    coalesce(sum(CASE WHEN "servedLabel" = "shadowLabel" THEN 1 ELSE 0 END), 0)::int AS same,
    count(truth)::int AS labelled,
    coalesce(sum(CASE WHEN "servedLabel" = truth THEN 1 ELSE 0 END), 0)::int AS "servedRight",
    coalesce(sum(CASE WHEN "shadowLabel" = truth THEN 1 ELSE 0 END), 0)::int AS "shadowRight",
    coalesce(sum(CASE WHEN "servedLabel" = truth AND "shadowLabel" IS DISTINCT FROM truth
      THEN 1 ELSE 0 END), 0)::int AS "servedOnly",
    coalesce(sum(CASE WHEN "shadowLabel" = truth AND "servedLabel" IS DISTINCT FROM truth
      THEN 1 ELSE 0 END), 0)::int AS "shadowOnly",
    (count(*) - count("servedLabel"))::int AS "unlabelledPairs",
    (count(*) FILTER (WHERE valued))::int AS valued,
    coalesce(sum(abs("servedError")) FILTER (WHERE valued), 0)::float8 AS "servedAbsSum",
    coalesce(sum("servedError" * "servedError") FILTER (WHERE valued), 0)::float8 AS "servedSqSum",
    coalesce(sum("absDiff") FILTER (WHERE valued), 0)::float8 AS "absDiffSum",
    coalesce(sum("absDiff" * "absDiff") FILTER (WHERE valued), 0)::float8 AS "absDiffSqSum",
    coalesce(max("absDiff") FILTER (WHERE valued) - min("absDiff") FILTER (WHERE valued), 0)::float8
      AS "absDiffRange",
    (count(*) FILTER (WHERE valued AND "absDiff" <> 0))::int AS "absDiffNonzero",
    coalesce(sum("sqDiff") FILTER (WHERE valued), 0)::float8 AS "sqDiffSum",
    coalesce(sum("sqDiff" * "sqDiff") FILTER (WHERE valued), 0)::float8 AS "sqDiffSqSum",
    coalesce(max("sqDiff") FILTER (WHERE valued) - min("sqDiff") FILTER (WHERE valued), 0)::float8
      AS "sqDiffRange",
    (count(*) FILTER (WHERE valued AND "sqDiff" <> 0))::int AS "sqDiffNonzero"
  FROM d GROUP BY served, shadow`;
// ts and the divisor are bigints, so / is integer division: floor for the positive ts here.
const TRAFFIC = `SELECT version, (ts / ${MINUTE_MS})::float8 AS minute, count(*)::int AS n
  FROM predictions WHERE model = $1 AND shadow_of IS NULL AND ts >= $2 AND ts < $3
  GROUP BY version, ts / ${MINUTE_MS}`;

/** The comparison's GROUP BYs in PostgreSQL. */
export function createPgStatsQueries(pool: pg.Pool): StatsQueries {
  const rows = async <T>(text: string, values: unknown[]): Promise<T[]> =>
    (await whileReachable(pool.query({ text, values }))).rows as T[];
  // The bounds meet bigint columns; for integer ts, ts >= x ⇔ ts >= ⌈x⌉ and ts < x ⇔ ts < ⌈x⌉.
  const ms = Math.ceil;

  return {
    async compareRows(query) {
      const { model } = query;
      const since = ms(query.since);
      const until = ms(query.until);
      const [changedRow] = await rows<{ ts: number | null }>(SPLIT_CHANGED_AT, [model, until]);
      const changed = changedRow?.ts ?? null;
      const from = Math.max(since, changed ?? 0);
      const window = [model, query.fromSplitChange ? from : since, until];
      const [groups, feedback, feedbackValues, shadowPairs, predictedValues, valueErrors] =
        await Promise.all([
          rows<CompareGroup & LatencyGroup>(GROUPED, [...window, from]),
          rows<CompareRows['feedback'][number]>(FEEDBACK, window),
          rows<CompareRows['feedbackValues'][number]>(FEEDBACK_VALUES, window),
          rows<CompareRows['shadowPairs'][number]>(SHADOW_PAIRS, window),
          rows<CompareRows['predictedValues'][number]>(PREDICTED_VALUES, window),
          rows<CompareRows['valueErrors'][number]>(VALUE_ERRORS, window),
        ]);
      return {
        ...foldCompareGroups(groups),
        latencyBuckets: latencyBucketsOf(groups.filter((g) => g.status === 'ok')),
        feedback,
        feedbackValues,
        predictedValues,
        valueErrors,
        splitChangedAt: changed,
        shadowPairs,
      };
    },
    servedRows: (range, limit) =>
      rows<ServedRow>(SERVED_ROWS, [range.model, ms(range.since), ms(range.until), limit]),
    async servedInputs(range, limit) {
      const values = [range.model, ms(range.since), ms(range.until), limit];
      const query = { text: SERVED_INPUTS, values, rowMode: 'array' as const };
      return (await whileReachable(pool.query(query))).rows as ServedInput[];
    },
    async servedCount(range) {
      const [row] = await rows<{ n: number }>(SERVED_COUNT, [
        range.model,
        ms(range.since),
        ms(range.until),
      ]);
      return row?.n ?? 0;
    },
    trafficPerMinute: (model, from, to) =>
      rows<{ version: string; minute: number; n: number }>(TRAFFIC, [model, ms(from), ms(to)]),
  };
}
