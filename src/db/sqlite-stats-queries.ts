import type Database from 'better-sqlite3';
import { latencyBucketOf } from '../compare/statistics.js';
import {
  type CompareRows,
  type CompareRowsQuery,
  SPLIT_CHANGING_ACTIONS,
  type StatsQueries,
} from './stats-queries.js';

const SERVED = 'model = @model AND ts >= @since AND ts < @until AND shadow_of IS NULL';
const MINUTE_MS = 60_000;

/**
 * The comparison without sorting or reading a million rows. Counts walk the covering
 * index predictions_compare in its own order (forced with INDEXED BY: without
 * statistics SQLite would take the (model, ts) index and sort every row). Latencies
 * come from latency_rollup for whole minutes and from the rows for the partial
 * minutes at the window's two edges, so percentiles are exact for any window.
 */
export function createSqliteStatsQueries(sqlite: Database.Database): StatsQueries {
  const grouped = sqlite.prepare(
    `SELECT version, status, label, route, count(*) AS n, sum(ts >= @from) AS sinceSplitChange
     FROM predictions INDEXED BY predictions_compare
     WHERE ${SERVED}
     GROUP BY version, status, label, route`,
  );
  const rolledUpLatencies = sqlite.prepare(
    `SELECT version, bucket, sum(count) AS count FROM latency_rollup
     WHERE model = @model AND minute >= @firstMinute AND minute < @endMinute
     GROUP BY version, bucket`,
  );
  const edgeLatencies = sqlite.prepare(
    `SELECT version, latency_us AS latencyUs, count(*) AS n FROM predictions
     WHERE ${SERVED} AND status = 'ok' GROUP BY version, latency_us`,
  );
  // Driven from the feedback side: few rows, each a primary-key lookup.
  const feedback = sqlite.prepare(
    `SELECT p.version AS version, count(*) AS n, coalesce(sum(p.label = f.label), 0) AS correct
     FROM feedback f CROSS JOIN predictions p ON p.id = f.prediction_id
     WHERE p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL
     GROUP BY p.version`,
  );
  const splitChangedAt = sqlite.prepare(
    `SELECT max(ts) AS ts FROM deployment_events WHERE model = @model AND ts < @until
     AND action IN (${SPLIT_CHANGING_ACTIONS.map((a) => `'${a}'`).join(', ')})`,
  );
  // The partial index predictions_shadows holds only shadow rows.
  const shadowPairs = sqlite.prepare(
    `SELECT p.version AS served, s.version AS shadow, count(*) AS pairs,
            coalesce(sum(p.label = s.label), 0) AS same
     FROM predictions s JOIN predictions p ON p.id = s.shadow_of
     WHERE s.model = @model AND s.ts >= @since AND s.ts < @until AND s.shadow_of IS NOT NULL
       AND s.status = 'ok' AND p.status = 'ok'
     GROUP BY p.version, s.version`,
  );
  const traffic = sqlite.prepare(
    `SELECT version, ts / ${MINUTE_MS} AS minute, count(*) AS n FROM predictions
     WHERE model = @model AND shadow_of IS NULL AND ts >= @from AND ts < @to
     GROUP BY version, minute`,
  );

  /** Whole minutes inside the window from the rollup; the ragged edges from the rows. */
  const latencyBuckets = (query: CompareRowsQuery): CompareRows['latencyBuckets'] => {
    const firstMinute = Math.ceil(query.since / MINUTE_MS);
    const endMinute = Math.floor(query.until / MINUTE_MS);
    const rows: Array<{ version: string; bucket: number; count: number }> = [];
    if (firstMinute >= endMinute) {
      rows.push(...edgeBuckets(query.model, query.since, query.until));
    } else {
      rows.push(
        ...(rolledUpLatencies.all({ model: query.model, firstMinute, endMinute }) as typeof rows),
        ...edgeBuckets(query.model, query.since, firstMinute * MINUTE_MS),
        ...edgeBuckets(query.model, endMinute * MINUTE_MS, query.until),
      );
    }
    return sumBy(
      rows,
      (r) => `${r.version}\u0000${r.bucket}`,
      (r) => ({ ...r }),
      (sum, r) => {
        sum.count += r.count;
      },
    );
  };
  const edgeBuckets = (model: string, since: number, until: number) =>
    since >= until
      ? []
      : (
          edgeLatencies.all({ model, since, until }) as Array<{
            version: string;
            latencyUs: number;
            n: number;
          }>
        ).map((r) => ({ version: r.version, bucket: latencyBucketOf(r.latencyUs), count: r.n }));

  return {
    async compareRows(query) {
      const changed = (splitChangedAt.get(query) as { ts: number | null }).ts;
      const from = Math.max(query.since, changed ?? 0);
      const groups = grouped.all({ ...query, from }) as GroupedRow[];
      return {
        ...fromGroups(groups),
        latencyBuckets: latencyBuckets(query),
        feedback: feedback.all(query) as CompareRows['feedback'],
        splitChangedAt: changed,
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

interface GroupedRow {
  version: string;
  status: string;
  label: string | null;
  route: string;
  n: number;
  sinceSplitChange: number;
}

/** Folds the groups into the comparison's counts and its split-routed traffic. */
function fromGroups(groups: GroupedRow[]): Pick<CompareRows, 'counts' | 'splitRouted'> {
  const split = new Map<string, number>();
  for (const g of groups) {
    if ((g.route === 'split' || g.route === 'flag') && g.sinceSplitChange > 0) {
      split.set(g.version, (split.get(g.version) ?? 0) + g.sinceSplitChange);
    }
  }
  return {
    counts: sumBy(
      groups,
      (g) => `${g.version}\u0000${g.status}\u0000${g.label ?? '\u0001'}`,
      (g) => ({ version: g.version, label: g.label, status: g.status, n: g.n }),
      (sum, g) => {
        sum.n += g.n;
      },
    ),
    splitRouted: [...split].map(([version, n]) => ({ version, n })),
  };
}

/** Groups `items` by `key`, starting each group with `first` and folding the rest in with `add`. */
function sumBy<T, S>(
  items: readonly T[],
  key: (item: T) => string,
  first: (item: T) => S,
  add: (sum: S, item: T) => void,
): S[] {
  const sums = new Map<string, S>();
  for (const item of items) {
    const k = key(item);
    const sum = sums.get(k);
    if (sum) add(sum, item);
    else sums.set(k, first(item));
  }
  return [...sums.values()];
}
