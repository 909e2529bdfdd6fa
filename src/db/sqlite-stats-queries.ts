import type Database from 'better-sqlite3';
import { LATENCY_BUCKET_SQL } from '../compare/statistics.js';
import { type CompareRows, SPLIT_CHANGING_ACTIONS, type StatsQueries } from './stats-queries.js';

const SERVED = 'model = @model AND ts >= @since AND ts < @until AND shadow_of IS NULL';
const MINUTE_MS = 60_000;

/** The comparison's GROUP BYs in SQLite, over the (model, ts) and (model, version, ts) indexes. */
export function createSqliteStatsQueries(sqlite: Database.Database): StatsQueries {
  const counts = sqlite.prepare(
    `SELECT version, label, status, count(*) AS n FROM predictions WHERE ${SERVED}
     GROUP BY version, status, label`,
  );
  const latencyBuckets = sqlite.prepare(
    `SELECT version, ${LATENCY_BUCKET_SQL} AS bucket, count(*) AS count FROM predictions
     WHERE ${SERVED} AND status = 'ok' GROUP BY version, bucket`,
  );
  const feedback = sqlite.prepare(
    `SELECT p.version AS version, count(*) AS n, coalesce(sum(p.label = f.label), 0) AS correct
     FROM predictions p JOIN feedback f ON f.prediction_id = p.id
     WHERE p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL
     GROUP BY p.version`,
  );
  const splitChangedAt = sqlite.prepare(
    `SELECT max(ts) AS ts FROM deployment_events WHERE model = @model AND ts < @until
     AND action IN (${SPLIT_CHANGING_ACTIONS.map((a) => `'${a}'`).join(', ')})`,
  );
  const splitRouted = sqlite.prepare(
    `SELECT version, count(*) AS n FROM predictions WHERE ${SERVED}
     AND route IN ('split', 'flag') GROUP BY version`,
  );
  const shadowPairs = sqlite.prepare(
    `SELECT p.version AS served, s.version AS shadow, count(*) AS pairs,
            coalesce(sum(p.label = s.label), 0) AS same
     FROM predictions s JOIN predictions p ON p.id = s.shadow_of
     WHERE s.model = @model AND s.ts >= @since AND s.ts < @until
       AND s.status = 'ok' AND p.status = 'ok'
     GROUP BY p.version, s.version`,
  );
  const traffic = sqlite.prepare(
    `SELECT version, ts / ${MINUTE_MS} AS minute, count(*) AS n FROM predictions
     WHERE model = @model AND shadow_of IS NULL AND ts >= @from AND ts < @to
     GROUP BY version, minute`,
  );

  return {
    async compareRows(query) {
      const changed = (splitChangedAt.get(query) as { ts: number | null }).ts;
      const from = Math.max(query.since, changed ?? 0);
      return {
        counts: counts.all(query) as CompareRows['counts'],
        latencyBuckets: latencyBuckets.all(query) as CompareRows['latencyBuckets'],
        feedback: feedback.all(query) as CompareRows['feedback'],
        splitChangedAt: changed,
        splitRouted: splitRouted.all({ ...query, since: from }) as CompareRows['splitRouted'],
        shadowPairs: shadowPairs.all(query) as CompareRows['shadowPairs'],
      };
    },
    async trafficPerMinute(model, from, to) {
      return traffic.all({ model, from, to }) as Array<{
        version: string;
        minute: number;
        n: number;
      }>;
    },
  };
}
