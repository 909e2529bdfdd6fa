/**
 * The statistics of a version comparison. Pure functions, no I/O; the distributions come
 * from @stdlib so nothing numerical is hand-rolled here. Tail probabilities are computed
 * as upper tails directly (Φ(−|z|), the upper regularized incomplete gamma), not as
 * 1 − cdf, so a clear difference reports p = 1.5e-23 rather than 0.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { latencyOfBucket } from '../db/latency-buckets.js';

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be between 0 and 1 (exclusive), got ${confidence}`);
  }
}

/** Counts must be finite, n ≥ 0 and 0 ≤ successes ≤ n; anything else is a caller's bug. */
function checkCounts(successes: number, n: number): void {
  if (!(Number.isFinite(n) && n >= 0 && successes >= 0 && successes <= n)) {
    throw new RangeError(`expected 0 ≤ successes ≤ n, got ${successes} of ${n}`);
  }
}

/** Two-sided critical value: 1.959964 for 0.95. */
const zFor = (confidence: number) => normalQuantile(1 - (1 - confidence) / 2, 0, 1);

/**
 * Wilson score interval for a binomial proportion: unlike the Wald interval it stays
 * inside [0, 1] and is honest for small n and for proportions near 0 or 1. `estimate` is
 * the observed proportion successes / n (not the interval's centre). Null when n = 0.
 * Throws a RangeError unless 0 ≤ successes ≤ n and 0 < confidence < 1.
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval | null {
  checkCounts(successes, n);
  checkConfidence(confidence);
  if (n === 0) return null;
  const z = zFor(confidence);
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 and n the bounds are exactly 0 and 1; rounding would leave 1e-17 off.
  return {
    estimate: p,
    low: successes === 0 ? 0 : Math.max(0, center - half),
    high: successes === n ? 1 : Math.min(1, center + half),
  };
}

export interface ProportionTest {
  /** p2 − p1: positive when the second version does better. */
  difference: number;
  /**
   * Interval of the difference at the given confidence (95 % by default): Newcombe's
   * hybrid score interval (see `newcombeInterval`), which, unlike the Wald interval,
   * carries the uncertainty of an arm at 0 % or 100 %.
   */
  low: number;
  high: number;
  /** z statistic with the pooled standard error, as the null hypothesis p1 = p2 assumes. */
  z: number;
  /** Two-sided p-value of z; z² equals Pearson's chi-square of the 2×2 table. */
  pValue: number;
}

/**
 * Newcombe's hybrid score interval for a difference of proportions p2 − p1 (Newcombe
 * 1998, "Interval estimation for the difference between independent proportions:
 * comparison of eleven methods", Statistics in Medicine 17:873–890, method 10): each
 * side's distance to its own Wilson bound, combined in quadrature,
 *   low  = d − √((p2 − l2)² + (u1 − p1)²),   high = d + √((u2 − p2)² + (p1 − l1)²).
 * The Wald interval d ± z·SE drops an arm whose observed rate is 0 or 1 (its SE is 0),
 * so 10/10 against 128/191 looked certain to ±7 points; Wilson bounds do not collapse.
 * `estimate` is d = p2 − p1. Null when either side has n = 0.
 * Throws a RangeError unless 0 ≤ s ≤ n on both sides and 0 < confidence < 1.
 */
export function newcombeInterval(
  s1: number,
  n1: number,
  s2: number,
  n2: number,
  confidence = 0.95,
): Interval | null {
  const first = wilsonInterval(s1, n1, confidence);
  const second = wilsonInterval(s2, n2, confidence);
  if (!first || !second) return null;
  const p1 = first.estimate;
  const p2 = second.estimate;
  const d = p2 - p1;
  return {
    estimate: d,
    low: Math.max(-1, d - Math.hypot(p2 - second.low, first.high - p1)),
    high: Math.min(1, d + Math.hypot(second.high - p2, p1 - first.low)),
  };
}

/**
 * Two-proportion z-test of s1/n1 (baseline) against s2/n2 (candidate).
 * Null when a side has n = 0, or when the pooled standard error is 0, i.e. both sides are
 * all successes or all failures (no variance: nothing to test).
 * Throws a RangeError unless 0 ≤ s ≤ n on both sides.
 */
export function twoProportionZTest(
  s1: number,
  n1: number,
  s2: number,
  n2: number,
  confidence = 0.95,
): ProportionTest | null {
  checkCounts(s1, n1);
  checkCounts(s2, n2);
  checkConfidence(confidence);
  if (n1 === 0 || n2 === 0) return null;
  const p1 = s1 / n1;
  const p2 = s2 / n2;
  const pooled = (s1 + s2) / (n1 + n2);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (pooledSe === 0) return null;
  const difference = p2 - p1;
  const z = difference / pooledSe;
  const interval = newcombeInterval(s1, n1, s2, n2, confidence) as Interval;
  return {
    difference,
    low: interval.low,
    high: interval.high,
    z,
    pValue: 2 * normalCdf(-Math.abs(z), 0, 1),
  };
}

export interface MeanSample {
  n: number;
  mean: number;
  /** Sample variance (divisor n − 1). */
  variance: number;
}

/**
 * Normal-approximation interval of a mean, mean ± z·√(variance / n): fine for the
 * hundreds of outcomes a comparison needs, optimistic for a handful of skewed ones.
 * Null below two values.
 */
export function meanInterval(sample: MeanSample, confidence = 0.95): Interval | null {
  checkConfidence(confidence);
  if (sample.n < 2) return null;
  const half = zFor(confidence) * Math.sqrt(sample.variance / sample.n);
  return { estimate: sample.mean, low: sample.mean - half, high: sample.mean + half };
}

/**
 * Two-sample z-test of mean2 − mean1 with unpooled variances (Welch's statistic, read on
 * the normal: the samples here are large) and the matching interval. Null unless both
 * sides have two values or more and the standard error is above 0.
 */
export function meanDifferenceTest(
  first: MeanSample,
  second: MeanSample,
  confidence = 0.95,
): ProportionTest | null {
  checkConfidence(confidence);
  if (first.n < 2 || second.n < 2) return null;
  const se = Math.sqrt(first.variance / first.n + second.variance / second.n);
  if (!(se > 0)) return null;
  const difference = second.mean - first.mean;
  const z = difference / se;
  const half = zFor(confidence) * se;
  return {
    difference,
    low: difference - half,
    high: difference + half,
    z,
    pValue: 2 * normalCdf(-Math.abs(z), 0, 1),
  };
}

/**
 * P(X > x) for X ~ chi-square with df degrees of freedom: the upper regularized incomplete
 * gamma Q(df / 2, x / 2).
 */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0) || Number.isNaN(x)) {
    throw new RangeError(
      `chi-square needs df > 0 and a number, got x = ${x}, df = ${degreesOfFreedom}`,
    );
  }
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return gammainc(x / 2, degreesOfFreedom / 2, true, true);
}

export interface SampleRatioTest {
  /**
   * Pearson's statistic over the versions with a positive share. Traffic to versions
   * outside the split is not in it (its terms would be infinite): see `unexpected`.
   */
  chiSquare: number;
  /** Versions in the test (positive share, or traffic though their share is 0) − 1. */
  degreesOfFreedom: number;
  pValue: number;
  /** p below this means the split is not doing what it was configured to do. */
  threshold: number;
  mismatch: boolean;
  /** Versions that received traffic with a share of 0 (or none): each alone is a mismatch. */
  unexpected: string[];
}

export const SRM_THRESHOLD = 0.001;

/**
 * Sample-ratio mismatch: Pearson's chi-square goodness of fit of the observed counts per
 * version against the configured shares. Shares are relative weights ({v1: 90, v2: 10} and
 * {v1: 0.9, v2: 0.1} are the same split); they are normalized here.
 *
 * Traffic to a version whose share is 0 (or that is absent from the shares) cannot happen
 * under the configured split, so any is a mismatch outright: pValue = 0, listed in
 * `unexpected`. Versions with share 0 and no traffic are ignored.
 *
 * Null when there is no traffic, no version has a positive share, or fewer than two
 * versions take part (a one-version split cannot be mismatched, except by traffic
 * elsewhere). Throws a RangeError on a negative or non-finite count or share.
 */
export function sampleRatioMismatch(
  observed: Readonly<Record<string, number>>,
  expectedShares: Readonly<Record<string, number>>,
): SampleRatioTest | null {
  for (const [what, record] of [
    ['count', observed],
    ['share', expectedShares],
  ] as const) {
    for (const [version, value] of Object.entries(record)) {
      if (!(Number.isFinite(value) && value >= 0)) {
        throw new RangeError(`${what} of ${version} must be a finite number ≥ 0, got ${value}`);
      }
    }
  }
  const inSplit = Object.keys(expectedShares).filter((v) => (expectedShares[v] ?? 0) > 0);
  const unexpected = Object.keys(observed)
    .filter((v) => (observed[v] ?? 0) > 0 && !((expectedShares[v] ?? 0) > 0))
    .sort();
  const total = Object.values(observed).reduce((sum, n) => sum + n, 0);
  const weightTotal = inSplit.reduce((sum, v) => sum + (expectedShares[v] ?? 0), 0);
  const categories = inSplit.length + unexpected.length;
  if (total === 0 || inSplit.length === 0 || categories < 2) return null;

  let chiSquare = 0;
  for (const version of inSplit) {
    const expected = (total * (expectedShares[version] ?? 0)) / weightTotal;
    chiSquare += ((observed[version] ?? 0) - expected) ** 2 / expected;
  }
  const degreesOfFreedom = categories - 1;
  const pValue = unexpected.length > 0 ? 0 : chiSquareSurvival(chiSquare, degreesOfFreedom);
  return {
    chiSquare,
    degreesOfFreedom,
    pValue,
    threshold: SRM_THRESHOLD,
    mismatch: pValue < SRM_THRESHOLD,
    unexpected,
  };
}

/**
 * Nearest-rank percentiles (each p in 0–100) from bucket counts, in any order: for each p,
 * the value of the bucket holding the ⌈p/100 · N⌉-th smallest latency (p = 0: the
 * smallest). Since the bucket formula is monotonic, that is the bucket of the exact
 * nearest-rank percentile, so the result is within LATENCY_MAX_RELATIVE_ERROR (db/latency-buckets.ts) of it.
 * Null for every p when there are no counts. Throws a RangeError for p outside 0–100.
 */
export function percentilesFromBuckets(
  buckets: ReadonlyArray<{ bucket: number; count: number }>,
  percentiles: readonly number[],
): Array<number | null> {
  for (const p of percentiles) {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in 0–100, got ${p}`);
  }
  const sorted = buckets.filter((b) => b.count > 0).sort((a, b) => a.bucket - b.bucket);
  const total = sorted.reduce((sum, b) => sum + b.count, 0);
  return percentiles.map((p) => {
    if (total === 0) return null;
    // p · total first: exact for integers, so p = 57 of 100 is rank 57, not 58.
    const rank = Math.max(1, Math.ceil((p * total) / 100));
    let seen = 0;
    for (const { bucket, count } of sorted) {
      seen += count;
      if (seen >= rank) return latencyOfBucket(bucket);
    }
    // Unreachable: rank ≤ total. Kept so a floating-point surprise cannot return undefined.
    return latencyOfBucket((sorted.at(-1) as { bucket: number }).bucket);
  });
}
