import type pg from 'pg';
import { BUCKETS_PER_DOUBLING } from '../../compare/statistics.js';
import { type CompareRows, SPLIT_CHANGING_ACTIONS, type StatsQueries } from '../stats-queries.js';

/**
 * statistics.ts `latencyBucketOf` in PostgreSQL. In float8: log over numeric is exact but
 * ~50× slower (14 s per million rows). Agrees with the JavaScript formula on every
 * latency from 0 to 20 s (checked, and tested in test/pg-storage.test.ts).
 */
export const PG_LATENCY_BUCKET_SQL = `round(ln(greatest(latency_us, 1)::float8) / ln(2::float8) * ${BUCKETS_PER_DOUBLING})::int`;

const MINUTE_MS = 60_000;
const SERVED = 'model = $1 AND ts >= $2 AND ts < $3 AND shadow_of IS NULL';

// node-postgres returns bigint and numeric as strings: every count is cast to int here,
// so the rows carry numbers exactly like the SQLite ones.
const COUNTS = `SELECT version, label, status, count(*)::int AS n FROM predictions
  WHERE ${SERVED} GROUP BY version, status, label`;
const LATENCY_BUCKETS = `SELECT version, ${PG_LATENCY_BUCKET_SQL} AS bucket, count(*)::int AS count
  FROM predictions WHERE ${SERVED} AND status = 'ok' GROUP BY version, bucket`;
const FEEDBACK = `SELECT p.version AS version, count(*)::int AS n,
    coalesce(sum(CASE WHEN p.label = f.label THEN 1 ELSE 0 END), 0)::int AS correct
  FROM predictions p JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = $1 AND p.ts >= $2 AND p.ts < $3 AND p.shadow_of IS NULL
  GROUP BY p.version`;
const SPLIT_CHANGED_AT = `SELECT max(ts)::float8 AS ts FROM deployment_events
  WHERE model = $1 AND ts < $2
  AND action IN (${SPLIT_CHANGING_ACTIONS.map((a) => `'${a}'`).join(', ')})`;
const SPLIT_ROUTED = `SELECT version, count(*)::int AS n FROM predictions
  WHERE ${SERVED} AND route IN ('split', 'flag') GROUP BY version`;
const SHADOW_PAIRS = `SELECT p.version AS served, s.version AS shadow, count(*)::int AS pairs,
    coalesce(sum(CASE WHEN p.label = s.label THEN 1 ELSE 0 END), 0)::int AS same
  FROM predictions s JOIN predictions p ON p.id = s.shadow_of
  WHERE s.model = $1 AND s.ts >= $2 AND s.ts < $3 AND s.status = 'ok' AND p.status = 'ok'
  GROUP BY p.version, s.version`;
// ts and the divisor are bigints, so / is integer division: floor for the positive ts here.
const TRAFFIC = `SELECT version, (ts / ${MINUTE_MS})::float8 AS minute, count(*)::int AS n
  FROM predictions WHERE model = $1 AND shadow_of IS NULL AND ts >= $2 AND ts < $3
  GROUP BY version, ts / ${MINUTE_MS}`;

/** The comparison's GROUP BYs in PostgreSQL, over the (model, ts) and (model, version, ts) indexes. */
export function createPgStatsQueries(pool: pg.Pool): StatsQueries {
  const rows = async <T>(text: string, values: unknown[]): Promise<T[]> =>
    (await pool.query({ text, values })).rows as T[];
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
      const window = [model, since, until];
      const [counts, latencyBuckets, feedback, splitRouted, shadowPairs] = await Promise.all([
        rows<CompareRows['counts'][number]>(COUNTS, window),
        rows<CompareRows['latencyBuckets'][number]>(LATENCY_BUCKETS, window),
        rows<CompareRows['feedback'][number]>(FEEDBACK, window),
        rows<CompareRows['splitRouted'][number]>(SPLIT_ROUTED, [model, from, until]),
        rows<CompareRows['shadowPairs'][number]>(SHADOW_PAIRS, window),
      ]);
      return {
        counts,
        latencyBuckets,
        feedback,
        splitChangedAt: changed,
        splitRouted,
        shadowPairs,
      };
    },
    trafficPerMinute: (model, from, to) =>
      rows<{ version: string; minute: number; n: number }>(TRAFFIC, [model, ms(from), ms(to)]),
  };
}
