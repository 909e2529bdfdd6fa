import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { logGamma } from './log-gamma.js';

/**
 * McNemar's exact test for paired labels (McNemar 1947): of the pairs where exactly one
 * of the two versions was right, `firstOnly` had only the first right and `secondOnly`
 * only the second. Under "equally accurate" each such pair is a fair coin, so the
 * two-sided p-value is min(1, 2·P(X ≤ min(firstOnly, secondOnly))) for X ~ Bin(firstOnly +
 * secondOnly, ½), summed exactly in log space (as scipy.stats.binomtest for p = ½). 1
 * when no pair disagrees.
 */
export function mcnemarExactPValue(firstOnly: number, secondOnly: number): number {
  if (
    !(
      Number.isInteger(firstOnly) &&
      Number.isInteger(secondOnly) &&
      firstOnly >= 0 &&
      secondOnly >= 0
    )
  ) {
    throw new RangeError(`McNemar needs two counts, got ${firstOnly} and ${secondOnly}`);
  }
  const n = firstOnly + secondOnly;
  const k = Math.min(firstOnly, secondOnly);
  if (n === 0 || 2 * k === n) return 1;
  const logChoose = (i: number) => logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/**
 * The difference of two accuracies measured on the same n labelled pairs, second − first
 * = (secondOnly − firstOnly) / n, and its large-sample interval for dependent proportions
 * (Agresti, "Categorical Data Analysis", 3rd ed., section 11.1): the variance is
 * ((b + c) − (c − b)² / n) / n² with b = firstOnly, c = secondOnly. Null without pairs.
 */
export function pairedDifferenceInterval(
  firstOnly: number,
  secondOnly: number,
  n: number,
  confidence = 0.95,
): { estimate: number; low: number; high: number } | null {
  if (n <= 0) return null;
  const estimate = (secondOnly - firstOnly) / n;
  const variance = (firstOnly + secondOnly - (secondOnly - firstOnly) ** 2 / n) / (n * n);
  const half = normalQuantile(1 - (1 - confidence) / 2, 0, 1) * Math.sqrt(Math.max(variance, 0));
  return { estimate, low: Math.max(-1, estimate - half), high: Math.min(1, estimate + half) };
}
