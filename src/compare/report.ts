import type { DeploymentState, SplitWeights } from '../db/deployment-state.js';
import type { CompareRows, StatsQueries } from '../db/stats-queries.js';
import { mcnemarExactPValue, pairedDifferenceInterval } from '../stats/mcnemar.js';
import {
  accuracyDifferenceSequence,
  accuracySequence,
  meanDifferenceSequence,
  meanValueSequence,
  type SequentialDifference,
  type SequentialInterval,
} from './sequential-figures.js';
import {
  type SequentialSampleRatioTest,
  sequentialSampleRatioTest,
} from './sequential-sample-ratio.js';
import {
  type Interval,
  type MeanSample,
  meanDifferenceTest,
  meanInterval,
  newcombeInterval,
  percentilesFromBuckets,
  type SampleRatioTest,
  SRM_THRESHOLD,
  sampleRatioMismatch,
  twoProportionZTest,
  wilsonInterval,
} from './statistics.js';

export interface CompareWindow {
  model: string;
  /** ms since epoch, inclusive; default: the beginning of the log. */
  since?: number | undefined;
  /** ms since epoch, exclusive; default: now. */
  until?: number | undefined;
  /** Only these versions; default: every version with traffic in the window. */
  versions?: readonly string[] | undefined;
  /**
   * Start at the last change of the split when that is later than `since` (`?since=split`):
   * the current experiment, a sample that only grows, as the sequential figures assume.
   */
  fromSplitChange?: boolean | undefined;
}

/** The split the gateway was told to apply, so the observed traffic can be tested against it. */
export interface ConfiguredSplit {
  source: 'local' | 'unleash';
  weights: SplitWeights | null;
  pinned: boolean;
}

/**
 * The split `state` tells the gateway to apply. With source `unleash` the weights live
 * in Unleash: `unleashWeights` as the gateway last fetched them, or null where they are
 * not known (the CLI, which reads only the database).
 */
export function configuredSplitOf(
  state: DeploymentState,
  unleashWeights: SplitWeights | null,
): ConfiguredSplit {
  return {
    source: state.source,
    weights: state.source === 'unleash' ? unleashWeights : state.split,
    pinned: state.pinned,
  };
}

export interface VersionReport {
  version: string;
  requests: number;
  /** Of the requests in the report (shadow predictions excluded). */
  share: number;
  errors: number;
  errorRate: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  labels: Record<string, number>;
  /**
   * Share of labelled feedback that matched the prediction: `low`/`high` the 95 % Wilson
   * interval (valid read once), `sequential` the 95 % confidence sequence (valid however
   * often it is read).
   */
  accuracy: (Interval & { n: number; correct: number; sequential: SequentialInterval }) | null;
  /**
   * Numeric feedback values (POST /feedback `value`): their count, mean and sample
   * variance (divisor n − 1; 0 below two values), the mean's 95 % normal-approximation
   * interval (`fixedHorizon`) and confidence sequence (`sequential`); both null below two.
   */
  value: {
    n: number;
    mean: number;
    variance: number;
    fixedHorizon: { low: number; high: number } | null;
    sequential: SequentialInterval | null;
  } | null;
  /** `regression` for a regressor's rows (a value, no label): label mix and accuracy do not apply. */
  task: 'classification' | 'regression';
  /** A regressor's served values: count, mean, nearest-rank p5/p50/p95; null for classifiers. */
  predicted: { n: number; mean: number; p5: number; p50: number; p95: number } | null;
  /**
   * A regressor's errors against numeric feedback: mean absolute error and root mean
   * squared error with 95 % normal-approximation intervals (RMSE's is the square root of
   * the MSE's) and, in `sequential`, their 95 % confidence sequences (the asymptotic one of
   * |e| and of e², the RMSE's through the square root); intervals null below two values.
   */
  error: {
    n: number;
    mae: number;
    rmse: number;
    maeInterval: { low: number; high: number } | null;
    rmseInterval: { low: number; high: number } | null;
    sequential: { mae: SequentialInterval | null; rmse: SequentialInterval | null };
  } | null;
}

/** A difference candidate − baseline read one way: its interval and two-sided p-value. */
export interface DifferenceFigures {
  low: number;
  high: number;
  /** Null when there is nothing to test (both versions all right or all wrong). */
  pValue: number | null;
  /** pValue < SIGNIFICANCE. */
  significant: boolean;
}

export interface AccuracyComparison {
  baseline: string;
  candidate: string;
  /** Accuracy of the candidate − accuracy of the baseline (0.02 = 2 points). */
  difference: number;
  /**
   * Valid when read once, at a sample size fixed in advance: Newcombe's hybrid score
   * interval (statistics.ts) and the two-proportion z-test. Reading it again and again
   * as feedback arrives and stopping at the first "significant" inflates the error rate.
   */
  fixedHorizon: DifferenceFigures & { z: number | null };
  /** Valid however often it is read: see sequential-figures.ts. */
  sequential: SequentialDifference;
}

export interface ValueComparison {
  baseline: string;
  candidate: string;
  /** Mean value of the candidate − mean value of the baseline. */
  difference: number;
  /** Two-sample z-test with unpooled variances; null below two values a side or no variance. */
  fixedHorizon: (DifferenceFigures & { z: number; pValue: number }) | null;
  /** Null below two values a side. */
  sequential: SequentialDifference | null;
}

export interface ShadowAgreement {
  served: string;
  shadow: string;
  /** Prediction rows both versions answered (a mirrored request of a batch gives several). */
  pairs: number;
  /**
   * Share of pairs with the same label, 95 % Wilson interval (valid read once). A
   * classifier's: null for a regressor's pairs, which have no label to agree on.
   */
  agreement: Interval | null;
  /** 95 % confidence sequence of the agreement (valid however often it is read); as agreement. */
  sequential: SequentialInterval | null;
  /** A classifier's: both versions' accuracy on the same rows; null without labelled feedback. */
  paired: PairedAccuracy | null;
  /** A regressor's: both versions' errors on the same rows; null without feedback values. */
  pairedError: PairedErrors | null;
}

/**
 * Accuracy of the served and the shadow version on exactly the mirrored requests whose
 * served prediction received a feedback label: one set of inputs, so the difference has
 * no between-users noise, and McNemar's exact test judges it (fixed horizon: read once).
 */
export interface PairedAccuracy {
  /** Labelled pairs. */
  n: number;
  servedAccuracy: number;
  shadowAccuracy: number;
  /** Pairs only the served version got right, and only the shadow. */
  servedOnly: number;
  shadowOnly: number;
  /** shadow − served accuracy with its 95 % interval for dependent proportions. */
  difference: { estimate: number; low: number; high: number };
  /** McNemar's exact test (two-sided). */
  pValue: number;
  significant: boolean;
}

/**
 * A regressor's errors, served and shadow, on exactly the mirrored rows whose served
 * prediction received a numeric feedback value y: each version's MAE and RMSE, and the
 * mean per-row differences shadow − served of absolute errors (|shadow − y| − |served −
 * y|, which is shadow MAE − served MAE) and of squared errors (shadow MSE − served MSE);
 * negative means the shadow is closer. Intervals as for a version's `error`: the 95 %
 * normal-approximation interval (read once) and the 95 % asymptotic confidence sequence
 * (read as often as you like), of the per-row differences, so the between-rows noise both
 * versions share cancels. Both null below two pairs, or while every pair has shown the same
 * difference (no spread: the interval would be a point, read as certainty). The fixed one
 * is also null until MIN_DIFFERING_PAIRS pairs differ (`differing`): pairs with d = 0 add
 * no evidence either way, and on a few differing pairs the normal interval claims a
 * difference far more often than 5 % (docs/statistics.md).
 */
export interface PairedErrors {
  /** Pairs with a feedback value. */
  n: number;
  /** Of those, the pairs whose absolute (squared) errors differ between the versions. */
  differing: { mae: number; mse: number };
  servedMae: number;
  shadowMae: number;
  servedRmse: number;
  shadowRmse: number;
  /** shadow MAE − served MAE. */
  maeDifference: number;
  /** shadow MSE − served MSE. */
  mseDifference: number;
  maeDifferenceInterval: { low: number; high: number } | null;
  mseDifferenceInterval: { low: number; high: number } | null;
  sequential: {
    maeDifference: SequentialInterval | null;
    mseDifference: SequentialInterval | null;
  };
}

export interface SampleRatioReport {
  expected: SplitWeights;
  observed: Record<string, number>;
  /** Counted from the later of the window start and the last change of the split. */
  since: number;
  /** Pearson's chi-square: valid when read once (the CLI prints it). */
  test: SampleRatioTest | null;
  /**
   * Lindon & Malek's sequential test (sequential-sample-ratio.ts) at alpha = SRM_THRESHOLD:
   * valid however often it is read while the counts grow from the split change.
   */
  sequential: SequentialSampleRatioTest | null;
}

export interface CompareReport {
  model: string;
  window: { since: number | null; until: number };
  versions: VersionReport[];
  accuracy: AccuracyComparison[];
  /** Every later version with feedback values against the first, on the mean value. */
  value: ValueComparison[];
  sampleRatio: SampleRatioReport | null;
  /** Why there is no sample-ratio test, in words. */
  sampleRatioNote: string | null;
  shadow: ShadowAgreement[];
}

export const SIGNIFICANCE = 0.05;

/** What /compare, the CLI and the rollout guards call: flush, aggregate, build. */
export async function loadCompareReport(
  deps: { queries: StatsQueries; flushLog: () => Promise<void> },
  window: CompareWindow,
  split: ConfiguredSplit | null,
  now = Date.now(),
): Promise<CompareReport> {
  // Read-your-writes: a comparison right after traffic includes it.
  await deps.flushLog();
  const rows = await deps.queries.compareRows({
    model: window.model,
    since: window.since ?? 0,
    until: window.until ?? now + 1,
    fromSplitChange: window.fromSplitChange,
  });
  return buildCompareReport(rows, window, split, now);
}

/**
 * Builds the comparison from the storage's aggregated rows (SQL GROUP BYs, see
 * db/stats-queries.ts): pure, no I/O, so every storage gives the same numbers.
 */
export function buildCompareReport(
  rows: CompareRows,
  window: CompareWindow,
  split: ConfiguredSplit | null,
  now: number,
): CompareReport {
  const since = window.fromSplitChange
    ? Math.max(window.since ?? 0, rows.splitChangedAt ?? 0)
    : (window.since ?? null);
  const until = window.until ?? now + 1;
  const wanted = window.versions ? new Set(window.versions) : null;
  const keep = (version: string) => wanted === null || wanted.has(version);
  const { counts, latencyBuckets: buckets, feedback } = rows;

  const byVersion = new Map<string, VersionReport>();
  const versionOf = (version: string) => {
    let report = byVersion.get(version);
    if (!report) {
      report = {
        version,
        requests: 0,
        share: 0,
        errors: 0,
        errorRate: 0,
        latencyMs: { p50: null, p95: null, p99: null },
        labels: {},
        accuracy: null,
        value: null,
        task: 'classification',
        predicted: null,
        error: null,
      };
      byVersion.set(version, report);
    }
    return report;
  };
  for (const row of counts) {
    if (!keep(row.version)) continue;
    const report = versionOf(row.version);
    report.requests += row.n;
    if (row.status === 'error') report.errors += row.n;
    else if (row.label !== null) report.labels[row.label] = (report.labels[row.label] ?? 0) + row.n;
  }
  const total = [...byVersion.values()].reduce((sum, r) => sum + r.requests, 0);
  for (const report of byVersion.values()) {
    report.share = total === 0 ? 0 : report.requests / total;
    report.errorRate = report.requests === 0 ? 0 : report.errors / report.requests;
    const [p50, p95, p99] = percentilesFromBuckets(
      buckets.filter((b) => b.version === report.version),
      [50, 95, 99],
    ).map((us) => (us === null ? null : us / 1000));
    report.latencyMs = { p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
  }
  for (const row of feedback) {
    const report = byVersion.get(row.version);
    const interval = wilsonInterval(row.correct, row.n);
    if (report && interval) {
      const sequential = accuracySequence(row.correct, row.n);
      report.accuracy = { ...interval, n: row.n, correct: row.correct, sequential };
    }
  }
  for (const row of rows.feedbackValues) {
    const report = byVersion.get(row.version);
    if (!report || row.n === 0) continue;
    const sample = {
      n: row.n,
      mean: row.mean,
      variance: row.n < 2 ? 0 : row.squares / (row.n - 1),
    };
    const fixed = meanInterval(sample);
    report.value = {
      ...sample,
      fixedHorizon: fixed && { low: fixed.low, high: fixed.high },
      sequential: meanValueSequence(sample),
    };
  }
  for (const row of rows.predictedValues) {
    const report = byVersion.get(row.version);
    if (!report || row.n === 0) continue;
    report.predicted = { n: row.n, mean: row.mean, p5: row.p5, p50: row.p50, p95: row.p95 };
    // A version whose served rows carry values and no labels is a regressor.
    if (Object.keys(report.labels).length === 0) report.task = 'regression';
  }
  for (const row of rows.valueErrors) {
    const report = byVersion.get(row.version);
    if (!report || row.n === 0) continue;
    report.error = regressionErrors(row);
  }
  const versions = [...byVersion.values()].sort((a, b) =>
    a.version.localeCompare(b.version, 'en', { numeric: true }),
  );

  return {
    model: window.model,
    window: { since, until },
    versions,
    accuracy: compareAccuracy(versions),
    value: compareValues(versions),
    ...sampleRatio(rows, since ?? 0, split, keep),
    shadow: shadowAgreement(rows, keep),
  };
}

/** MAE and RMSE with intervals from the storage's two-pass sums. */
function regressionErrors(row: CompareRows['valueErrors'][number]): VersionReport['error'] {
  const variance = (squares: number) => (row.n < 2 ? 0 : squares / (row.n - 1));
  const absolute = { n: row.n, mean: row.mae, variance: variance(row.absSquares) };
  const squared = { n: row.n, mean: row.mse, variance: variance(row.sqSquares) };
  const mae = meanInterval(absolute);
  const mse = meanInterval(squared);
  const maeSequence = meanValueSequence(absolute);
  const mseSequence = meanValueSequence(squared);
  return {
    n: row.n,
    mae: row.mae,
    rmse: Math.sqrt(row.mse),
    maeInterval: mae && { low: Math.max(0, mae.low), high: mae.high },
    // The square root is monotone, so it carries the MSE's interval over to the RMSE.
    rmseInterval: mse && { low: Math.sqrt(Math.max(0, mse.low)), high: Math.sqrt(mse.high) },
    sequential: {
      mae: maeSequence && { low: Math.max(0, maeSequence.low), high: maeSequence.high },
      rmse: mseSequence && {
        low: Math.sqrt(Math.max(0, mseSequence.low)),
        high: Math.sqrt(mseSequence.high),
      },
    },
  };
}

/** Every later version against the first (the baseline), on feedback accuracy. */
function compareAccuracy(versions: VersionReport[]): AccuracyComparison[] {
  const [baseline, ...candidates] = versions.filter((v) => v.accuracy !== null);
  if (!baseline?.accuracy) return [];
  return candidates.map((candidate) => {
    const a = baseline.accuracy as { correct: number; n: number };
    const b = candidate.accuracy as { correct: number; n: number };
    const test = twoProportionZTest(a.correct, a.n, b.correct, b.n);
    // Both sides have feedback here, so the interval exists even when the test does not.
    const interval = newcombeInterval(a.correct, a.n, b.correct, b.n) as Interval;
    return {
      baseline: baseline.version,
      candidate: candidate.version,
      difference: interval.estimate,
      fixedHorizon: {
        low: interval.low,
        high: interval.high,
        z: test?.z ?? null,
        pValue: test?.pValue ?? null,
        significant: test !== null && test.pValue < SIGNIFICANCE,
      },
      sequential: accuracyDifferenceSequence(a, b),
    };
  });
}

/** Every later version against the first, on the mean feedback value. */
function compareValues(versions: VersionReport[]): ValueComparison[] {
  const [baseline, ...candidates] = versions.filter((v) => v.value !== null);
  if (!baseline?.value) return [];
  const a = baseline.value as MeanSample;
  return candidates.map((candidate) => {
    const b = candidate.value as MeanSample;
    const test = meanDifferenceTest(a, b);
    return {
      baseline: baseline.version,
      candidate: candidate.version,
      difference: b.mean - a.mean,
      fixedHorizon: test && {
        low: test.low,
        high: test.high,
        z: test.z,
        pValue: test.pValue,
        significant: test.pValue < SIGNIFICANCE,
      },
      sequential: meanDifferenceSequence(a, b),
    };
  });
}

function sampleRatio(
  rows: CompareRows,
  since: number,
  split: ConfiguredSplit | null,
  keep: (version: string) => boolean,
): { sampleRatio: SampleRatioReport | null; sampleRatioNote: string | null } {
  if (!split?.weights) {
    return { sampleRatio: null, sampleRatioNote: 'no split is configured' };
  }
  // Traffic is tested against the split in force since it was last set, and only the
  // requests the split decided count: overrides, pins and shadows are not its doing.
  const from = Math.max(since, rows.splitChangedAt ?? 0);
  const observed: Record<string, number> = {};
  for (const row of rows.splitRouted) if (keep(row.version)) observed[row.version] = row.n;
  const expected = Object.fromEntries(Object.entries(split.weights).filter(([v]) => keep(v)));
  const test = sampleRatioMismatch(observed, expected);
  const sequential = sequentialSampleRatioTest(observed, expected, SRM_THRESHOLD);
  return {
    sampleRatio: { expected, observed, since: from, test, sequential },
    sampleRatioNote: test === null ? 'no traffic routed by the split since it was set' : null,
  };
}

function shadowAgreement(rows: CompareRows, keep: (version: string) => boolean): ShadowAgreement[] {
  return rows.shadowPairs
    .filter((row) => keep(row.served) || keep(row.shadow))
    .map((row) => {
      // A regressor's rows carry no label: agreeing on one, or being right about it, does not apply.
      const labelled = row.unlabelledPairs === 0 && row.pairs > 0;
      return {
        served: row.served,
        shadow: row.shadow,
        pairs: row.pairs,
        agreement: labelled ? wilsonInterval(row.same, row.pairs) : null,
        sequential: labelled ? accuracySequence(row.same, row.pairs) : null,
        paired: labelled ? pairedAccuracy(row) : null,
        pairedError: pairedErrors(row),
      };
    });
}

function pairedErrors(row: CompareRows['shadowPairs'][number]): PairedErrors | null {
  const n = row.valued;
  if (n <= 0) return null;
  const absolute = meanDifference(
    n,
    row.absDiffSum,
    row.absDiffSqSum,
    row.absDiffRange,
    row.absDiffNonzero,
  );
  const squared = meanDifference(
    n,
    row.sqDiffSum,
    row.sqDiffSqSum,
    row.sqDiffRange,
    row.sqDiffNonzero,
  );
  return {
    n,
    differing: { mae: row.absDiffNonzero, mse: row.sqDiffNonzero },
    servedMae: row.servedAbsSum / n,
    // Σ|shadow error| = Σ|served error| + Σd, and likewise for squares.
    shadowMae: (row.servedAbsSum + row.absDiffSum) / n,
    servedRmse: Math.sqrt(row.servedSqSum / n),
    shadowRmse: Math.sqrt(Math.max(0, row.servedSqSum + row.sqDiffSum) / n),
    maeDifference: absolute.mean,
    mseDifference: squared.mean,
    maeDifferenceInterval: absolute.interval,
    mseDifferenceInterval: squared.interval,
    sequential: { maeDifference: absolute.sequential, mseDifference: squared.sequential },
  };
}

/**
 * Pairs whose errors differ, below which a paired difference gets no fixed-horizon interval.
 * With many d = 0 the normal interval's z is about Σd / √Σd², which k differing pairs of one
 * size push past 1.96 whenever they all point one way: 12.5 % of the time at k = 4 when
 * nothing differs. From 30 on its false-positive rate stays within 3.4–7.1 % for differences
 * of one size (the binomial's steps) and at 5 % or below for sizes that vary; the value
 * guards wait for the same 30 outcomes (docs/statistics.md, "A regressor's shadow").
 */
export const MIN_DIFFERING_PAIRS = 30;

/**
 * The mean of n per-pair differences from Σd and Σd², with both intervals when d varies,
 * the fixed one only from MIN_DIFFERING_PAIRS pairs with d ≠ 0 on.
 */
function meanDifference(n: number, sum: number, squares: number, range: number, differing: number) {
  const mean = sum / n;
  // One-pass sums: rounding may leave a hair below 0 where the spread is nil.
  const variance = n < 2 ? 0 : Math.max(0, (squares - sum * mean) / (n - 1));
  if (!(range > 0 && variance > 0)) return { mean, interval: null, sequential: null };
  const sample = { n, mean, variance };
  const fixed = differing >= MIN_DIFFERING_PAIRS ? meanInterval(sample) : null;
  return {
    mean,
    interval: fixed && { low: fixed.low, high: fixed.high },
    sequential: meanValueSequence(sample),
  };
}

function pairedAccuracy(row: CompareRows['shadowPairs'][number]): PairedAccuracy | null {
  const n = row.labelled;
  if (n <= 0) return null;
  // The p-value is summed once and handed to the interval, which needs it too.
  const pValue = mcnemarExactPValue(row.servedOnly, row.shadowOnly);
  const difference = pairedDifferenceInterval(row.servedOnly, row.shadowOnly, n, 0.95, pValue);
  if (!difference) return null;
  return {
    n,
    servedAccuracy: row.servedRight / n,
    shadowAccuracy: row.shadowRight / n,
    servedOnly: row.servedOnly,
    shadowOnly: row.shadowOnly,
    difference,
    pValue,
    significant: pValue < SIGNIFICANCE,
  };
}
