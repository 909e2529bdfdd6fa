import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import {
  type CompareGroup,
  foldCompareGroups,
  type LatencyGroup,
  latencyBucketsOf,
  mergeLatencyBuckets,
} from '../compare-groups.js';
import type { LogRange } from '../log-archive.js';
import type { ServedInput, ServedRow } from '../served-rows.js';
import {
  type CompareRows,
  type CompareRowsQuery,
  MINUTE_MS,
  SPLIT_CHANGING_ACTIONS,
  type StatsQueries,
  VALUED_SHADOW_PAIR,
} from '../stats-queries.js';

const SERVED = 'model = @model AND ts >= @since AND ts < @until AND shadow_of IS NULL';

type LabelledShadowPair = Omit<CompareRows['shadowPairs'][number], keyof typeof NO_VALUED_PAIRS>;
/** Shadow pairs none of which is a regressor's: none judged on a feedback value. */
const NO_VALUED_PAIRS = {
  valued: 0,
  servedAbsSum: 0,
  servedSqSum: 0,
  absDiffSum: 0,
  absDiffSqSum: 0,
  absDiffRange: 0,
  absDiffNonzero: 0,
  sqDiffSum: 0,
  sqDiffSqSum: 0,
  sqDiffRange: 0,
  sqDiffNonzero: 0,
} satisfies Partial<CompareRows['shadowPairs'][number]>;

/**
 * Rows of the (model, ts) index a replay's count walks before it yields: a few ms each.
 * One count(*) of a day at 1,000 req/s (86M rows) would hold the event loop for seconds.
 */
export const SERVED_COUNT_PAGE_ROWS = 50_000;

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
     WHERE f.label IS NOT NULL
       AND p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL
     GROUP BY p.version`,
  );
  const feedbackValues = sqlite.prepare(
    `WITH v AS (
       SELECT p.version AS version, f.value AS value
       FROM feedback f CROSS JOIN predictions p ON p.id = f.prediction_id
       WHERE f.value IS NOT NULL
         AND p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL),
     m AS (SELECT version, avg(value) AS mean FROM v GROUP BY version)
     SELECT v.version AS version, count(*) AS n, m.mean AS mean,
            sum((v.value - m.mean) * (v.value - m.mean)) AS squares
     FROM v JOIN m ON m.version = v.version
     GROUP BY v.version, m.mean`,
  );
  // A regressor's rows: ok, with a value in score and no label (see gateway/predictor.ts).
  const predictedValues = sqlite.prepare(
    `WITH r AS (
       SELECT version, score,
              row_number() OVER (PARTITION BY version ORDER BY score) AS rn,
              count(*) OVER (PARTITION BY version) AS n
       FROM predictions
       WHERE ${SERVED} AND status = 'ok' AND label IS NULL AND score IS NOT NULL)
     SELECT version, n, avg(score) AS mean,
            max(CASE WHEN rn = (5 * n + 99) / 100 THEN score END) AS p5,
            max(CASE WHEN rn = (50 * n + 99) / 100 THEN score END) AS p50,
            max(CASE WHEN rn = (95 * n + 99) / 100 THEN score END) AS p95
     FROM r GROUP BY version, n`,
  );
  const valueErrors = sqlite.prepare(
    `WITH e AS (
       SELECT p.version AS version, abs(f.value - p.score) AS ae,
              (f.value - p.score) * (f.value - p.score) AS se
       FROM feedback f CROSS JOIN predictions p ON p.id = f.prediction_id
       WHERE f.value IS NOT NULL AND p.label IS NULL AND p.score IS NOT NULL AND p.status = 'ok'
         AND p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL),
     m AS (SELECT version, avg(ae) AS mae, avg(se) AS mse FROM e GROUP BY version)
     SELECT e.version AS version, count(*) AS n, m.mae AS mae, m.mse AS mse,
            sum((e.ae - m.mae) * (e.ae - m.mae)) AS absSquares,
            sum((e.se - m.mse) * (e.se - m.mse)) AS sqSquares
     FROM e JOIN m ON m.version = e.version
     GROUP BY e.version, m.mae, m.mse`,
  );
  const splitChangedAt = sqlite.prepare(
    `SELECT max(ts) AS ts FROM deployment_events WHERE model = @model AND ts < @until
     AND action IN (${SPLIT_CHANGING_ACTIONS.map((a) => `'${a}'`).join(', ')})`,
  );
  // The partial index predictions_shadows holds only shadow rows; each finds its served row
  // and that row's feedback by primary key.
  const shadowPairRows = `FROM predictions s JOIN predictions p ON p.id = s.shadow_of
       LEFT JOIN feedback f ON f.prediction_id = p.id
       WHERE s.model = @model AND s.ts >= @since AND s.ts < @until AND s.shadow_of IS NOT NULL
         AND s.status = 'ok' AND p.status = 'ok'`;
  const pairCounts = `count(*) AS pairs,
            count(*) - count(servedLabel) AS unlabelledPairs,
            coalesce(sum(servedLabel = shadowLabel), 0) AS same,
            count(truth) AS labelled,
            coalesce(sum(servedLabel = truth), 0) AS servedRight,
            coalesce(sum(shadowLabel = truth), 0) AS shadowRight,
            coalesce(sum(servedLabel = truth AND shadowLabel IS NOT truth), 0) AS servedOnly,
            coalesce(sum(shadowLabel = truth AND servedLabel IS NOT truth), 0) AS shadowOnly`;
  const shadowPairs = sqlite.prepare(
    `WITH e AS (
       SELECT p.version AS served, s.version AS shadow,
              p.label AS servedLabel, s.label AS shadowLabel, f.label AS truth
       ${shadowPairRows})
     SELECT served, shadow, ${pairCounts} FROM e GROUP BY served, shadow`,
  );
  // A regressor's pairs also sum their errors: n, Σd, Σd² in one pass (they cancel only when
  // the mean difference dwarfs its spread). LIMIT -1 keeps e from being flattened into the
  // aggregate (SQLite's rule), so each pair's errors are computed once rather than once for
  // every aggregate using them: 0.6 s of CPU instead of 1.1 s over 300,000 pairs, half with
  // feedback (0.43 s without the sums).
  const shadowPairsWithErrors = sqlite.prepare(
    `WITH e AS (
       SELECT p.version AS served, s.version AS shadow,
              p.label AS servedLabel, s.label AS shadowLabel, f.label AS truth,
              ${VALUED_SHADOW_PAIR} AS valued,
              p.score - f.value AS servedError, s.score - f.value AS shadowError
       ${shadowPairRows}
       LIMIT -1),
     d AS (
       SELECT *, abs(shadowError) - abs(servedError) AS absDiff,
              shadowError * shadowError - servedError * servedError AS sqDiff
       FROM e)
     SELECT served, shadow, ${pairCounts},
            count(*) FILTER (WHERE valued) AS valued,
            coalesce(sum(abs(servedError)) FILTER (WHERE valued), 0) AS servedAbsSum,
            coalesce(sum(servedError * servedError) FILTER (WHERE valued), 0) AS servedSqSum,
            coalesce(sum(absDiff) FILTER (WHERE valued), 0) AS absDiffSum,
            coalesce(sum(absDiff * absDiff) FILTER (WHERE valued), 0) AS absDiffSqSum,
            coalesce(max(absDiff) FILTER (WHERE valued) - min(absDiff) FILTER (WHERE valued), 0)
              AS absDiffRange,
            count(*) FILTER (WHERE valued AND absDiff <> 0) AS absDiffNonzero,
            coalesce(sum(sqDiff) FILTER (WHERE valued), 0) AS sqDiffSum,
            coalesce(sum(sqDiff * sqDiff) FILTER (WHERE valued), 0) AS sqDiffSqSum,
            coalesce(max(sqDiff) FILTER (WHERE valued) - min(sqDiff) FILTER (WHERE valued), 0)
              AS sqDiffRange,
            count(*) FILTER (WHERE valued AND sqDiff <> 0) AS sqDiffNonzero
     FROM d GROUP BY served, shadow`,
  );
  // predictions_model_ts in its own order: one index range, no sort; LIMIT -1 is no limit.
  const servedRows = sqlite.prepare(
    `SELECT p.id, p.ts, p.version, p.input, p.label, p.score, p.status,
            f.label AS feedbackLabel, f.value AS feedbackValue
     FROM predictions p INDEXED BY predictions_model_ts
     LEFT JOIN feedback f ON f.prediction_id = p.id
     WHERE p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL
     ORDER BY p.ts LIMIT @limit`,
  );
  const servedInputs = sqlite
    .prepare(
      `SELECT ts, version, input, label, score FROM predictions INDEXED BY predictions_model_ts
       WHERE ${SERVED} ORDER BY ts LIMIT @limit`,
    )
    .raw();
  const servedCount = sqlite
    .prepare(`SELECT count(*) FROM predictions INDEXED BY predictions_model_ts WHERE ${SERVED}`)
    .pluck();
  /** The ts of the served row just past a page from `since`; undefined when the range ends first. */
  const pageEnd = sqlite
    .prepare(
      `SELECT ts FROM predictions INDEXED BY predictions_model_ts WHERE ${SERVED}
       ORDER BY ts LIMIT 1 OFFSET ${SERVED_COUNT_PAGE_ROWS}`,
    )
    .pluck();
  /**
   * The count a page of ts at a time, ending each page where a ts starts so no row is
   * counted twice (a millisecond holding a page or more is counted on its own).
   */
  const countServedInPages = async (range: LogRange) => {
    let total = 0;
    let since = range.since;
    for (;;) {
      const end = pageEnd.get({ ...range, since }) as number | undefined;
      if (end === undefined) return total + (servedCount.get({ ...range, since }) as number);
      const until = end > since ? end : since + 1;
      total += servedCount.get({ ...range, since, until }) as number;
      since = until;
      await yieldToEventLoop();
    }
  };
  const traffic = sqlite.prepare(
    `SELECT version, ts / ${MINUTE_MS} AS minute, count(*) AS n FROM predictions
     WHERE model = @model AND shadow_of IS NULL AND ts >= @from AND ts < @to
     GROUP BY version, minute`,
  );

  /** Whole minutes inside the window from the rollup; the ragged edges from the rows. */
  const latencyBuckets = (query: CompareRowsQuery): CompareRows['latencyBuckets'] => {
    const firstMinute = Math.ceil(query.since / MINUTE_MS);
    const endMinute = Math.floor(query.until / MINUTE_MS);
    if (firstMinute >= endMinute) return edgeBuckets(query.model, query.since, query.until);
    return mergeLatencyBuckets([
      ...(rolledUpLatencies.all({
        model: query.model,
        firstMinute,
        endMinute,
      }) as CompareRows['latencyBuckets']),
      ...edgeBuckets(query.model, query.since, firstMinute * MINUTE_MS),
      ...edgeBuckets(query.model, endMinute * MINUTE_MS, query.until),
    ]);
  };
  const edgeBuckets = (model: string, since: number, until: number) =>
    since >= until
      ? []
      : latencyBucketsOf(edgeLatencies.all({ model, since, until }) as LatencyGroup[]);

  /**
   * Only a regressor's pairs pay for the error sums. Served rows are windowed by their ts and
   * shadow rows by theirs, a little later (the mirror runs after the response), so a window
   * can hold a regressor's shadow rows without its served rows: when no served row in the
   * window is a regressor's, the pairs themselves say whether any is.
   */
  const shadowPairsOf = (
    query: CompareRowsQuery,
    servesRegressor: boolean,
  ): CompareRows['shadowPairs'] => {
    if (!servesRegressor) {
      const pairs = shadowPairs.all(query) as LabelledShadowPair[];
      if (pairs.every((pair) => pair.unlabelledPairs === 0)) {
        return pairs.map((pair) => ({ ...pair, ...NO_VALUED_PAIRS }));
      }
    }
    return shadowPairsWithErrors.all(query) as CompareRows['shadowPairs'];
  };

  return {
    async compareRows(request) {
      const changed = (
        splitChangedAt.get({ model: request.model, until: request.until }) as { ts: number | null }
      ).ts;
      const from = Math.max(request.since, changed ?? 0);
      const query = {
        model: request.model,
        since: request.fromSplitChange ? from : request.since,
        until: request.until,
      };
      const groups = grouped.all({ ...query, from }) as CompareGroup[];
      const predicted = predictedValues.all(query) as CompareRows['predictedValues'];
      return {
        ...foldCompareGroups(groups),
        latencyBuckets: latencyBuckets(query),
        feedback: feedback.all(query) as CompareRows['feedback'],
        feedbackValues: feedbackValues.all(query) as CompareRows['feedbackValues'],
        predictedValues: predicted,
        valueErrors: valueErrors.all(query) as CompareRows['valueErrors'],
        splitChangedAt: changed,
        shadowPairs: shadowPairsOf(query, predicted.length > 0),
      };
    },
    async servedRows(range, limit) {
      return servedRows.all({ ...range, limit: limit ?? -1 }) as ServedRow[];
    },
    async servedInputs(range, limit) {
      return servedInputs.all({ ...range, limit: limit ?? -1 }) as ServedInput[];
    },
    servedCount: countServedInPages,
    async trafficPerMinute(model, from, to) {
      return traffic.all({ model, from, to }) as Array<{
        version: string;
        minute: number;
        n: number;
      }>;
    },
  };
}
