import type { ServedRowSource } from './served-rows.js';

/**
 * The aggregations behind /compare and the dashboard, done where the rows are
 * (SQL GROUP BYs): only counts per version reach JavaScript. Each storage
 * implements them in its own dialect; compare/report.ts turns them into numbers.
 */
export interface CompareRowsQuery {
  model: string;
  /** ms since epoch, inclusive. */
  since: number;
  /** ms since epoch, exclusive. */
  until: number;
  /**
   * Start at the last split change instead when it is later than `since`: the current
   * experiment, whose counts only grow, which the anytime-valid figures need.
   */
  fromSplitChange?: boolean | undefined;
}

/** Shadow predictions are excluded everywhere but in `shadowPairs`. */
export interface CompareRows {
  counts: Array<{ version: string; label: string | null; status: string; n: number }>;
  /** Successful predictions per latency bucket (latency-buckets.ts `latencyBucketOf`). */
  latencyBuckets: Array<{ version: string; bucket: number; count: number }>;
  /** Predictions with a feedback label, and how many of those were right. */
  feedback: Array<{ version: string; n: number; correct: number }>;
  /**
   * Predictions with a numeric feedback value: their count, mean and sum of squared
   * deviations from that mean (two passes in SQL, so no cancellation in Σx² − n·mean²).
   */
  feedbackValues: Array<{ version: string; n: number; mean: number; squares: number }>;
  /**
   * A regressor's served values (successful rows with a score and no label): count, mean
   * and nearest-rank 5th, 50th and 95th percentiles.
   */
  predictedValues: Array<{
    version: string;
    n: number;
    mean: number;
    p5: number;
    p50: number;
    p95: number;
  }>;
  /**
   * A regressor's errors against numeric feedback: count, mean absolute error, mean squared
   * error, and each one's sum of squared deviations from its mean (two passes in SQL).
   */
  valueErrors: Array<{
    version: string;
    n: number;
    mae: number;
    mse: number;
    absSquares: number;
    sqSquares: number;
  }>;
  /** Last split-changing event (split, source, rollout_start, rollout_step) before `until`. */
  splitChangedAt: number | null;
  /** Requests the split decided (route split or flag) from max(since, splitChangedAt). */
  splitRouted: Array<{ version: string; n: number }>;
  /**
   * Served and shadow prediction pairs where both succeeded, and how many agreed on the label.
   * A classifier's pairs are judged on feedback labels, a regressor's on feedback values.
   */
  shadowPairs: Array<{
    served: string;
    shadow: string;
    pairs: number;
    same: number;
    /**
     * Of the pairs whose served prediction has a feedback label: how many, how many each
     * version got right, and how many only the served (only the shadow) got right.
     */
    labelled: number;
    servedRight: number;
    shadowRight: number;
    servedOnly: number;
    shadowOnly: number;
    /**
     * Pairs whose served row carries no label: a regressor's (a classifier's successful rows
     * always carry one), which agree on no label and are judged on feedback values instead.
     */
    unlabelledPairs: number;
    /**
     * Of the pairs where both rows carry a regressor's value (a score, no label) and the
     * served one has a numeric feedback value y: how many, and sums
     * over them of the served version's absolute and squared error, of d = |shadow − y| −
     * |served − y| and d², and of d = (shadow − y)² − (served − y)² and d²; each d's range
     * (max − min: 0 exactly when every pair gives the same d) and how many pairs have d ≠ 0.
     * All 0 without such pairs.
     */
    valued: number;
    servedAbsSum: number;
    servedSqSum: number;
    absDiffSum: number;
    absDiffSqSum: number;
    absDiffRange: number;
    absDiffNonzero: number;
    sqDiffSum: number;
    sqDiffSqSum: number;
    sqDiffRange: number;
    sqDiffNonzero: number;
  }>;
}

export interface StatsQueries extends ServedRowSource {
  compareRows(query: CompareRowsQuery): Promise<CompareRows>;
  /** Served predictions per version and minute (`minute` = floor(ts / MINUTE_MS)), in [from, to). */
  trafficPerMinute(
    model: string,
    from: number,
    to: number,
  ): Promise<Array<{ version: string; minute: number; n: number }>>;
}

/** The bucket of trafficPerMinute and of the SQLite latency rollup: `minute` = floor(ts / MINUTE_MS). */
export const MINUTE_MS = 60_000;

/** The event actions after which the sample-ratio test starts counting again. */
export const SPLIT_CHANGING_ACTIONS = ['split', 'source', 'rollout_start', 'rollout_step'] as const;

/**
 * Both dialects' test of a regressor's shadow pair (shadow row s, served row p, the served
 * row's feedback f) judged on a feedback value: both rows carry a value and no label, and
 * the feedback has a value.
 */
export const VALUED_SHADOW_PAIR = `(f.value IS NOT NULL AND p.label IS NULL AND s.label IS NULL
  AND p.score IS NOT NULL AND s.score IS NOT NULL)`;
